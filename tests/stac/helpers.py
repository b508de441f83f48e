"""Helpers of the STAC tests: the real app on the local backend over real HTTP, and STAC fixtures data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from support.live_api import KEYS, LiveApi, assert_problem, start_live_api
from support.stac_docs import box, collection_doc

__all__ = ["READER_KEY", "StacApi", "assert_problem", "collection", "item", "square", "start_stac_api"]

READER_KEY = KEYS["reader"]


class StacApi(LiveApi):
    catalog_prefix = "stac"

    def new_collection(self, catalog_id: str, collection_id: str = "s2", **extra: Any) -> dict[str, Any]:
        response = self.editor.post(f"/stac/catalogs/{catalog_id}/collections", json=collection(collection_id, **extra))
        assert response.status_code == 201, response.text
        return response.json()

    def post_items(self, catalog_id: str, collection_id: str, items: list[dict[str, Any]]) -> None:
        response = self.editor.post(
            f"/stac/catalogs/{catalog_id}/collections/{collection_id}/items",
            json={"type": "FeatureCollection", "features": items},
        )
        assert response.status_code == 201, response.text


def start_stac_api(serve_app: Any, data_dir: Path, **overrides: Any) -> Iterator[StacApi]:
    yield from start_live_api(StacApi, serve_app, data_dir, **overrides)


def collection(collection_id: str, **extra: Any) -> dict[str, Any]:
    defaults = {
        "stac_version": "1.1.0",
        "title": f"Collection {collection_id}",
        "description": f"Test collection {collection_id}",
        "license": "CC-BY-4.0",
    }
    return collection_doc(collection_id, start="2024-01-01T00:00:00Z", **{**defaults, **extra})


def square(west: float, south: float, size: float = 1.0) -> dict[str, Any]:
    return box(west, south, west + size, south + size)


def item(
    item_id: str,
    *,
    west: float = 10.0,
    south: float = 40.0,
    datetime: str = "2024-01-01T10:00:00Z",
    assets: dict[str, Any] | None = None,
    cloud_cover: float | None = None,
    **properties: Any,
) -> dict[str, Any]:
    """A STAC item on a 1-degree square at (west, south); ``cloud_cover`` becomes ``eo:cloud_cover``."""
    if cloud_cover is not None:
        properties = {"eo:cloud_cover": cloud_cover, **properties}
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        "id": item_id,
        "geometry": square(west, south),
        "properties": {"datetime": datetime, **properties},
        "links": [],
        "assets": assets or {},
    }
