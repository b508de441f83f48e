"""Fixtures of the STAC tests: one live server per module on a fresh local backend."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .helpers import StacApi, start_stac_api


@pytest.fixture(scope="module")
def stac_api(serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StacApi]:
    yield from start_stac_api(serve, tmp_path_factory.mktemp("stac"))
