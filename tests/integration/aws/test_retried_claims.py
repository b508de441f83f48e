"""botocore re-sends a request whose answer it did not get (a timeout, a 5xx) with the same parameters.
A claim's conditional PutItem (event dedup, task dedup) whose first send was applied then fails its
own condition: the claim must answer as the win it was, or the event is skipped as a duplicate
(the task is never sent) although nobody handled it. moto ignores botocore's idempotency token."""

from __future__ import annotations

import time
from typing import Any

import pytest

pytestmark = pytest.mark.aws


def _resend_first_applied_put(client: Any) -> list[int]:
    """botocore sends the first PutItem that succeeds a second time (as if its answer was lost);
    counts the sends of PutItem."""
    sends: list[int] = []
    resent: list[int] = []

    def needs_retry(response: Any = None, **_: Any) -> int | None:
        sends.append(1)
        applied = response is not None and response[0].status_code == 200
        if applied and not resent:
            resent.append(1)
            return 0  # send again at once
        return None  # let botocore decide

    client.meta.events.register_first("needs-retry.dynamodb.PutItem", needs_retry)
    return sends


def test_a_first_claim_botocore_sends_twice_answers_claimed(aws: Any) -> None:
    # GIVEN a client that sends the next applied PutItem a second time
    store = aws.adapters.store
    sends = _resend_first_applied_put(store.client)
    # WHEN an event is claimed for the first time
    claimed = store.claim_event("evt-lost", ttl_seconds=60)
    # THEN the put was sent twice, and the claim is this delivery's (index it)
    assert len(sends) >= 2 and claimed is True
    # AND a genuine second delivery is still a duplicate
    assert store.claim_event("evt-lost", ttl_seconds=60) is False


def test_an_expired_claim_taken_over_by_a_put_sent_twice_answers_claimed(aws: Any) -> None:
    # GIVEN an expired claim, and a client that sends the next applied PutItem a second time
    store = aws.adapters.store
    assert store.claim_event("evt-expired", ttl_seconds=0.2) is True
    time.sleep(0.4)
    sends = _resend_first_applied_put(store.client)
    # WHEN the event is delivered again and takes the claim over
    claimed = store.claim_event("evt-expired", ttl_seconds=60)
    # THEN the takeover was sent twice and answers claimed; the next delivery is a duplicate
    assert len(sends) >= 2 and claimed is True
    assert store.claim_event("evt-expired", ttl_seconds=60) is False


def test_a_task_dedup_claim_botocore_sends_twice_still_sends_the_task(aws: Any) -> None:
    # GIVEN a client that sends the next applied PutItem (the dedup claim) a second time
    sends = _resend_first_applied_put(aws.adapters.store.client)
    # WHEN a deduplicated task is enqueued
    aws.adapters.queue.enqueue("q", {"n": 1}, dedup_key="k1")
    # THEN the claim was sent twice, and the task was still sent (not taken for its own duplicate)
    assert len(sends) >= 2
    assert [task["n"] for task in aws.deliver("q")] == [1]
