"""The real app on the local (or gcp) backend, served by uvicorn on a free port, and clients that talk to it.

One server per test module (fresh data folder); each test makes its own catalog, so tests do not
see each other's records. Every client fails the test on any 5xx answer but 503: a 500 is always a bug.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from dynastore.api.app import create_app
from dynastore.bootstrap import Services, bootstrap
from dynastore.config import Settings
from support.backends import gcp_adapters

KEYS = {"admin": "admin-secret-key", "editor": "editor-secret-key", "reader": "reader-secret-key"}


def _no_server_errors(response: httpx.Response) -> None:
    if response.status_code >= 500 and response.status_code != 503:
        response.read()
        raise AssertionError(
            f"{response.request.method} {response.request.url} answered {response.status_code}: {response.text}"
        )


def make_client(base_url: str, key: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=60, event_hooks={"response": [_no_server_errors]})


class _RoleClient:
    """``api.<role>``: the client that sends the key of that role (``anon`` sends none)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.role = name

    def __get__(self, api: LiveApi, owner: type | None = None) -> httpx.Client:
        return api.clients[self.role]


@dataclass
class LiveApi:
    base_url: str
    services: Services
    data_dir: Path
    clients: dict[str, httpx.Client] = field(default_factory=dict)
    catalog_prefix = "cat"

    admin = _RoleClient()
    editor = _RoleClient()
    reader = _RoleClient()
    anon = _RoleClient()

    def new_catalog(self, prefix: str | None = None) -> str:
        catalog_id = f"{prefix or self.catalog_prefix}-{uuid.uuid4().hex[:8]}"
        response = self.editor.post("/assets/catalogs", json={"id": catalog_id, "title": f"Catalog {catalog_id}"})
        assert response.status_code == 201, response.text
        return catalog_id


ApiT = TypeVar("ApiT", bound=LiveApi)


def start_live_api(
    api_class: type[ApiT], serve_app: Any, data_dir: Path, *, backend: str = "local", **overrides: Any
) -> Iterator[ApiT]:
    """Yield a served ``api_class`` with a client per role in ``KEYS`` (and ``anon``); settings ``overrides``.

    ``backend="gcp"`` serves the same app on the emulators (fresh bucket and prefixes) instead of
    ``data_dir``."""
    values: dict[str, Any] = {
        "api_keys": ",".join(f"{key}:{role}" for role, key in KEYS.items()),
        "worker_threads": 0,
        **overrides,
    }
    if backend == "gcp":
        with gcp_adapters(**values) as built:
            yield from _serve(api_class, serve_app, data_dir, bootstrap(built.settings, built.adapters))
        return
    services = bootstrap(Settings(**{"data_dir": data_dir, "watch_bucket": False, **values}))
    yield from _serve(api_class, serve_app, data_dir, services)


def _serve(api_class: type[ApiT], serve_app: Any, data_dir: Path, services: Services) -> Iterator[ApiT]:
    try:
        with serve_app(create_app(services)) as base_url:
            api = api_class(base_url, services, data_dir)
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
