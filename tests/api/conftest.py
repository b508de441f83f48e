"""Fixtures of the API tests: one live server per module on a fresh local backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .helpers import Api, start_api


@pytest.fixture(scope="module")
def api(serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from start_api(serve, tmp_path_factory.mktemp("api"))


@pytest.fixture
def catalog(api: Api) -> str:
    return api.new_catalog()


@pytest.fixture
def scoped(api: Api) -> str:
    """A catalog with collection s2 and its item scene-1."""
    catalog_id = api.new_catalog()
    api.add_collection(catalog_id, "s2")
    api.add_item(catalog_id, "s2", "scene-1")
    return catalog_id
