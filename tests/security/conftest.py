"""Fixtures of the security tests: one live server per module on a fresh local backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support.live_api import LiveApi, start_live_api

from .helpers import collection, item


@pytest.fixture(scope="module")
def api(serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    yield from start_live_api(LiveApi, serve, tmp_path_factory.mktemp("security"))


@pytest.fixture
def catalog(api: LiveApi) -> str:
    """A catalog with collection s2 and its item scene-1 (made over HTTP)."""
    return make_catalog(api)


def make_catalog(api: LiveApi) -> str:
    catalog_id = api.new_catalog()
    response = api.editor.post(f"/stac/catalogs/{catalog_id}/collections", json=collection("s2"))
    assert response.status_code == 201, response.text
    response = api.editor.post(f"/stac/catalogs/{catalog_id}/collections/s2/items", json=item("scene-1"))
    assert response.status_code == 201, response.text
    return catalog_id
