"""Fixtures of the /aios tests: the real app on a fresh backend (local, and gcp on the emulators the
suite starts: ``support.backends``), spoken to through ``dynastore.client`` (in-process via the
TestClient session). Every test here runs on both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dynastore.api.app import create_app
from dynastore.bootstrap import Services, bootstrap
from dynastore.client import AssetsDBClient
from dynastore.config import Settings
from support.backends import BACKENDS, gcp_adapters

# The test instances of the registry's health checks listen on loopback: allow-listed, as in development.
PROBED_HOSTS = "127.0.0.1"
KEYS = "admin-key:admin,editor-key:editor,reader-key:reader,other-key:editor@other"


@pytest.fixture(params=BACKENDS)
def services(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Services]:
    if request.param == "local":
        built = bootstrap(
            Settings(
                backend="local",
                data_dir=tmp_path / "data",
                api_keys=KEYS,
                watch_bucket=False,
                aios_registry_allowed_hosts=PROBED_HOSTS,
            )
        )
        try:
            yield built
        finally:
            built.close()
        return
    with gcp_adapters(api_keys=KEYS, watch_bucket=False, aios_registry_allowed_hosts=PROBED_HOSTS) as gcp:
        built = bootstrap(gcp.settings, adapters=gcp.adapters)
        yield built  # gcp_adapters closes the adapters and drops the bucket


@pytest.fixture
def http(services: Services) -> TestClient:
    return TestClient(create_app(services))


def client_for(http: TestClient, key: str | None) -> AssetsDBClient:
    return AssetsDBClient("http://testserver/aios", api_key=key, session=http)  # type: ignore[arg-type]


@pytest.fixture
def editor(http: TestClient) -> AssetsDBClient:
    return client_for(http, "editor-key")


@pytest.fixture
def reader(http: TestClient) -> AssetsDBClient:
    return client_for(http, "reader-key")
