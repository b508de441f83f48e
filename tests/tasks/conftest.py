"""Fixtures of the task/job tests: services on a fresh local backend, test tasks, asset helpers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from dynastore.bootstrap import Services, bootstrap
from dynastore.config import Settings
from dynastore.services.assets import Scope, UploadBuffer
from dynastore.tasks import Task, TaskContext, TaskInputs
from support.stac_docs import collection_doc, item_doc

FAST_JOB_TIMING: dict[str, Any] = {
    "job_cancel_poll_seconds": 0.05,
    "job_heartbeat_seconds": 0.2,
    "job_stale_seconds": 2.0,
}


class SlowInputs(TaskInputs):
    steps: int = 200
    step_seconds: float = 0.05
    items: bool = True


class SlowTask(Task):
    """Stages one item per step and sleeps between steps, checking for cancellation each time."""

    id = "slow"
    title = "Slow test task"
    description = "stages items slowly (tests dismissal and timeouts)"
    Inputs = SlowInputs

    def __init__(self) -> None:
        self.steps_done = 0
        self.started = threading.Event()

    def run(self, ctx: TaskContext, inputs: SlowInputs) -> dict[str, Any]:
        self.started.set()
        if inputs.items:  # a new asset too, like `convert` stages its result
            result = ctx.temp_path("slow-result.txt")
            result.write_text("partial result")
            key = f"{ctx.catalog_id}/{ctx.collection_id}/slow-result.txt"
            ctx.stage_asset(key, result, {"id": "slow-result", "type": "text/plain", "roles": ["data"]})
        for step in range(inputs.steps):
            ctx.progress(100 * step / inputs.steps, f"step {step}")
            if inputs.items:
                ctx.stage_item(item_doc(f"slow-{step}", ctx.collection_id, (1.0, 2.0, 1.0, 2.0)))
            time.sleep(inputs.step_seconds)
            self.steps_done = step + 1
        ctx.update_asset({"metadata": {"slow": "done"}})
        return {"steps": inputs.steps}


class BoomTask(Task):
    id = "boom"
    title = "Failing test task"
    description = "stages an asset update and an item, then raises"

    def run(self, ctx: TaskContext, inputs: TaskInputs) -> dict[str, Any]:
        ctx.update_asset({"title": "should never land", "metadata": {"boom": True}})
        raise RuntimeError("the sensor file is corrupt")


def task_settings(data_dir: Path, **fields: Any) -> Settings:
    """Settings of the task tests: local backend, fast job timing; ``fields`` override or add (no worker
    threads unless given: the tests deliver queue messages themselves with ``drain``)."""
    defaults: dict[str, Any] = {"backend": "local", "watch_bucket": False, "worker_threads": 0}
    return Settings(data_dir=data_dir, **{**defaults, **FAST_JOB_TIMING, **fields})


@contextmanager
def running(settings: Settings) -> Iterator[Services]:
    """Services bootstrapped from ``settings``, their task threads shut down and stores closed afterwards."""
    built = bootstrap(settings)
    try:
        yield built
    finally:
        built.tasks.shutdown()
        built.close()


def create_obs_collection(services: Services, catalog_id: str) -> str:
    """Collection ``obs`` (the one the task tests store their assets in) in ``catalog_id``."""
    services.stac.create_collection(catalog_id, collection_doc("obs", description="observations"), actor="test")
    return "obs"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return task_settings(tmp_path / "data", sync_execute_timeout_seconds=20)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    with running(settings) as built:
        built.tasks.registry.register(SlowTask())
        built.tasks.registry.register(BoomTask())
        yield built


@pytest.fixture
def catalog(services: Services) -> str:
    services.catalogs.create({"id": "demo", "title": "Demo"}, actor="test")
    return "demo"


@pytest.fixture
def collection(services: Services, catalog: str) -> str:
    return create_obs_collection(services, catalog)


def upload(services: Services, scope: Scope, path: Path, **metadata: Any) -> dict[str, Any]:
    """Store a local file as an asset through the API's upload use case."""
    buffer = UploadBuffer(services.settings.max_upload_bytes)
    buffer.write(path.read_bytes())
    try:
        return services.assets.upload(
            scope, filename=path.name, data=buffer, content_type=None, metadata=metadata, actor="test"
        )
    finally:
        buffer.close()


def wait_for(check: Callable[[], Any], *, timeout: float = 15, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy (returned) or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def drain(services: Services) -> int:
    """Deliver every due queue message to the task service (what the local worker does)."""
    count: int = services.adapters.queue.drain(services.tasks.handle_message)  # type: ignore[attr-defined]
    return count
