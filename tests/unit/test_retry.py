"""``retry_on_conflict``: one loop for read-decide-write steps that lose a race."""

from __future__ import annotations

import pytest

from dynastore.domain.retry import retry_on_conflict
from dynastore.errors import Conflict, Invalid, Unavailable


class Racing:
    """A step that loses the race ``losses`` times, then writes."""

    def __init__(self, losses: int, error: Exception | None = None) -> None:
        self.losses = losses
        self.calls = 0
        self.error = error or Conflict("changed since read")

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.losses:
            raise self.error
        return "written"


def test_a_step_that_loses_a_few_races_runs_again_until_it_lands() -> None:
    step = Racing(losses=3)
    assert retry_on_conflict(step, attempts=5) == "written"
    assert step.calls == 4


def test_out_of_attempts_it_answers_unavailable_with_the_message_given() -> None:
    step = Racing(losses=10)
    with pytest.raises(Unavailable, match="job 'j' kept changing") as caught:
        retry_on_conflict(step, attempts=3, exhausted="job 'j' kept changing")
    assert step.calls == 3
    assert isinstance(caught.value.__cause__, Conflict)


def test_without_a_message_the_last_conflict_itself_comes_out() -> None:
    step = Racing(losses=10)
    with pytest.raises(Conflict, match="changed since read"):
        retry_on_conflict(step, attempts=2)
    assert step.calls == 2


def test_other_errors_are_not_retried() -> None:
    step = Racing(losses=10, error=Invalid("bad input"))
    with pytest.raises(Invalid):
        retry_on_conflict(step, attempts=5)
    assert step.calls == 1


def test_a_store_can_retry_on_its_own_changed_signal_and_let_conflicts_through() -> None:
    class Changed(Exception):
        pass

    assert retry_on_conflict(Racing(losses=2, error=Changed()), attempts=3, retry_on=(Changed,)) == "written"
    stale = Racing(losses=1)  # a stale revision is the caller's answer, not a race to retry
    with pytest.raises(Conflict):
        retry_on_conflict(stale, attempts=3, retry_on=(Changed,))
    assert stale.calls == 1


def test_it_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError):
        retry_on_conflict(Racing(losses=0), attempts=0)
