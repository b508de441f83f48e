"""Fixtures of the /aios tests: the real app on a fresh local backend, spoken to through
``dynastore.client`` (in-process via the TestClient session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dynastore.api.app import create_app
from dynastore.bootstrap import Services, bootstrap
from dynastore.client import AssetsDBClient
from dynastore.config import Settings

KEYS = "admin-key:admin,editor-key:editor,reader-key:reader,other-key:editor@other"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = bootstrap(Settings(backend="local", data_dir=tmp_path / "data", api_keys=KEYS, watch_bucket=False))
    try:
        yield built
    finally:
        built.close()


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
