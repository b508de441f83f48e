"""Helpers of the STAC tests: the real app on the local backend over real HTTP, and STAC fixtures data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from dynastore.api.app import create_app
from dynastore.bootstrap import Services, bootstrap
from dynastore.config import Settings

EDITOR_KEY = "stac-editor-key"
READER_KEY = "stac-reader-key"


def _no_server_errors(response: httpx.Response) -> None:
    if response.status_code >= 500 and response.status_code != 503:
        response.read()
        raise AssertionError(
            f"{response.request.method} {response.request.url} answered {response.status_code}: {response.text}"
        )


def client(base_url: str, key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=60, event_hooks={"response": [_no_server_errors]})


@dataclass
class StacApi:
    base_url: str
    services: Services
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    @property
    def editor(self) -> httpx.Client:
        return self.clients["editor"]

    @property
    def reader(self) -> httpx.Client:
        return self.clients["reader"]

    @property
    def anon(self) -> httpx.Client:
        return self.clients["anon"]

    def new_catalog(self, prefix: str = "stac") -> str:
        catalog_id = f"{prefix}-{uuid.uuid4().hex[:8]}"
        response = self.editor.post("/assets/catalogs", json={"id": catalog_id, "title": f"Catalog {catalog_id}"})
        assert response.status_code == 201, response.text
        return catalog_id

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
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "api_keys": f"{EDITOR_KEY}:editor,{READER_KEY}:reader",
        "watch_bucket": False,
        "worker_threads": 0,
    }
    values.update(overrides)
    services = bootstrap(Settings(**values))
    try:
        with serve_app(create_app(services)) as base_url:
            api = StacApi(base_url, services)
            api.clients = {
                "editor": client(base_url, EDITOR_KEY),
                "reader": client(base_url, READER_KEY),
                "anon": client(base_url, None),
            }
            try:
                yield api
            finally:
                for c in api.clients.values():
                    c.close()
    finally:
        services.close()


def collection(collection_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "Collection",
        "stac_version": "1.1.0",
        "id": collection_id,
        "title": f"Collection {collection_id}",
        "description": f"Test collection {collection_id}",
        "license": "CC-BY-4.0",
        "extent": {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [["2024-01-01T00:00:00Z", None]]},
        },
        "links": [],
        **extra,
    }


def square(west: float, south: float, size: float = 1.0) -> dict[str, Any]:
    east, north = west + size, south + size
    return {
        "type": "Polygon",
        "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
    }


def item(
    item_id: str,
    *,
    west: float = 10.0,
    south: float = 40.0,
    datetime: str = "2024-01-01T10:00:00Z",
    assets: dict[str, Any] | None = None,
    **properties: Any,
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        "id": item_id,
        "geometry": square(west, south),
        "properties": {"datetime": datetime, **properties},
        "links": [],
        "assets": assets or {},
    }


def assert_problem(response: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    """The answer is an RFC 9457 problem with ``status`` whose detail mentions every word."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    for word in words:
        assert word.lower() in body["detail"].lower(), f"{word!r} not in detail {body['detail']!r}"
    return body
