"""Jobs on the local backend through the TaskService: async/sync/dismiss, merge, failure, redelivery."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dynastore.bootstrap import Services
from dynastore.errors import Invalid, NotFound, PayloadTooLarge
from dynastore.services.assets import Scope

from .conftest import drain, upload, wait_for
from .files import write_geotiff, write_stations_csv


def test_async_execute_persists_the_job_before_answering_and_the_worker_runs_it(
    services: Services, catalog: str, tmp_path: Path
) -> None:
    # GIVEN a catalog-level GeoTIFF asset
    asset = upload(services, Scope(catalog), write_geotiff(tmp_path / "scene.tif"))

    # WHEN gdalinfo is executed without a mode (async-execute is the default)
    result = services.tasks.execute(Scope(catalog), asset["id"], "gdalinfo", {"inputs": {}}, mode=None, actor="alice")

    # THEN the job is accepted (it carries on), and it is already stored as accepted
    assert result.outcome == "accepted"
    job_id = result.job["id"]
    assert services.tasks.get_job(job_id)["status"] == "accepted"
    assert result.job["status"] == "accepted"

    # WHEN the queue delivers its message
    assert drain(services) == 1

    # THEN the job succeeded and the asset carries the raster fields
    job = services.tasks.get_job(job_id)
    assert job["status"] == "successful", job
    assert job["progress"] == 100 and job["runner"] is None and job["finished"]
    stored = services.adapters.store.get_asset(catalog, asset["id"])
    assert stored["proj:epsg"] == 32633 and stored["raster:bands"][0]["data_type"] == "uint16"
    assert services.tasks.results(job_id)["info"]["width"] == 64


def test_redelivery_of_a_finished_job_does_nothing(services: Services, catalog: str, tmp_path: Path) -> None:
    asset = upload(services, Scope(catalog), write_geotiff(tmp_path / "scene.tif"))
    job_id = services.tasks.execute(Scope(catalog), asset["id"], "checksum", {}, mode=None, actor="a").job["id"]
    drain(services)
    finished = services.tasks.get_job(job_id)
    asset_before = services.adapters.store.get_asset(catalog, asset["id"])

    services.tasks.handle_message({"kind": "job", "job_id": job_id})
    services.tasks.handle_message(b'{"job_id": "%s"}' % job_id.encode())

    assert services.tasks.get_job(job_id) == finished
    assert services.adapters.store.get_asset(catalog, asset["id"]) == asset_before


def test_seed_sync_execute_example_merges_asset_metadata(services: Services, catalog: str, tmp_path: Path) -> None:
    # GIVEN the seed's request body verbatim
    asset = upload(services, Scope(catalog), write_geotiff(tmp_path / "scene.tif"), description="original")
    body = {
        "inputs": {
            "asset_metadata": {
                "description": "Updated description from task execution",
                "properties": {"custom_field": "value"},
            },
            "other_task_param": "some_value",
        },
        "response": "document",
    }

    result = services.tasks.execute(Scope(catalog), asset["id"], "gdalinfo", body, mode="sync-execute", actor="bob")

    # THEN the run completed with its results, and the asset has both the task's fields and the explicit metadata
    assert result.outcome == "completed"
    assert result.results["kind"] == "raster" and result.results["info"]["driver"] == "GTiff"
    stored = services.adapters.store.get_asset(catalog, asset["id"])
    assert stored["description"] == "Updated description from task execution"
    assert stored["metadata"]["custom_field"] == "value"
    assert stored["proj:epsg"] == 32633
    # AND the audit trail records the merge with the job
    [event] = [
        e for e in services.adapters.store.list_audit(catalog, record_id=asset["id"]).items if e["action"] == "task"
    ]
    assert event["details"]["task_id"] == "gdalinfo" and event["details"]["job_id"] == result.job["id"]
    assert event["actor"] == "bob"


def test_explicit_asset_metadata_wins_over_task_results(services: Services, catalog: str, tmp_path: Path) -> None:
    asset = upload(services, Scope(catalog), write_geotiff(tmp_path / "scene.tif"))
    body = {
        "inputs": {"asset_metadata": {"proj:epsg": 4326, "metadata": {"a": {"b": 1}}, "properties": {"a": {"c": 2}}}}
    }
    services.tasks.execute(Scope(catalog), asset["id"], "gdalinfo", body, mode="sync-execute", actor="x")
    stored = services.adapters.store.get_asset(catalog, asset["id"])
    assert stored["proj:epsg"] == 4326  # explicit beats the task's 32633
    assert stored["proj:shape"] == [48, 64]  # the task's other fields still land
    assert stored["metadata"]["a"] == {"b": 1, "c": 2}  # deep merge


def test_asset_metadata_that_would_make_the_record_too_large_is_refused(
    services: Services, catalog: str, tmp_path: Path
) -> None:
    # GIVEN an asset and task inputs whose asset_metadata would grow its record past the cap
    asset = upload(services, Scope(catalog), write_geotiff(tmp_path / "scene.tif"))
    before = services.adapters.store.get_asset(catalog, asset["id"])
    limit = services.settings.max_record_bytes
    body = {"inputs": {"asset_metadata": {"properties": {"blob": "x" * (limit + 1)}}}}
    # WHEN the task is executed THEN the request is refused naming the limit, no job runs
    with pytest.raises(PayloadTooLarge, match=f"DYNASTORE_MAX_RECORD_BYTES allows {limit}"):
        services.tasks.execute(Scope(catalog), asset["id"], "gdalinfo", body, mode="sync-execute", actor="a")
    # AND the asset is unchanged
    assert services.adapters.store.get_asset(catalog, asset["id"]) == before


def test_a_raising_task_fails_the_job_and_leaves_the_asset_unchanged(
    services: Services, catalog: str, tmp_path: Path
) -> None:
    asset = upload(services, Scope(catalog), write_geotiff(tmp_path / "scene.tif"))
    before = services.adapters.store.get_asset(catalog, asset["id"])
    body = {"inputs": {"asset_metadata": {"description": "must not land"}}}

    job_id = services.tasks.execute(Scope(catalog), asset["id"], "boom", body, mode=None, actor="a").job["id"]
    drain(services)

    job = services.tasks.get_job(job_id)
    assert job["status"] == "failed"
    assert "the sensor file is corrupt" in job["message"]
    assert services.adapters.store.get_asset(catalog, asset["id"]) == before
    with pytest.raises(NotFound, match="failed"):
        services.tasks.results(job_id)


def test_sync_execute_of_a_raising_task_answers_an_error_naming_the_job(
    services: Services, catalog: str, tmp_path: Path
) -> None:
    junk = tmp_path / "notes.bin"
    junk.write_bytes(b"\x00\x01 not a raster at all")
    asset = upload(services, Scope(catalog), junk)
    before = services.adapters.store.get_asset(catalog, asset["id"])
    with pytest.raises(Invalid, match=r"job .* failed: .*neither a raster") as info:
        services.tasks.execute(Scope(catalog), asset["id"], "gdalinfo", {}, mode="sync-execute", actor="a")
    job = services.tasks.get_job(info.value.extra["job_id"])
    assert job["status"] == "failed"
    assert services.adapters.store.get_asset(catalog, asset["id"]) == before


def test_sync_execute_turns_into_a_job_after_the_timeout(
    services: Services, catalog: str, collection: str, tmp_path: Path
) -> None:
    services.settings.sync_execute_timeout_seconds = 0.2
    scope = Scope(catalog, collection)
    asset = upload(services, scope, write_stations_csv(tmp_path / "stations.csv"))
    body = {"inputs": {"steps": 20, "step_seconds": 0.05}}

    result = services.tasks.execute(scope, asset["id"], "slow", body, mode="sync-execute", actor="a")

    assert result.outcome == "accepted" and result.job["status"] in ("accepted", "running")
    job_id = result.job["id"]
    # it carries on in this process and finishes
    job = wait_for(lambda: (j := services.tasks.get_job(job_id))["status"] == "successful" and j, what="job done")
    assert job["outputs"] == {"steps": 20}
    # the delayed take-over message finds it finished and does nothing
    time.sleep(0.01)
    services.tasks.handle_message({"job_id": job_id})
    assert services.tasks.get_job(job_id)["rev"] == job["rev"]


def test_dismiss_stops_a_running_job_quickly_and_writes_nothing(
    services: Services, catalog: str, collection: str, tmp_path: Path
) -> None:
    import threading

    scope = Scope(catalog, collection)
    asset = upload(services, scope, write_stations_csv(tmp_path / "stations.csv"))
    before = services.adapters.store.get_asset(catalog, asset["id"])
    body = {"inputs": {"steps": 400, "step_seconds": 0.05, "asset_metadata": {"title": "must not land"}}}
    job_id = services.tasks.execute(scope, asset["id"], "slow", body, mode=None, actor="a").job["id"]
    worker = threading.Thread(target=drain, args=(services,), daemon=True)
    worker.start()
    wait_for(
        lambda: (
            services.tasks.get_job(job_id)["status"] == "running" and services.tasks.registry.get("slow").steps_done > 3  # type: ignore[attr-defined]
        ),
        what="job running",
    )

    dismissed_at = time.monotonic()
    doc = services.tasks.dismiss(job_id, actor="carol")
    assert doc["status"] == "dismissed"
    wait_for(lambda: services.tasks.get_job(job_id)["runner"] is None, timeout=2, what="the runner to stop")
    stopped_after = time.monotonic() - dismissed_at
    worker.join(5)

    job = services.tasks.get_job(job_id)
    assert job["status"] == "dismissed" and "carol" in job["message"]
    assert services.adapters.store.list_items(catalog, collection).items == []
    assert services.adapters.store.get_asset(catalog, asset["id"]) == before
    with pytest.raises(NotFound):
        services.adapters.store.get_asset(catalog, "slow-result")
    print(f"dismissed job stopped after {stopped_after:.2f}s")


def test_dismiss_mode_on_the_asset_path_and_a_dismissed_queued_job_never_runs(
    services: Services, catalog: str, collection: str, tmp_path: Path
) -> None:
    scope = Scope(catalog, collection)
    asset = upload(services, scope, write_stations_csv(tmp_path / "stations.csv"))
    job_id = services.tasks.execute(scope, asset["id"], "slow", {"inputs": {"steps": 2}}, mode=None, actor="a").job[
        "id"
    ]

    result = services.tasks.execute(scope, asset["id"], "slow", None, mode="dismiss", actor="a")

    assert result.outcome == "dismissed" and result.job["id"] == job_id and result.job["status"] == "dismissed"
    drain(services)
    assert services.tasks.get_job(job_id)["status"] == "dismissed"
    assert services.tasks.registry.get("slow").steps_done == 0  # type: ignore[attr-defined]
    with pytest.raises(NotFound, match="no accepted or running"):
        services.tasks.execute(scope, asset["id"], "slow", None, mode="dismiss", actor="a")


def test_bad_requests_are_rejected_before_any_job_exists(services: Services, catalog: str, tmp_path: Path) -> None:
    asset = upload(services, Scope(catalog), write_geotiff(tmp_path / "scene.tif"))
    cases = [
        ("gdalinfo", {"inputs": {"update_asset": "yes please"}}, None, "inputs.update_asset"),
        ("gdalinfo", {"inputs": {"asset_metadata": {"id": "other"}}}, None, "cannot set id"),
        ("gdalinfo", {"inputs": {"asset_metadata": {"roles": "not-a-list"}}}, None, "roles"),
        ("gdalinfo", {"inputs": []}, None, "inputs is a JSON object"),
        ("gdalinfo", {"input": {}}, None, "unknown execute body members"),
        ("gdalinfo", {}, "fast", "mode 'fast'"),
        ("ingestion", {}, None, "needs a collection"),
    ]
    for task_id, body, mode, message in cases:
        with pytest.raises(Invalid, match=message):
            services.tasks.execute(Scope(catalog), asset["id"], task_id, body, mode=mode, actor="a")
            drain(services)
            raise AssertionError(services.tasks.list_jobs(filters={}).items[0])
    with pytest.raises(NotFound, match="task 'nope'"):
        services.tasks.execute(Scope(catalog), asset["id"], "nope", {}, mode=None, actor="a")
    with pytest.raises(NotFound):
        services.tasks.execute(Scope(catalog, "elsewhere"), asset["id"], "gdalinfo", {}, mode=None, actor="a")
    assert services.tasks.list_jobs(filters={}).items == []


def test_ingestion_with_one_invalid_row_writes_no_item(
    services: Services, catalog: str, collection: str, tmp_path: Path
) -> None:
    # GIVEN a CSV whose third row breaks STAC common metadata (gsd must be > 0)
    path = tmp_path / "gsd.csv"
    path.write_text("id,lon,lat,gsd\na,1,2,10\nb,3,4,20\nc,5,6,0\nd,7,8,30\n")
    asset = upload(services, Scope(catalog, collection), path)

    # WHEN it is ingested
    job_id = services.tasks.execute(Scope(catalog, collection), asset["id"], "ingestion", {}, mode=None, actor="a")
    drain(services)

    # THEN the job failed naming the problem, and no item of the file was written
    job = services.tasks.get_job(job_id.job["id"])
    assert job["status"] == "failed" and "gsd" in job["message"], job
    assert services.adapters.store.list_items(catalog, collection).items == []


def test_ingestion_updates_existing_items_and_keeps_their_created_time(
    services: Services, catalog: str, collection: str, tmp_path: Path
) -> None:
    scope = Scope(catalog, collection)
    asset = upload(services, scope, write_stations_csv(tmp_path / "stations.csv"))
    body = {"inputs": {"ingestion_request": {"column_mapping": {"id": "station_id", "datetime": "observed"}}}}
    services.tasks.execute(scope, asset["id"], "ingestion", body, mode="sync-execute", actor="a")
    first = services.adapters.store.get_item(catalog, collection, "st-1")

    result = services.tasks.execute(scope, asset["id"], "ingestion", body, mode="sync-execute", actor="a")

    assert result.outcome == "completed" and result.results["items"] == 3
    again = services.adapters.store.get_item(catalog, collection, "st-1")
    assert again["properties"]["created"] == first["properties"]["created"]
    assert again["rev"] == first["rev"] + 1
    assert len(services.adapters.store.list_items(catalog, collection).items) == 3
    events = services.adapters.store.list_audit(catalog, record_type="item", record_id="st-1").items
    assert [e["action"] for e in events] == ["replace", "create"]


def test_ingestion_creates_a_missing_collection_in_another_catalog(
    services: Services, catalog: str, collection: str, tmp_path: Path
) -> None:
    services.catalogs.create({"id": "target"}, actor="test")
    scope = Scope(catalog, collection)
    asset = upload(services, scope, write_stations_csv(tmp_path / "stations.csv"))
    body = {"inputs": {"catalog_id": "target", "collection_id": "stations", "ingestion_request": {}}}

    result = services.tasks.execute(scope, asset["id"], "ingestion", body, mode="sync-execute", actor="a")

    assert result.results["collection_created"] is True
    assert services.adapters.store.get_collection("target", "stations")["id"] == "stations"
    assert len(services.adapters.store.list_items("target", "stations").items) == 3


def test_convert_job_writes_a_new_linked_asset_and_its_file(
    services: Services, catalog: str, collection: str, tmp_path: Path
) -> None:
    scope = Scope(catalog, collection)
    source = upload(services, scope, write_stations_csv(tmp_path / "stations.csv"))
    body = {"inputs": {"format": "geoparquet", "column_mapping": {"id": "station_id"}}}

    result = services.tasks.execute(scope, source["id"], "convert", body, mode="sync-execute", actor="a")

    assert result.outcome == "completed"
    new = services.assets.get(scope, result.results["asset_id"])
    assert new["href"].endswith("/demo/obs/stations.parquet") and new["type"] == "application/vnd.apache.parquet"
    assert new["metadata"]["derived_from"]["asset_id"] == source["id"]
    assert services.adapters.blobs.stat(result.results["key"]).size == new["file:size"]
    # the same conversion again is refused rather than silently replacing the result
    with pytest.raises(Invalid, match="exists already"):
        services.tasks.execute(scope, source["id"], "convert", body, mode="sync-execute", actor="a")


def test_checksum_job_flags_a_file_changed_behind_the_services_back(
    services: Services, catalog: str, tmp_path: Path
) -> None:
    asset = upload(services, Scope(catalog), write_geotiff(tmp_path / "scene.tif"))
    key = asset["storage"]["key"]
    services.adapters.blobs.put(key, b"tampered bytes")

    result = services.tasks.execute(Scope(catalog), asset["id"], "checksum", {}, mode="sync-execute", actor="a")

    assert result.results["mismatch"] is True and result.results["file:size"] == len(b"tampered bytes")
    stored = services.adapters.store.get_asset(catalog, asset["id"])
    assert stored["file:size"] == len(b"tampered bytes")
    assert stored["metadata"]["integrity"]["previous_checksum"] == asset["file:checksum"]


def test_large_results_go_to_the_blob_store_and_are_linked(
    services: Services, catalog: str, collection: str, tmp_path: Path
) -> None:
    services.settings.job_inline_results_bytes = 1024
    rows = [(f"id-{n}", "x", 1.0, 2.0, "2024-01-01T00:00:00Z", n) for n in range(300)]
    asset = upload(services, Scope(catalog, collection), write_stations_csv(tmp_path / "many.csv", rows))
    body = {"inputs": {"ingestion_request": {"column_mapping": {"id": "station_id"}}}}

    result = services.tasks.execute(
        Scope(catalog, collection), asset["id"], "ingestion", body, mode="sync-execute", actor="a"
    )

    job = services.tasks.get_job(result.job["id"])
    assert job["results_href"] and job["outputs"]["item_ids"] == {"count": 300, "stored": "results_href"}
    assert len(result.results["item_ids"]) == 300
    assert services.tasks.results(job["id"])["item_ids"][-1] == "id-299"
    # dismissing the finished job forgets its results, blob included
    services.tasks.dismiss(job["id"], actor="a")
    key = services.adapters.blobs.key_for_href(job["results_href"])
    assert key is not None
    with pytest.raises(NotFound):
        services.adapters.blobs.stat(key)


def test_a_job_whose_runner_died_is_taken_over(services: Services, catalog: str, tmp_path: Path) -> None:
    from dynastore.domain import time as dtime

    asset = upload(services, Scope(catalog), write_geotiff(tmp_path / "scene.tif"))
    job_id = services.tasks.execute(Scope(catalog), asset["id"], "checksum", {}, mode=None, actor="a").job["id"]
    # a runner on another machine claimed it and went silent long ago
    services.tasks.records.update(
        job_id,
        lambda d: {
            **d,
            "status": "running",
            "runner": "elsewhere:1:dead",
            "heartbeat": "2020-01-01T00:00:00.000000Z",
            "attempts": 1,
        },
    )
    drain(services)
    job = services.tasks.get_job(job_id)
    assert job["status"] == "successful" and job["attempts"] == 2

    # a live runner elsewhere (fresh heartbeat) is left alone; the message is re-queued to check later
    job_id = services.tasks.execute(Scope(catalog), asset["id"], "checksum", {}, mode=None, actor="a").job["id"]
    services.tasks.records.update(
        job_id, lambda d: {**d, "status": "running", "runner": "elsewhere:2:live", "heartbeat": dtime.now_iso()}
    )
    drain(services)
    assert services.tasks.get_job(job_id)["runner"] == "elsewhere:2:live"
    queued = services.adapters.queue.db.query(  # type: ignore[attr-defined]
        "SELECT dedup_key FROM task_queue WHERE state = 'ready'"
    )
    assert [row[0] for row in queued] == [f"{job_id}:watch:1"]


def test_a_job_applying_its_results_can_no_longer_be_dismissed(
    services: Services, catalog: str, tmp_path: Path
) -> None:
    from dynastore.errors import Conflict

    asset = upload(services, Scope(catalog), write_geotiff(tmp_path / "scene.tif"))
    job_id = services.tasks.execute(Scope(catalog), asset["id"], "checksum", {}, mode=None, actor="a").job["id"]
    services.tasks.records.update(
        job_id, lambda d: {**d, "status": "running", "runner": "elsewhere:1:x", "committing": True}
    )
    with pytest.raises(Conflict, match="applying its results"):
        services.tasks.dismiss(job_id, actor="a")
    assert services.tasks.get_job(job_id)["status"] == "running"
