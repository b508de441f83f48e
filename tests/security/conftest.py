"""Fixtures of the security tests: one live server per module and backend.

``local_api`` serves a fresh local backend, ``gcp_api`` the same app on the emulators; a test written
for both takes ``backend_api`` (one case per backend, the gcp one marked ``gcp``). ``api`` is the
local one, or, in a module that overrides it with ``backend_api``, each backend in turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from api.helpers import Api, start_api
from support.backends import BACKENDS

from .helpers import collection, item

# The allow-lists the href tests rely on (see README "Hrefs and downloads").
ALLOWED_PREFIX = "gs://public-data-4f1c/"
ALLOWED_HOST = "data.intranet.example"


def _start(backend: str, serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from start_api(
        serve,
        tmp_path_factory.mktemp(f"security-{backend}"),
        backend=backend,
        href_allowed_prefixes=ALLOWED_PREFIX,
        download_allowed_hosts=ALLOWED_HOST,
    )


@pytest.fixture(scope="module")
def local_api(serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from _start("local", serve, tmp_path_factory)


@pytest.fixture(scope="module")
def gcp_api(serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from _start("gcp", serve, tmp_path_factory)


@pytest.fixture(scope="module", params=BACKENDS)
def backend_api(request: pytest.FixtureRequest) -> Api:
    served: Api = request.getfixturevalue(f"{request.param}_api")
    return served


@pytest.fixture(scope="module")
def api(local_api: Api) -> Api:
    return local_api


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
