"""MetadataStore contract: an expired event claim is taken over by exactly one of racing deliveries."""

from __future__ import annotations

import threading
import time

from dynastore.ports import MetadataStore


def test_an_expired_claim_is_taken_over_by_exactly_one_of_racing_claimers(store: MetadataStore) -> None:
    # GIVEN an event whose claim expired
    assert store.claim_event("evt-expired-race", ttl_seconds=0.2) is True
    time.sleep(0.4)
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def claim() -> None:
        barrier.wait()
        results.append(store.claim_event("evt-expired-race", ttl_seconds=60))

    # WHEN four deliveries of it claim it at once
    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN exactly one of them takes it over (indexes it); a later delivery is a duplicate
    assert sorted(results) == [False, False, False, True]
    assert store.claim_event("evt-expired-race", ttl_seconds=60) is False
