"""Tasks and jobs over real HTTP (uvicorn on a free port, the in-process worker running).

Covers the seed 000 examples verbatim, the three asset-level execute paths, Prefer: respond-async,
job listing/filters/results, and dismissal through DELETE /assets/jobs/{id}.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dynastore.api.app import create_app
from dynastore.bootstrap import Services, bootstrap
from dynastore.services.assets import Scope
from support.stac_docs import collection_doc

from .conftest import BoomTask, SlowTask, task_settings, upload, wait_for
from .files import write_geotiff, write_stations_csv

EDITOR, READER = "task-editor-key", "task-reader-key"


class Server:
    def __init__(self, base_url: str, services: Services) -> None:
        self.base_url = base_url
        self.services = services
        self.editor = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {EDITOR}"}, timeout=30)
        self.reader = httpx.Client(base_url=base_url, headers={"X-API-Key": READER}, timeout=30)

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.reader.get(f"/assets/jobs/{job_id}")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def wait_status(self, job_id: str, *statuses: str, timeout: float = 20) -> dict[str, Any]:
        return wait_for(  # type: ignore[no-any-return]
            lambda: (doc := self.job(job_id))["status"] in statuses and doc, timeout=timeout, what=f"job in {statuses}"
        )


@pytest.fixture(scope="module")
def server(serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    keys = f"{EDITOR}:editor,{READER}:reader"
    settings = task_settings(tmp_path_factory.mktemp("tasks-api"), api_keys=keys, worker_threads=2)
    services = bootstrap(settings)
    services.tasks.registry.register(SlowTask())
    services.tasks.registry.register(BoomTask())
    app = create_app(services, run_background=True)
    with serve(app) as base_url:
        yield Server(base_url, services)


@pytest.fixture
def catalog(server: Server, request: pytest.FixtureRequest) -> str:
    catalog_id = f"c{abs(hash(request.node.name)) % 10**8}"
    response = server.editor.post("/assets/catalogs", json={"id": catalog_id})
    assert response.status_code == 201, response.text
    obs = collection_doc("obs", description="observations")
    server.editor.post(f"/stac/catalogs/{catalog_id}/collections", json=obs).raise_for_status()
    return catalog_id


def test_task_catalogue_lists_and_describes_the_built_ins(server: Server) -> None:
    response = server.reader.get("/assets/tasks")
    assert response.status_code == 200
    ids = {t["id"] for t in response.json()["tasks"]}
    assert {"gdalinfo", "checksum", "ingestion", "convert"} <= ids

    described = server.reader.get("/assets/tasks/ingestion").json()
    assert described["jobControlOptions"] == ["async-execute", "sync-execute", "dismiss"]
    assert "ingestion_request" in described["inputs"]
    mapping = described["inputs"]["ingestion_request"]["schema"]["properties"]["column_mapping"]
    assert {"id", "datetime", "geometry", "properties"} <= set(mapping["properties"])
    assert "items" in described["outputs"]

    missing = server.reader.get("/assets/tasks/nope")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")


def test_seed_sync_execute_example_works_verbatim(server: Server, catalog: str, tmp_path: Path) -> None:
    # GIVEN a catalog-level GeoTIFF asset
    asset = upload(server.services, Scope(catalog), write_geotiff(tmp_path / "scene.tif"))
    seed_body = """{
      "inputs": {
        "asset_metadata": {
          "description": "Updated description from task execution",
          "properties": {
            "custom_field": "value"
          }
        },
        "other_task_param": "some_value"
      },
      "response": "document"
    }"""

    # WHEN the seed's request is sent as written
    response = server.editor.post(
        f"/assets/catalogs/{catalog}/assets/{asset['id']}/tasks/gdalinfo/execute?mode=sync-execute",
        content=seed_body,
        headers={"Content-Type": "application/json"},
    )

    # THEN 200 with the results, and the asset has the merged metadata and the raster fields
    assert response.status_code == 200, response.text
    assert response.json()["info"]["crs"]["epsg"] == 32633
    stored = server.reader.get(f"/assets/catalogs/{catalog}/assets/{asset['id']}").json()
    assert stored["description"] == "Updated description from task execution"
    assert stored["metadata"]["custom_field"] == "value"
    assert stored["proj:epsg"] == 32633 and len(stored["raster:bands"]) == 2
    history = server.reader.get(f"/assets/catalogs/{catalog}/assets/{asset['id']}/history").json()
    assert any(event["action"] == "task" for event in history.get("events", history.get("audit", [])))


def test_seed_minimal_ingestion_request_creates_items_in_the_assets_collection(
    server: Server, catalog: str, tmp_path: Path
) -> None:
    # GIVEN a CSV uploaded as a collection-level asset
    csv_path = write_stations_csv(tmp_path / "stations.csv")
    with csv_path.open("rb") as handle:
        uploaded = server.editor.post(
            f"/assets/catalogs/{catalog}/collections/obs/assets/upload",
            files={"file": ("stations.csv", handle, "text/csv")},
            data={"metadata": json.dumps({"code": "STATIONS"})},
        )
    assert uploaded.status_code == 201, uploaded.text
    asset_id = uploaded.json()["id"]

    # WHEN the seed's minimal ingestion request runs (no ids, only column_mapping; default mode)
    response = server.editor.post(
        f"/assets/catalogs/{catalog}/collections/obs/assets/{asset_id}/tasks/ingestion/execute",
        json={"inputs": {"ingestion_request": {"column_mapping": {"id": "station_id", "datetime": "observed"}}}},
    )

    # THEN a job is accepted (201 + Location), and it creates the items in that collection
    assert response.status_code == 201, response.text
    location = response.headers["Location"]
    assert location.endswith(f"/assets/jobs/{response.json()['jobID']}")
    job = server.wait_status(response.json()["jobID"], "successful", "failed")
    assert job["status"] == "successful", job
    assert job["inputs"]["catalog_id"] == catalog and job["inputs"]["collection_id"] == "obs"
    assert job["inputs"]["ingestion_request"]["asset"]["code"] == "STATIONS"
    items = server.reader.get(f"/stac/catalogs/{catalog}/collections/obs/items").json()["features"]
    assert sorted(i["id"] for i in items) == ["st-1", "st-2", "st-3"]
    alpha = next(i for i in items if i["id"] == "st-1")
    assert alpha["geometry"]["coordinates"] == [12.4964, 41.9028]
    assert alpha["properties"]["name"] == "Alpha" and alpha["properties"]["dynastore:asset_code"] == "STATIONS"
    results = server.reader.get(f"/assets/jobs/{job['id']}/results").json()
    assert results["items"] == 3 and results["collection_id"] == "obs"


def test_item_level_path_prefer_respond_async_and_job_listing(server: Server, catalog: str, tmp_path: Path) -> None:
    server.services.stac.create_item(
        catalog,
        "obs",
        {
            "type": "Feature",
            "id": "scene-1",
            "geometry": {"type": "Point", "coordinates": [15.0, 45.1]},
            "properties": {"datetime": "2024-01-01T00:00:00Z"},
            "links": [],
            "assets": {},
        },
        actor="test",
    )
    asset = upload(server.services, Scope(catalog, "obs", "scene-1"), write_geotiff(tmp_path / "B04.tif"))
    path = f"/assets/catalogs/{catalog}/collections/obs/items/scene-1/assets/{asset['id']}/tasks/checksum/execute"

    response = server.editor.post(path, json={"inputs": {}}, headers={"Prefer": "respond-async"})

    assert response.status_code == 201 and response.headers["Preference-Applied"] == "respond-async"
    job_id = response.json()["jobID"]
    assert server.job(job_id)["jobID"] == job_id  # an immediate poll never 404s
    job = server.wait_status(job_id, "successful", "failed")
    assert job["status"] == "successful"
    assert server.reader.get(f"/assets/jobs/{job_id}/results").json()["mismatch"] is False

    listed = server.reader.get("/assets/jobs", params={"catalog": catalog, "task": "checksum", "status": "successful"})
    assert [j["jobID"] for j in listed.json()["jobs"]] == [job_id]
    by_asset = server.reader.get("/assets/jobs", params={"asset_id": asset["id"], "catalog_id": catalog}).json()
    assert [j["jobID"] for j in by_asset["jobs"]] == [job_id]
    assert server.reader.get("/assets/jobs", params={"status": "bogus"}).status_code == 400


def test_execute_answers_say_what_happened_in_status_and_headers(server: Server, catalog: str, tmp_path: Path) -> None:
    # GIVEN a collection-level asset and its execute path
    asset = upload(server.services, Scope(catalog, "obs"), write_stations_csv(tmp_path / "stations.csv"))
    path = f"/assets/catalogs/{catalog}/collections/obs/assets/{asset['id']}/tasks"

    # WHEN a sync run completes THEN 200 with the results, a monitor Link to the job and its id, no Location
    done = server.editor.post(f"{path}/checksum/execute?mode=sync-execute", json={})
    assert done.status_code == 200 and done.json()["mismatch"] is False
    job_id = done.headers["X-Job-Id"]
    assert done.headers["Link"] == f'<{server.base_url}/assets/jobs/{job_id}>; rel="monitor"'
    assert "Location" not in done.headers and server.job(job_id)["status"] == "successful"

    # WHEN a sync run outlasts the sync timeout THEN 201 with the job's status document and its Location
    settings, timeout = server.services.settings, server.services.settings.sync_execute_timeout_seconds
    settings.sync_execute_timeout_seconds = 0.2
    try:
        late = server.editor.post(
            f"{path}/slow/execute?mode=sync-execute", json={"inputs": {"steps": 20, "step_seconds": 0.05}}
        )
    finally:
        settings.sync_execute_timeout_seconds = timeout
    assert late.status_code == 201 and late.json()["status"] in ("accepted", "running")
    assert late.headers["Location"] == f"{server.base_url}/assets/jobs/{late.json()['jobID']}"
    assert "Preference-Applied" not in late.headers
    server.wait_status(late.json()["jobID"], "successful")

    # WHEN an explicit async-execute is asked THEN 201 + Location, and no Preference-Applied (no Prefer was sent)
    queued = server.editor.post(
        f"{path}/slow/execute?mode=async-execute", json={"inputs": {"steps": 1000, "step_seconds": 0.02}}
    )
    assert queued.status_code == 201 and "Preference-Applied" not in queued.headers
    assert queued.headers["Location"] == f"{server.base_url}/assets/jobs/{queued.json()['jobID']}"

    # WHEN mode=dismiss stops it THEN 200 with the dismissed job's status document (links to the job), no Location
    dismissed = server.editor.post(f"{path}/slow/execute?mode=dismiss")
    assert dismissed.status_code == 200 and "Location" not in dismissed.headers
    doc = dismissed.json()
    assert doc["jobID"] == queued.json()["jobID"] and doc["status"] == "dismissed"
    self_link = next(link["href"] for link in doc["links"] if link["rel"] == "self")
    assert self_link == f"{server.base_url}/assets/jobs/{doc['jobID']}"
    asset_link = next(link["href"] for link in doc["links"] if link["rel"] == "asset")
    assert asset_link == f"{server.base_url}/assets/catalogs/{catalog}/collections/obs/assets/{asset['id']}"


def test_delete_dismisses_a_running_job_within_two_seconds_leaving_nothing(
    server: Server, catalog: str, tmp_path: Path
) -> None:
    asset = upload(server.services, Scope(catalog, "obs"), write_stations_csv(tmp_path / "stations.csv"))
    before = server.reader.get(f"/assets/catalogs/{catalog}/collections/obs/assets/{asset['id']}").json()
    slow: SlowTask = server.services.tasks.registry.get("slow")  # type: ignore[assignment]
    response = server.editor.post(
        f"/assets/catalogs/{catalog}/collections/obs/assets/{asset['id']}/tasks/slow/execute",
        json={"inputs": {"steps": 1000, "step_seconds": 0.02, "asset_metadata": {"title": "must not land"}}},
    )
    job_id = response.json()["jobID"]
    wait_for(lambda: server.job(job_id)["status"] == "running" and slow.steps_done > 5, what="job running")

    dismissed = server.editor.delete(f"/assets/jobs/{job_id}")
    deadline = time.monotonic() + 2.0

    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    while server.job(job_id)["running"]:
        assert time.monotonic() < deadline, "the dismissed job was still running 2 s after DELETE"
        time.sleep(0.02)
    steps = slow.steps_done
    time.sleep(0.2)
    assert slow.steps_done == steps  # it really stopped
    items = server.reader.get(f"/stac/catalogs/{catalog}/collections/obs/items").json()["features"]
    assert items == []
    after = server.reader.get(f"/assets/catalogs/{catalog}/collections/obs/assets/{asset['id']}").json()
    assert after == before
    listed = server.reader.get(f"/assets/catalogs/{catalog}/collections/obs/assets").json()
    assert [a["id"] for a in listed["assets"]] == [asset["id"]]  # the staged result asset never landed
    assert not list(server.services.adapters.blobs.list(f"{catalog}/obs/slow-result"))
    assert server.reader.get(f"/assets/jobs/{job_id}/results").status_code == 404


def test_failed_job_over_http_keeps_the_asset(server: Server, catalog: str, tmp_path: Path) -> None:
    asset = upload(server.services, Scope(catalog), write_geotiff(tmp_path / "scene.tif"))
    path = f"/assets/catalogs/{catalog}/assets/{asset['id']}"
    before = server.reader.get(path).json()

    response = server.editor.post(f"{path}/tasks/boom/execute", json={"inputs": {}})
    job = server.wait_status(response.json()["jobID"], "failed", "successful")

    assert job["status"] == "failed" and "the sensor file is corrupt" in job["message"]
    assert server.reader.get(path).json() == before
    sync = server.editor.post(f"{path}/tasks/boom/execute?mode=sync-execute", json={})
    assert sync.status_code == 422 and "the sensor file is corrupt" in sync.json()["detail"]
    assert sync.json()["job_id"]


def test_sync_execute_of_a_task_refusing_its_input_answers_its_400_naming_the_job(
    server: Server, catalog: str, tmp_path: Path
) -> None:
    # GIVEN an asset gdalinfo cannot read
    junk = tmp_path / "notes.bin"
    junk.write_bytes(b"\x00\x01 not a raster at all")
    asset = upload(server.services, Scope(catalog), junk)

    # WHEN gdalinfo runs on it synchronously
    response = server.editor.post(
        f"/assets/catalogs/{catalog}/assets/{asset['id']}/tasks/gdalinfo/execute?mode=sync-execute"
    )

    # THEN the task's own refusal (400, not 422) answers as problem+json naming the failed job
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "neither a raster" in response.json()["detail"]
    assert server.job(response.json()["job_id"])["status"] == "failed"


def test_execute_errors_are_problem_json(server: Server, catalog: str, tmp_path: Path) -> None:
    asset = upload(server.services, Scope(catalog), write_geotiff(tmp_path / "scene.tif"))
    base = f"/assets/catalogs/{catalog}/assets/{asset['id']}/tasks"
    cases = [
        (server.editor.post(f"{base}/gdalinfo/execute?mode=later", json={}), 400),
        (
            server.editor.post(
                f"{base}/gdalinfo/execute", content=b"{nope", headers={"Content-Type": "application/json"}
            ),
            400,
        ),
        (server.editor.post(f"{base}/gdalinfo/execute", json={"inputs": {"update_asset": [1]}}), 400),
        (server.editor.post(f"{base}/nope/execute", json={}), 404),
        (server.editor.post(f"/assets/catalogs/{catalog}/assets/missing/tasks/gdalinfo/execute", json={}), 404),
        (server.reader.post(f"{base}/gdalinfo/execute", json={}), 403),
        (server.reader.get("/assets/jobs/does-not-exist"), 404),
        (server.editor.delete("/assets/jobs/does-not-exist"), 404),
    ]
    for response, status in cases:
        assert response.status_code == status, (response.request.url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
