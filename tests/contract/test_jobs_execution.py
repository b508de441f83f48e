"""Task execution on every backend: a job goes through the backend's queue and store and back.

The queue's messages are handed to ``TaskService.handle_message`` exactly as the local worker and
GCP's ``run_task`` target do.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dynastore.bootstrap import Services, bootstrap
from dynastore.config import Settings
from dynastore.services.assets import Scope, UploadBuffer

from .conftest import Backend
from .helpers import collection_doc

CSV = (
    b"station_id,name,lon,lat,observed\n"
    b"st-1,Alpha,12.5,41.9,2024-03-01T10:00:00Z\n"
    b"st-2,Bravo,9.19,45.46,2024-03-02T10:00:00Z\n"
)


@pytest.fixture
def services(backend: Backend, tmp_path: Path) -> Iterator[Services]:
    settings = Settings(
        data_dir=tmp_path / "unused", watch_bucket=False, worker_threads=0, job_inline_results_bytes=1024
    )
    built = bootstrap(settings, adapters=backend.adapters)
    yield built
    built.tasks.shutdown()


@pytest.fixture
def csv_asset(services: Services) -> dict:
    services.catalogs.create({"id": "jobs"}, actor="test")
    services.stac.create_collection("jobs", collection_doc("obs", description="observations"), actor="test")
    buffer = UploadBuffer(1024 * 1024)
    buffer.write(CSV)
    return services.assets.upload(
        Scope("jobs", "obs"), filename="stations.csv", data=buffer, content_type="text/csv", metadata={}, actor="test"
    )


def deliver_all(backend: Backend, services: Services, catalog_id: str) -> int:
    messages = backend.deliver(services.tasks.queue_name(catalog_id))
    for message in messages:
        services.tasks.handle_message(message)
    return len(messages)


def test_an_async_job_runs_from_its_queue_message(backend: Backend, services: Services, csv_asset: dict) -> None:
    body = {"inputs": {"ingestion_request": {"column_mapping": {"id": "station_id", "datetime": "observed"}}}}
    result = services.tasks.execute(Scope("jobs", "obs"), csv_asset["id"], "ingestion", body, mode=None, actor="t")
    job_id = result.job["id"]
    assert result.outcome == "accepted" and services.tasks.get_job(job_id)["status"] == "accepted"

    assert deliver_all(backend, services, "jobs") == 1

    job = services.tasks.get_job(job_id)
    assert job["status"] == "successful", job
    assert sorted(i["id"] for i in services.adapters.store.list_items("jobs", "obs").items) == ["st-1", "st-2"]
    assert services.tasks.results(job_id)["items"] == 2

    # at-least-once: the same message again changes nothing
    services.tasks.handle_message({"kind": "job", "job_id": job_id, "catalog_id": "jobs"})
    assert services.tasks.get_job(job_id) == job
    assert deliver_all(backend, services, "jobs") == 0


def test_a_dismissed_queued_job_never_runs(backend: Backend, services: Services, csv_asset: dict) -> None:
    scope = Scope("jobs", "obs")
    job_id = services.tasks.execute(scope, csv_asset["id"], "ingestion", {}, mode=None, actor="t").job["id"]
    services.tasks.dismiss(job_id, actor="t")
    deliver_all(backend, services, "jobs")
    assert services.tasks.get_job(job_id)["status"] == "dismissed"
    assert services.adapters.store.list_items("jobs", "obs").items == []


def test_sync_execute_merges_metadata_and_links_large_results(services: Services, csv_asset: dict) -> None:
    scope = Scope("jobs", "obs")
    body = {"inputs": {"asset_metadata": {"description": "checked", "properties": {"k": "v"}}}}
    result = services.tasks.execute(scope, csv_asset["id"], "checksum", body, mode="sync-execute", actor="t")
    assert result.outcome == "completed" and result.results["mismatch"] is False
    stored = services.adapters.store.get_asset("jobs", csv_asset["id"])
    assert stored["description"] == "checked" and stored["metadata"]["k"] == "v"

    rows = b"".join(b"r%d,n,1.0,2.0,2024-01-01T00:00:00Z\n" % n for n in range(200))
    services.adapters.blobs.put(csv_asset["storage"]["key"], CSV.split(b"\n")[0] + b"\n" + rows)
    ingest = {"inputs": {"ingestion_request": {"column_mapping": {"id": "station_id"}}}}
    result = services.tasks.execute(scope, csv_asset["id"], "ingestion", ingest, mode="sync-execute", actor="t")
    job = services.tasks.get_job(result.job["id"])
    assert job["results_href"], "results over the inline limit are stored as a blob"
    assert len(services.tasks.results(job["id"])["item_ids"]) == 200
