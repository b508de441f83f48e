"""The gcp functions end to end: each functions-framework target in its own process, wired to the
emulators as production wires them (infra/functions.py). One deployment per test process."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = str(Path(__file__).resolve().parents[3])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


@pytest.fixture(scope="session")
def deployment() -> Iterator[Any]:
    from infra.emulators import shared_stack
    from infra.functions import LocalGcpDeployment

    stack = shared_stack(notifications=True)
    # Retention 0: the scheduled cleanup purges what a test retired at once. The /aios registry's health
    # check may call the local functions (loopback is refused unless allow-listed, as in production).
    deployed = LocalGcpDeployment(
        stack, extra_env={"DYNASTORE_RETENTION_DAYS": "0", "DYNASTORE_AIOS_REGISTRY_ALLOWED_HOSTS": "127.0.0.1"}
    )
    try:
        deployed.start()
        os.environ.update(stack.env())
        yield deployed
    finally:
        deployed.stop()


@pytest.fixture(scope="session")
def api(deployment: Any) -> Iterator[httpx.Client]:
    from infra.functions import API_KEY

    with httpx.Client(
        base_url=deployment.url("api"), headers={"Authorization": f"Bearer {API_KEY}"}, timeout=60
    ) as client:
        client.get("/health").raise_for_status()  # the cold start happens here, once
        yield client


@pytest.fixture(scope="session")
def bucket(deployment: Any) -> Any:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage  # type: ignore[attr-defined]

    client = storage.Client(project=deployment.stack.project, credentials=AnonymousCredentials())
    return client.bucket(deployment.bucket)


@pytest.fixture
def pubsub_push(deployment: Any) -> Iterator[str]:
    """Storage notifications reach on_object_event through a Pub/Sub push subscription while the test runs."""
    name = deployment.subscribe()
    try:
        yield name
    finally:
        deployment.unsubscribe()
