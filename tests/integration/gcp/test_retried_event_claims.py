"""The Firestore SDK re-sends a commit whose answer it did not get (UNAVAILABLE, RESOURCE_EXHAUSTED:
the commit's default retry). An event claim whose first send went through then fails its own
condition (the document exists, or changed since it was read): the claim must answer as the win it
was, or the event is skipped as a duplicate although nobody indexed it."""

from __future__ import annotations

import time
from typing import Any

import pytest
from google.api_core import exceptions as gexc

pytestmark = pytest.mark.gcp


def _lose_first_commit_answer(store: Any) -> list[int]:
    """The first commit that goes through answers UNAVAILABLE (its answer lost), so the SDK's own
    retry sends it again; counts the sends of the commit RPC."""
    api = store.db._firestore_api
    wrapped = api._transport._wrapped_methods[api._transport.commit]  # the RPC with the SDK's retry
    real = wrapped._target
    sends: list[int] = []
    lost: list[int] = []

    def commit(*args: Any, **kwargs: Any) -> Any:
        sends.append(1)
        answer = real(*args, **kwargs)
        if not lost:
            lost.append(1)
            raise gexc.ServiceUnavailable("the commit went through; its answer was lost")
        return answer

    wrapped._target = commit
    return sends


def test_a_first_claim_whose_answer_is_lost_answers_claimed(gcp: Any) -> None:
    # GIVEN a Firestore whose first commit that goes through answers UNAVAILABLE
    store = gcp.adapters.store
    sends = _lose_first_commit_answer(store)
    # WHEN an event is claimed for the first time
    claimed = store.claim_event("evt-lost", ttl_seconds=60)
    # THEN the SDK sent the create twice, and the claim is this delivery's (index it)
    assert len(sends) >= 2 and claimed is True
    # AND a genuine second delivery is still a duplicate
    assert store.claim_event("evt-lost", ttl_seconds=60) is False


def test_an_expired_claim_taken_over_with_a_lost_answer_answers_claimed(gcp: Any) -> None:
    # GIVEN an expired claim, and a Firestore whose next commit that goes through answers UNAVAILABLE
    store = gcp.adapters.store
    assert store.claim_event("evt-expired", ttl_seconds=0.2) is True
    time.sleep(0.4)
    sends = _lose_first_commit_answer(store)
    # WHEN the event is delivered again and takes the claim over
    claimed = store.claim_event("evt-expired", ttl_seconds=60)
    # THEN the takeover was sent twice and answers claimed; the next delivery is a duplicate
    assert len(sends) >= 2 and claimed is True
    assert store.claim_event("evt-expired", ttl_seconds=60) is False
