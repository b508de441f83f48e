"""Jobs survive a restart of ``dynastore dev`` (real subprocesses on one data folder).

1. A job accepted while no worker runs completes after the server restarts with one.
2. A job whose server is killed (SIGKILL) or stopped (SIGTERM) mid-run completes after the restart.
   The slow task comes from a third-party plugin registered through the ``dynastore.tasks`` entry
   point group, so this also proves plugins load in the real server.
"""

from __future__ import annotations

import os
import signal
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.devserver import dev_server as live_dev_server
from support.stac_docs import collection_doc

from .conftest import wait_for
from .files import write_stations_csv

PLUGIN = """
import time
from dynastore.tasks import Task, TaskInputs


class SlowInputs(TaskInputs):
    steps: int = 40
    step_seconds: float = 0.1


class PluginSlowTask(Task):
    id = "plugin-slow"
    title = "Slow plugin task"
    description = "stages one item per step, slowly"
    Inputs = SlowInputs

    def run(self, ctx, inputs):
        for step in range(inputs.steps):
            ctx.progress(100 * step / inputs.steps, f"step {step}")
            ctx.stage_item({
                "type": "Feature", "id": f"p-{step}", "collection": ctx.collection_id,
                "geometry": {"type": "Point", "coordinates": [1.0, 2.0]},
                "properties": {"datetime": "2024-01-01T00:00:00Z"}, "links": [], "assets": {},
            })
            time.sleep(inputs.step_seconds)
        return {"steps": inputs.steps}
"""


@pytest.fixture
def plugin_path(tmp_path: Path) -> Path:
    """A third-party task package, installed the way pip would: module + dist-info with entry points."""
    root = tmp_path / "plugins"
    root.mkdir()
    (root / "dynastore_slow_plugin.py").write_text(textwrap.dedent(PLUGIN))
    dist = root / "dynastore_slow_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: dynastore-slow-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[dynastore.tasks]\nplugin-slow = dynastore_slow_plugin:PluginSlowTask\n")
    return root


@contextmanager
def dev_server(data_dir: Path, *, workers: int, plugin_path: Path | None = None) -> Iterator[tuple[httpx.Client, Any]]:
    """``dynastore dev`` with ``workers`` worker threads, fast job timing, and ``plugin_path`` importable."""
    extra_env = {
        "DYNASTORE_WATCH_BUCKET": "false",
        "DYNASTORE_WORKER_THREADS": str(workers),
        "DYNASTORE_JOB_CANCEL_POLL_SECONDS": "0.1",
        "DYNASTORE_JOB_HEARTBEAT_SECONDS": "0.5",
    }
    if plugin_path is not None:
        extra_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(plugin_path), os.environ.get("PYTHONPATH")]))
    with live_dev_server(data_dir, **extra_env) as served:
        yield served


def _setup_catalog(client: httpx.Client, tmp_path: Path) -> str:
    assert client.post("/assets/catalogs", json={"id": "restart"}).status_code == 201
    collection = collection_doc("obs", description="observations")
    assert client.post("/stac/catalogs/restart/collections", json=collection).status_code == 201
    csv_path = write_stations_csv(tmp_path / "stations.csv")
    with csv_path.open("rb") as handle:
        uploaded = client.post(
            "/assets/catalogs/restart/collections/obs/assets/upload",
            files={"file": ("stations.csv", handle, "text/csv")},
        )
    assert uploaded.status_code == 201, uploaded.text
    return str(uploaded.json()["id"])


def test_an_accepted_job_completes_after_the_server_restarts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    # GIVEN a server without a worker that accepted an ingestion job
    with dev_server(data_dir, workers=0) as (client, _):
        asset_id = _setup_catalog(client, tmp_path)
        response = client.post(
            f"/assets/catalogs/restart/collections/obs/assets/{asset_id}/tasks/ingestion/execute",
            json={"inputs": {"ingestion_request": {"column_mapping": {"id": "station_id", "datetime": "observed"}}}},
        )
        assert response.status_code == 201, response.text
        job_id = response.json()["jobID"]
        time.sleep(0.3)
        assert client.get(f"/assets/jobs/{job_id}").json()["status"] == "accepted"

    # WHEN the server restarts with its worker
    with dev_server(data_dir, workers=1) as (client, _):
        # THEN the job completes and the items exist
        job = wait_for(
            lambda: (doc := client.get(f"/assets/jobs/{job_id}").json())["status"] in ("successful", "failed") and doc,
            timeout=60,
            what="the job to finish after the restart",
        )
        assert job["status"] == "successful", job
        items = client.get("/stac/catalogs/restart/collections/obs/items").json()["features"]
        assert sorted(i["id"] for i in items) == ["st-1", "st-2", "st-3"]


@pytest.mark.parametrize(("stop_signal", "attempts"), [(signal.SIGKILL, 2), (signal.SIGTERM, 1)], ids=["kill", "term"])
def test_a_job_stopped_mid_run_completes_after_the_restart(
    tmp_path: Path, plugin_path: Path, stop_signal: signal.Signals, attempts: int
) -> None:
    data_dir = tmp_path / "data"
    # GIVEN a running job of a plugin task
    with dev_server(data_dir, workers=1, plugin_path=plugin_path) as (client, process):
        assert "plugin-slow" in {t["id"] for t in client.get("/assets/tasks").json()["tasks"]}
        asset_id = _setup_catalog(client, tmp_path)
        response = client.post(
            f"/assets/catalogs/restart/collections/obs/assets/{asset_id}/tasks/plugin-slow/execute",
            json={"inputs": {"steps": 40, "step_seconds": 0.1}},
        )
        assert response.status_code == 201, response.text
        job_id = response.json()["jobID"]
        wait_for(
            lambda: (
                (doc := client.get(f"/assets/jobs/{job_id}").json())["status"] == "running" and doc["progress"] >= 10
            ),
            timeout=30,
            what="the job to be running",
        )
        # WHEN the server is killed (no chance to clean up) or stopped (it hands the job back to the queue)
        process.send_signal(stop_signal)
        process.wait(30)

    with dev_server(data_dir, workers=1, plugin_path=plugin_path) as (client, _):
        # THEN the restarted server finishes it: a killed run counts as an attempt, a clean stop does not
        job = wait_for(
            lambda: (doc := client.get(f"/assets/jobs/{job_id}").json())["status"] in ("successful", "failed") and doc,
            timeout=60,
            what="the job to finish after the restart",
        )
        assert job["status"] == "successful", job
        assert job["attempts"] == attempts
        items = client.get("/stac/catalogs/restart/collections/obs/items", params={"limit": 100}).json()["features"]
        assert len(items) == 40
