"""The contract suite: written once against the ports, run on every backend.

Each backend contributes ONE entry to ``BACKENDS``: a factory ``(request, tmp_path)`` returning a
context manager that yields a fresh, isolated ``Backend`` for one test and tears it down after.
``Backend.adapters`` are the four port objects; ``Backend.deliver(queue)`` hands over (and
acknowledges) the messages of a queue that are due now, so queue semantics can be checked
without knowing how a backend delivers. Tests take the ``adapters`` (or ``backend``) fixture and
never name a backend; ``pytest -m "not gcp"`` etc. select backends by their marker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dynastore.bootstrap import Adapters
from dynastore.config import Settings


@dataclass
class Backend:
    """What a backend factory yields."""

    name: str
    adapters: Adapters
    deliver: Callable[[str], list[dict[str, Any]]]


BackendFactory = Callable[[pytest.FixtureRequest, Path], AbstractContextManager[Backend]]


@contextmanager
def make_local_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    from dynastore.backends.local import build_adapters
    from dynastore.backends.local.queue import SqliteTaskQueue

    adapters = build_adapters(Settings(backend="local", data_dir=tmp_path / "local-backend"))
    queue = adapters.queue
    assert isinstance(queue, SqliteTaskQueue)

    def deliver(name: str) -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        queue.drain(received.append, queues=[name])
        return received

    try:
        yield Backend("local", adapters, deliver)
    finally:
        adapters.close()


@contextmanager
def make_gcp_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """GCS + Firestore + Cloud Tasks on the emulators (started once per process, on first use);
    each test gets its own bucket, Firestore collection prefix and queue prefix (infra/testing.py)."""
    import sys

    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:
        sys.path.insert(0, root)
    from infra.testing import gcp_adapters

    with gcp_adapters() as built:
        yield Backend("gcp", built.adapters, built.deliver)


@contextmanager
def make_aws_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """S3 + DynamoDB + SQS on moto's server (started once per process, on first use; a test that
    cannot start it fails); each test gets its own bucket, table and queue prefix (infra/aws_testing.py)."""
    import sys

    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:
        sys.path.insert(0, root)
    from infra.aws_testing import aws_adapters

    with aws_adapters() as built:
        yield Backend("aws", built.adapters, built.deliver)


BACKENDS: dict[str, BackendFactory] = {
    "local": make_local_backend,
    "gcp": make_gcp_backend,
    "aws": make_aws_backend,
}


def _param(name: str) -> Any:
    marks = [getattr(pytest.mark, name)] if name in ("gcp", "aws") else []
    return pytest.param(name, id=name, marks=marks)


@pytest.fixture(params=[_param(name) for name in BACKENDS])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with BACKENDS[request.param](request, tmp_path) as built:
        yield built


@pytest.fixture
def adapters(backend: Backend) -> Adapters:
    return backend.adapters


def _port_fixture(name: str) -> Any:
    """A fixture named like the port that returns ``adapters.<name>`` (tests annotate its type)."""

    @pytest.fixture(name=name)
    def port(adapters: Adapters) -> Any:
        return getattr(adapters, name)

    return port


# The four ports: BlobStore, MetadataStore, TaskQueue, Provisioner.
blobs = _port_fixture("blobs")
store = _port_fixture("store")
queue = _port_fixture("queue")
provisioner = _port_fixture("provisioner")
