"""The auth and cross-catalog matrix over every operation of the OpenAPI document (any backend).

Every operation must appear in exactly one of: a path with ``{catalog_id}`` (checked by the path),
``CATALOG_IN_REQUEST`` (the catalog is named in the query or body), ``JOB_OPERATIONS`` (a job belongs
to its asset's catalog), ``FILTERED`` (lists and searches answered with the caller's catalogs only)
or ``EXEMPT`` (touches no catalog's data). A new route that is in none fails the tests, so adding
one is a conscious decision about its scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import httpx
from fastapi.testclient import TestClient

from dynastore.api.app import create_app
from dynastore.bootstrap import Services, bootstrap
from dynastore.config import Settings
from support.stac_docs import collection_doc, item_doc

MINE, OTHER = "mine", "other"
SECRET = "SECRET-OF-MINE"  # in the title of catalog MINE and its asset: no foreign answer may carry it
KEYS = {
    "admin": "admin-key",  # unscoped admin (sets the records up)
    "reader": "reader-key",  # unscoped reader
    "mine_editor": "mine-editor-key",  # editor of MINE only
    "mine_admin": "mine-admin-key",  # admin of MINE only
    "other_admin": "other-admin-key",  # admin of OTHER only: every request about MINE must fail
    "both_reader": "both-reader-key",  # reader of MINE and OTHER
    "fresh_editor": "fresh-editor-key",  # editor of a catalog that does not exist yet
}
API_KEYS = ",".join(
    [
        f"{KEYS['admin']}:admin",
        f"{KEYS['reader']}:reader",
        f"{KEYS['mine_editor']}:editor@{MINE}#mine-editor",
        f"{KEYS['mine_admin']}:admin@{MINE}",
        f"{KEYS['other_admin']}:admin@{OTHER}",
        f"{KEYS['both_reader']}:reader@{MINE}|{OTHER}",
        f"{KEYS['fresh_editor']}:editor@fresh|fresh-2",
    ]
)

# POSTs that only read (everything else but GET is a write and needs an editor key).
READ_POSTS = {
    ("POST", "/assets/search"),
    ("POST", "/assets/bulk-get"),
    ("POST", "/stac/search"),
    ("POST", "/stac/asset-search"),
    ("POST", "/stac/catalogs/{catalog_id}/search"),
    ("POST", "/stac/catalogs/{catalog_id}/asset-search"),
    ("POST", "/aios/assets"),
    ("POST", "/aios/asset_registries"),
}
ADMIN_ONLY = {("DELETE", "/assets/catalogs/{catalog_id}")}
# Operations without {catalog_id} in the path that name a catalog in the request: the request naming MINE.
CATALOG_IN_REQUEST: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/assets/catalogs"): {"json": {"id": MINE, "title": "again"}},
    ("POST", "/assets/bulk"): {"json": {"catalog_id": MINE, "assets": [{"id": "z", "href": "https://example.org/z"}]}},
    ("POST", "/assets/bulk-get"): {"json": {"catalog_id": MINE, "ids": ["a1"]}},
    ("GET", "/assets/search"): {"params": {"catalog_id": MINE}},
    ("POST", "/assets/search"): {"json": {"catalog_id": MINE}},
    ("GET", "/stac/asset-search"): {"params": {"catalog_id": MINE}},
    ("POST", "/stac/asset-search"): {"json": {"catalog_id": MINE}},
    ("GET", "/assets/ingest"): {"params": {"key": f"{MINE}/a1.tif"}},
    ("GET", "/assets/jobs"): {"params": {"catalog_id": MINE}},
    # /aios asset routes: the catalog is DYNASTORE_AIOS_CATALOG (MINE in this matrix).
    ("POST", "/aios/upload_asset"): {},
    ("POST", "/aios/asset"): {"json": {}},
    ("GET", "/aios/asset/{asset_uri}"): {},
    ("PUT", "/aios/asset/{asset_uri}"): {"json": {}},
    ("DELETE", "/aios/asset/{asset_uri}"): {},
    ("POST", "/aios/assets"): {"json": {}},
    ("GET", "/aios/asset-object/{asset_id}"): {},
    ("POST", "/events/stac"): {
        "params": {"catalog_id": MINE},
        "json": {
            "metadata": {
                "auth": {"client_id": "c", "server": "esgf-login.example.org"},
                "publisher": {"package": "esgf_publisher", "version": "1.1.1"},
                "time": "2024-07-04T14:17:35Z",
                "schema_version": "1.0.0",
            },
            "data": {
                "type": "STAC",
                "payload": {"method": "PUT", "collection_id": "col", "item_id": "item", "item": {"properties": {}}},
            },
        },
    },
}
JOB_OPERATIONS = {
    ("GET", "/assets/jobs/{job_id}"),
    ("DELETE", "/assets/jobs/{job_id}"),
    ("GET", "/assets/jobs/{job_id}/results"),
}
# Lists and searches that name no catalog: answered with the caller's catalogs only (content tests).
FILTERED = {
    ("GET", "/assets/catalogs"),
    ("GET", "/stac"),
    ("GET", "/stac/search"),
    ("POST", "/stac/search"),
}
# Operations that touch no catalog's data.
EXEMPT = {
    ("GET", "/health"),
    ("GET", "/assets/tasks"),
    ("GET", "/assets/tasks/{task_id}"),
    ("GET", "/stac/conformance"),
    ("GET", "/stac/queryables"),
    # the /aios registry of asset DBs is deployment-wide (no catalog's data)
    ("GET", "/aios/health"),
    ("POST", "/aios/asset_registry"),
    ("GET", "/aios/asset_registry/{asset_db_id}"),
    ("PUT", "/aios/asset_registry/{asset_db_id}"),
    ("DELETE", "/aios/asset_registry/{asset_db_id}"),
    ("POST", "/aios/asset_registries"),
    ("GET", "/aios/check_health/{asset_db_id}"),
    ("GET", "/auth/whoami"),
}
NO_KEY_NEEDED = {("GET", "/health"), ("GET", "/aios/health")}


def operations() -> list[tuple[str, str]]:
    """Every (METHOD, path) of the OpenAPI document."""
    app = create_app(cast(Services, None))  # the document needs no services
    return sorted((method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops)


OPERATIONS = operations()


def is_write(op: tuple[str, str]) -> bool:
    return op[0] != "GET" and op not in READ_POSTS


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


@dataclass
class Env:
    client: TestClient
    services: Services
    job_id: str

    def call(self, op: tuple[str, str], key: str | None, values: dict[str, str] | None = None) -> httpx.Response:
        method, path = op
        url = fill(path, values or self.values())
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return self.client.request(method, url, headers=headers, **CATALOG_IN_REQUEST.get(op, {}))

    def values(self) -> dict[str, str]:
        return {
            "catalog_id": MINE,
            "collection_id": "col",
            "item_id": "item",
            "asset_id": "a1",
            "task_id": "checksum",
            "job_id": self.job_id,
            "asset_uri": "a1:1.0-initial",
            "asset_db_id": "db-1",
        }

    def as_admin(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, url, headers={"Authorization": f"Bearer {KEYS['admin']}"}, **kwargs)
        assert response.status_code < 300, response.text
        return response


@contextmanager
def scoped_env(settings: Settings, adapters: Any = None) -> Iterator[Env]:
    """An app with ``API_KEYS`` over catalogs MINE and OTHER, each with a collection, an item, an asset
    (``a1`` / ``o1``), and a job on MINE's asset."""
    # /aios serves the catalog DYNASTORE_AIOS_CATALOG: MINE here, so its asset routes meet the same rules.
    services = bootstrap(settings.model_copy(update={"api_keys": API_KEYS, "aios_catalog": MINE}), adapters)
    try:
        client = TestClient(create_app(services))
        env = Env(client, services, job_id="")
        for catalog, asset in ((MINE, "a1"), (OTHER, "o1")):
            title = SECRET if catalog == MINE else "other"
            env.as_admin("POST", "/assets/catalogs", json={"id": catalog, "title": title})
            env.as_admin("POST", f"/stac/catalogs/{catalog}/collections", json=collection_doc("col"))
            env.as_admin("POST", f"/stac/catalogs/{catalog}/collections/col/items", json=item_doc("item", "col"))
            body = {"id": asset, "href": f"https://example.org/{asset}.tif", "title": title}
            env.as_admin("POST", f"/assets/catalogs/{catalog}/assets", json=body)
        job = env.as_admin("POST", f"/assets/catalogs/{MINE}/assets/a1/tasks/checksum/execute", json={"inputs": {}})
        env.job_id = job.json()["jobID"]
        yield env
    finally:
        services.close()


