"""Job records on every backend: what the task service relies on beyond plain get/put/list.

Compare-and-set updates from racing writers (a dismissal against heartbeats) never lose a change,
the execution fields round-trip, and the list filters combine.
"""

from __future__ import annotations

import threading

from dynastore.adapters import Adapters
from dynastore.config import Settings
from dynastore.domain.job import Job
from dynastore.services.jobs import JobRecords, JobResults


def records(adapters: Adapters) -> JobRecords:
    return JobRecords(adapters.store)


def test_racing_compare_and_set_updates_lose_nothing(adapters: Adapters) -> None:
    jobs = records(adapters)
    job = jobs.create(Job(task_id="checksum", catalog_id="demo", asset_id="a1", inputs={"n": 0}))

    def bump(times: int) -> None:
        for _ in range(times):
            jobs.update(job["id"], lambda d: {**d, "inputs": {"n": d["inputs"]["n"] + 1}})

    threads = [threading.Thread(target=bump, args=(10,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    final = jobs.get(job["id"])
    assert final["inputs"]["n"] == 20
    assert final["rev"] == 21


def test_an_update_that_declines_writes_nothing(adapters: Adapters) -> None:
    jobs = records(adapters)
    job = jobs.create(Job(task_id="checksum", catalog_id="demo"))
    assert jobs.update(job["id"], lambda d: None) is None
    assert jobs.get(job["id"]) == job


def test_execution_fields_round_trip(adapters: Adapters) -> None:
    jobs = records(adapters)
    job = Job(
        task_id="gdalinfo",
        catalog_id="demo",
        asset_id="scene",
        collection_id="s2",
        item_id="scene-1",
        inputs={"asset_metadata": {"properties": {"a": [1, 2, {"b": None}]}}},
        mode="sync-execute",
        runner="host:1:abc",
        heartbeat="2024-01-01T00:00:00.000000Z",
        committing=True,
        status="running",
        progress=42,
    )
    stored = jobs.create(job)
    fetched = jobs.get(job.id)
    assert fetched == stored
    assert Job.model_validate(fetched).model_dump() == {**job.model_dump(), "rev": 1}


def test_filters_combine(adapters: Adapters) -> None:
    jobs = records(adapters)
    made = {}
    for catalog_id in ("c1", "c2"):
        for task_id in ("checksum", "gdalinfo"):
            for status in ("accepted", "successful"):
                doc = jobs.create(Job(task_id=task_id, catalog_id=catalog_id, asset_id="a", status=status))  # type: ignore[arg-type]
                made[(catalog_id, task_id, status)] = doc["id"]
    page = jobs.list(filters={"catalog_id": "c2", "task_id": "gdalinfo", "status": "accepted"}, limit=10, token=None)
    assert [d["id"] for d in page.items] == [made[("c2", "gdalinfo", "accepted")]]
    page = jobs.list(filters={"asset_id": "a", "status": "successful"}, limit=10, token=None)
    assert len(page.items) == 4


def test_large_results_live_in_the_blob_store(adapters: Adapters) -> None:
    results = JobResults(adapters.blobs, Settings(job_inline_results_bytes=1024))
    outputs = {"item_ids": [f"item-{n}" for n in range(500)], "items": 500}
    packed = results.pack("job-1", outputs)
    assert packed["results_href"] and packed["outputs"] == {
        "item_ids": {"count": 500, "stored": "results_href"},
        "items": 500,
    }
    assert results.load({"id": "job-1", **packed}) == outputs
    results.delete({"id": "job-1", **packed})
    small = results.pack("job-2", {"ok": True})
    assert small == {"outputs": {"ok": True}, "results_href": None}
