"""Helpers of the API tests: the shared live server (``support.live_api``) plus records made through the services."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from support.live_api import KEYS, LiveApi, assert_problem, make_client, start_live_api
from support.stac_docs import collection_doc, item_doc

__all__ = ["KEYS", "MAX_UPLOAD_BYTES", "Api", "assert_problem", "make_client", "start_api"]

MAX_UPLOAD_BYTES = 64 * 1024


class Api(LiveApi):
    def add_collection(self, catalog_id: str, collection_id: str) -> None:
        body = collection_doc(collection_id, start="2024-01-01T00:00:00Z")
        assert self.services.stac is not None, "the STAC service builds collections"
        self.services.stac.create_collection(catalog_id, body, actor="test")

    def add_item(self, catalog_id: str, collection_id: str, item_id: str, bbox: list[float] | None = None) -> None:
        west, south, east, north = bbox or [10.0, 40.0, 11.0, 41.0]
        body = item_doc(item_id, collection_id, (west, south, east, north), datetime="2024-01-01T10:00:00Z")
        self.services.stac.create_item(catalog_id, collection_id, body, actor="test")

    def audit(self, catalog_id: str, asset_id: str) -> list[dict[str, Any]]:
        page = self.services.adapters.store.list_audit(catalog_id, record_type="asset", record_id=asset_id, limit=1000)
        return page.items


def start_api(serve_app: Any, data_dir: Path, *, backend: str = "local", **overrides: Any) -> Iterator[Api]:
    overrides = {"max_upload_bytes": MAX_UPLOAD_BYTES, **overrides}
    yield from start_live_api(Api, serve_app, data_dir, backend=backend, **overrides)
