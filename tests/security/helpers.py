"""Helpers of the ETag / If-Match tests: a served app, records made over HTTP, parallel stale writers."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import httpx

from support.live_api import KEYS, LiveApi, assert_problem, make_client

__all__ = ["HREF", "LiveApi", "assert_problem", "collection", "item", "race_stale_writers"]

HREF = "https://example.org/data/S2A_20240101_B04.TIF"


def collection(collection_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "Collection",
        "stac_version": "1.1.0",
        "id": collection_id,
        "description": f"collection {collection_id}",
        "license": "CC-BY-4.0",
        "extent": {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [["2024-01-01T00:00:00Z", None]]},
        },
        "links": [],
        **extra,
    }


def item(item_id: str, assets: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        "id": item_id,
        "geometry": {"type": "Polygon", "coordinates": [[[10, 40], [11, 40], [11, 41], [10, 41], [10, 40]]]},
        "properties": {"datetime": "2024-01-01T10:00:00Z"},
        "links": [],
        "assets": assets or {},
    }


def race_stale_writers(
    api: LiveApi, path: str, body_for: Callable[[int], dict[str, Any]], n: int = 20
) -> list[httpx.Response]:
    """``n`` editors read ``path`` (the same ETag), then all PUT ``body_for(i)`` with that If-Match at
    once (one client and one thread each, released together). Returns the PUT answers."""
    etag = api.reader.get(path).headers["etag"]
    clients = [make_client(api.base_url, KEYS["editor"]) for _ in range(n)]
    start = Barrier(n)

    def write(i: int) -> httpx.Response:
        body = body_for(i)
        start.wait()
        return clients[i].put(path, json=body, headers={"If-Match": etag})

    try:
        with ThreadPoolExecutor(max_workers=n) as pool:
            return list(pool.map(write, range(n)))
    finally:
        for client in clients:
            client.close()