# ---------------------------------------------------------------------------------------- checks


def check_is_classified(op: tuple[str, str]) -> None:
    classified = (
        "{catalog_id}" in op[1],
        op in CATALOG_IN_REQUEST,
        op in JOB_OPERATIONS,
        op in FILTERED,
        op in EXEMPT,
    )
    assert sum(classified) >= 1, f"{op}: add it to a scope table in tests/security/matrix.py (and check its scope)"


def check_no_key(env: Env, op: tuple[str, str]) -> None:
    """No key → 401, even with invalid path ids (authentication comes before validation)."""
    invalid = dict.fromkeys(env.values(), "-not-an-id")
    response = env.call(op, None, invalid)
    if op in NO_KEY_NEEDED:
        assert response.status_code != 401, response.text
        return
    assert response.status_code == 401, f"{op}: {response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json")


def check_reader_cannot_write(env: Env, op: tuple[str, str]) -> None:
    response = env.call(op, KEYS["reader"])
    if is_write(op):
        assert response.status_code == 403, f"{op}: {response.status_code} {response.text}"
    else:
        assert response.status_code not in (401, 403), f"{op}: {response.status_code} {response.text}"


def check_foreign_key_is_refused(env: Env, op: tuple[str, str]) -> None:
    """A key scoped to OTHER asking about MINE: 403 (404 for a job), and nothing of MINE in the answer."""
    response = env.call(op, KEYS["other_admin"])
    if op in EXEMPT or op in FILTERED:
        assert response.status_code not in (401, 403), f"{op}: {response.status_code} {response.text}"
    elif op in JOB_OPERATIONS:
        assert response.status_code == 404, f"{op}: {response.status_code} {response.text}"
    else:
        assert response.status_code == 403, f"{op}: {response.status_code} {response.text}"
    assert SECRET not in response.text, f"{op} leaked data of {MINE}"
    if response.status_code in (403, 404):  # the refusal tells nothing the caller did not send
        assert "a1.tif" not in response.text


def check_in_scope_key_passes(env: Env, op: tuple[str, str]) -> None:
    """MINE's admin gets past authorization (whatever the answer then is)."""
    response = env.call(op, KEYS["mine_admin"])
    assert response.status_code not in (401, 403), f"{op}: {response.status_code} {response.text}"
