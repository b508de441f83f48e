"""MetadataStore contract: an expired event claim is taken over by exactly one of racing deliveries."""

from __future__ import annotations

import time

from dynastore.ports import MetadataStore
from support.concurrency import at_once


def test_an_expired_claim_is_taken_over_by_exactly_one_of_racing_claimers(store: MetadataStore) -> None:
    # GIVEN an event whose claim expired
    assert store.claim_event("evt-expired-race", ttl_seconds=0.2) is True
    time.sleep(0.4)
    # WHEN four deliveries of it claim it at once
    results = at_once(4, lambda _: store.claim_event("evt-expired-race", ttl_seconds=60))
    # THEN exactly one of them takes it over (indexes it); a later delivery is a duplicate
    assert sorted(results) == [False, False, False, True]
    assert store.claim_event("evt-expired-race", ttl_seconds=60) is False
