"""Fixtures of the security tests: one live server per module on a fresh local backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from api.helpers import Api, start_api

from .helpers import collection, item

# The allow-lists the href tests rely on (see README "Hrefs and downloads").
ALLOWED_PREFIX = "gs://public-data-4f1c/"
ALLOWED_HOST = "data.intranet.example"


@pytest.fixture(scope="module")
def api(serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from start_api(
        serve,
        tmp_path_factory.mktemp("security"),
        href_allowed_prefixes=ALLOWED_PREFIX,
        download_allowed_hosts=ALLOWED_HOST,
    )


@pytest.fixture
def catalog(api: Api) -> str:
    """A catalog with collection s2 and its item scene-1 (made over HTTP)."""
    return make_catalog(api)


def make_catalog(api: Api) -> str:
    catalog_id = api.new_catalog()
    response = api.editor.post(f"/stac/catalogs/{catalog_id}/collections", json=collection("s2"))
    assert response.status_code == 201, response.text
    response = api.editor.post(f"/stac/catalogs/{catalog_id}/collections/s2/items", json=item("scene-1"))
    assert response.status_code == 201, response.text
    return catalog_id
