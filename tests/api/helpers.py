"""Helpers of the API tests: the real app on the local backend, served by uvicorn on a free port.

One server per test module (fresh data folder); each test makes its own catalog, so tests do not
see each other's records. Every client fails the test on any 5xx answer: a 500 is always a bug.
"""

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

KEYS = {"admin": "admin-secret-key", "editor": "editor-secret-key", "reader": "reader-secret-key"}
MAX_UPLOAD_BYTES = 64 * 1024


def _no_server_errors(response: httpx.Response) -> None:
    if response.status_code >= 500 and response.status_code != 503:
        response.read()
        raise AssertionError(
            f"{response.request.method} {response.request.url} answered {response.status_code}: {response.text}"
        )


def make_client(base_url: str, key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=30, event_hooks={"response": [_no_server_errors]})


@dataclass
class Api:
    base_url: str
    services: Services
    data_dir: Path
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    @property
    def admin(self) -> httpx.Client:
        return self.clients["admin"]

    @property
    def editor(self) -> httpx.Client:
        return self.clients["editor"]

    @property
    def reader(self) -> httpx.Client:
        return self.clients["reader"]

    @property
    def anon(self) -> httpx.Client:
        return self.clients["anon"]

    def new_catalog(self, prefix: str = "cat") -> str:
        catalog_id = f"{prefix}-{uuid.uuid4().hex[:8]}"
        response = self.editor.post("/assets/catalogs", json={"id": catalog_id, "title": f"Catalog {catalog_id}"})
        assert response.status_code == 201, response.text
        return catalog_id

    def add_collection(self, catalog_id: str, collection_id: str) -> None:
        body = {
            "type": "Collection",
            "stac_version": "1.0.0",
            "id": collection_id,
            "description": f"collection {collection_id}",
            "license": "proprietary",
            "extent": {
                "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
                "temporal": {"interval": [["2024-01-01T00:00:00Z", None]]},
            },
            "links": [],
        }
        assert self.services.stac is not None, "the STAC service builds collections"
        self.services.stac.create_collection(catalog_id, body, actor="test")

    def add_item(self, catalog_id: str, collection_id: str, item_id: str, bbox: list[float] | None = None) -> None:
        west, south, east, north = bbox or [10.0, 40.0, 11.0, 41.0]
        body = {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": item_id,
            "collection": collection_id,
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]],
            },
            "bbox": [west, south, east, north],
            "properties": {"datetime": "2024-01-01T10:00:00Z"},
            "links": [],
            "assets": {},
        }
        self.services.stac.create_item(catalog_id, collection_id, body, actor="test")

    def audit(self, catalog_id: str, asset_id: str) -> list[dict[str, Any]]:
        page = self.services.adapters.store.list_audit(catalog_id, record_type="asset", record_id=asset_id, limit=1000)
        return page.items


def start_api(serve_app: Any, data_dir: Path, **overrides: Any) -> Iterator[Api]:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "api_keys": ",".join(f"{key}:{role}" for role, key in KEYS.items()),
        "max_upload_bytes": MAX_UPLOAD_BYTES,
        "watch_bucket": False,
        "worker_threads": 0,
    }
    values.update(overrides)
    services = bootstrap(Settings(**values))
    app = create_app(services)
    try:
        with serve_app(app) as base_url:
            api = Api(base_url, services, data_dir)
            api.clients = {role: make_client(base_url, key) for role, key in KEYS.items()}
            api.clients["anon"] = make_client(base_url, None)
            try:
                yield api
            finally:
                for client in api.clients.values():
                    client.close()
    finally:
        services.close()


def assert_problem(response: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    """The answer is an RFC 9457 problem with ``status`` whose detail mentions every word."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["type"] and body["detail"]
    for word in words:
        assert word.lower() in body["detail"].lower(), f"{word!r} not in detail {body['detail']!r}"
    return body
