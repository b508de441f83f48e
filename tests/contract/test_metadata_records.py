"""MetadataStore contract: ingest state (event claims, ingest records), jobs, catalog purge."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from dynastore.errors import Conflict, Invalid, NotFound
from dynastore.ports import IngestRecord, MetadataStore
from support.concurrency import at_once
from support.paging import all_items

from .helpers import asset_doc, audit, collection_doc, item_doc, job_doc, seed_catalog, write_new


def test_claim_event_once_within_its_ttl(store: MetadataStore) -> None:
    # GIVEN an event claimed once
    assert store.claim_event("evt-1", ttl_seconds=60) is True
    # THEN claiming it again is refused, other events are independent
    assert store.claim_event("evt-1", ttl_seconds=60) is False
    assert store.claim_event("evt-2", ttl_seconds=60) is True


def test_claim_event_again_after_the_ttl(store: MetadataStore) -> None:
    assert store.claim_event("evt-short", ttl_seconds=1.0) is True
    assert store.claim_event("evt-short", ttl_seconds=1.0) is False
    time.sleep(1.3)
    assert store.claim_event("evt-short", ttl_seconds=30) is True
    assert store.claim_event("evt-short", ttl_seconds=30) is False


def test_concurrent_claims_of_one_event_have_one_winner(store: MetadataStore) -> None:
    results = at_once(6, lambda _: store.claim_event("evt-race", ttl_seconds=60))
    assert sorted(results) == [False] * 5 + [True]


def test_ingest_records_are_upserted_by_bucket_and_key(store: MetadataStore) -> None:
    with pytest.raises(NotFound):
        store.get_ingest_record("bucket-a", "demo/a.tif")
    first = IngestRecord(
        bucket="bucket-a",
        key="demo/a.tif",
        status="failed",
        at="2024-01-01T00:00:00.000000Z",
        catalog_id="demo",
        error="boom",
        generation="1",
    )
    store.put_ingest_record(first)
    assert store.get_ingest_record("bucket-a", "demo/a.tif") == first
    # the same key indexed later replaces the failure
    second = replace(
        first, status="indexed", at="2024-01-02T00:00:00.000000Z", error=None, asset_id="a.tif", generation="2"
    )
    store.put_ingest_record(second)
    assert store.get_ingest_record("bucket-a", "demo/a.tif") == second
    with pytest.raises(NotFound):
        store.get_ingest_record("bucket-b", "demo/a.tif")


def test_jobs_revisions_and_newest_first_listing(store: MetadataStore) -> None:
    jobs = []
    for n in range(7):
        doc = job_doc(
            "demo" if n % 2 else "other",
            task_id="checksum" if n < 4 else "gdalinfo",
            asset_id=f"a{n}",
            created=f"2024-01-0{n + 1}T00:00:00.000000Z",
        )
        jobs.append(store.put_job(doc, expect_rev=0))
    assert jobs[0]["rev"] == 1
    assert store.get_job(jobs[0]["id"]) == jobs[0]
    with pytest.raises(Conflict):
        store.put_job(jobs[0], expect_rev=0)
    running = store.put_job({**jobs[0], "status": "running"}, expect_rev=1)
    assert running["rev"] == 2
    with pytest.raises(Conflict):
        store.put_job({**jobs[0], "status": "failed"}, expect_rev=1)
    with pytest.raises(NotFound):
        store.get_job("no-such-job")
    # newest first, paged
    seen = [j["id"] for j in all_items(lambda token: store.list_jobs(limit=3, token=token))]
    assert seen == [j["id"] for j in reversed(jobs)]
    # filters
    assert [j["id"] for j in store.list_jobs(filters={"catalog_id": "demo"}).items] == [
        j["id"] for j in reversed(jobs) if j["catalog_id"] == "demo"
    ]
    assert [j["id"] for j in store.list_jobs(filters={"status": "running"}).items] == [jobs[0]["id"]]
    assert [j["id"] for j in store.list_jobs(filters={"task_id": "gdalinfo", "asset_id": "a5"}).items] == [
        jobs[5]["id"]
    ]
    with pytest.raises(Invalid):
        store.list_jobs(filters={"colour": "blue"})


def _populate(store: MetadataStore, catalog_id: str) -> None:
    seed_catalog(store, catalog_id)
    store.put_collection(catalog_id, collection_doc("s2"), expect_rev=0, audit=audit(catalog_id, "collection", "s2"))
    for n in range(4):
        store.put_item(catalog_id, item_doc("s2", f"i{n}"), expect_rev=0, audit=audit(catalog_id, "item"))
    write_new(store, *(asset_doc(catalog_id, f"a{n}", collection_id="s2", item_id=f"i{n % 4}") for n in range(25)))
    store.put_ingest_record(
        IngestRecord(bucket="b", key=f"{catalog_id}/x", status="indexed", at="t", catalog_id=catalog_id)
    )
    store.put_job(job_doc(catalog_id), expect_rev=0)


def test_purge_catalog_in_resumable_batches(store: MetadataStore) -> None:
    # GIVEN two catalogs with every kind of record
    _populate(store, "gone")
    _populate(store, "kept")
    # WHEN the first is purged in small batches (each call is a step that can be resumed)
    steps = []
    while (count := store.purge_catalog("gone", batch_size=7)) != 0:
        assert 0 < count <= 7
        steps.append(count)
    # THEN all its records are gone and the other catalog is untouched
    assert len(steps) > 3
    with pytest.raises(NotFound):
        store.get_catalog("gone")
    with pytest.raises(NotFound):
        store.get_collection("gone", "s2")
    with pytest.raises(NotFound):
        store.get_item("gone", "s2", "i0")
    with pytest.raises(NotFound):
        store.get_ingest_record("b", "gone/x")
    assert store.get_assets("gone", [f"a{n}" for n in range(25)]) == []
    assert store.list_audit("gone").items == []
    assert store.list_jobs(filters={"catalog_id": "gone"}).items == []
    assert store.purge_catalog("gone") == 0
    assert store.get_catalog("kept")["id"] == "kept"
    assert len(store.get_assets("kept", [f"a{n}" for n in range(25)])) == 25
    assert store.get_item("kept", "s2", "i3")["id"] == "i3"
    assert len(store.list_jobs(filters={"catalog_id": "kept"}).items) == 1
    assert store.list_audit("kept").items


def test_purge_resumes_after_an_interruption(store: MetadataStore) -> None:
    _populate(store, "gone")
    assert store.purge_catalog("gone", batch_size=10) == 10
    # a new process (or a retried scheduled run) simply calls again until 0
    total = 10
    while (count := store.purge_catalog("gone", batch_size=1000)) != 0:
        total += count
    with pytest.raises(NotFound):
        store.get_catalog("gone")
    assert total >= 25 + 4 + 1 + 1 + 1
