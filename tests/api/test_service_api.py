"""Health, the OpenAPI document, docs, problem+json for unknown routes, and authentication."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .helpers import KEYS, Api, assert_problem, make_client, start_api

ASSET_LEVELS = (
    "/assets/catalogs/{catalog_id}/assets",
    "/assets/catalogs/{catalog_id}/collections/{collection_id}/assets",
    "/assets/catalogs/{catalog_id}/collections/{collection_id}/items/{item_id}/assets",
)


def test_health_reports_the_service_and_each_adapter(api: Api) -> None:
    # WHEN /health is asked (it needs no key)
    response = api.anon.get("/health")
    # THEN the service and blobs/store/queue are ok
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["backend"] == "local"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "blobs": "ok",
        "store": "ok",
        "queue": "ok",
    }


def test_openapi_lists_every_asset_management_path(api: Api) -> None:
    # WHEN the OpenAPI document is fetched
    paths: dict[str, Any] = api.anon.get("/api").json()["paths"]
    # THEN every path of DESIGN 4.1 (except tasks/jobs) is there with its methods
    expected: dict[str, set[str]] = {
        "/health": {"get"},
        "/assets/catalogs": {"get", "post"},
        "/assets/catalogs/{catalog_id}": {"get", "patch", "delete"},
        "/assets/catalogs/{catalog_id}/uploads": {"post"},
        "/assets/catalogs/{catalog_id}/export": {"get"},
        "/assets/search": {"get", "post"},
        "/assets/bulk": {"post"},
        "/assets/bulk-get": {"post"},
    }
    for base in ASSET_LEVELS:
        expected[base] = {"get", "post"}
        expected[f"{base}/upload"] = {"post"}
        expected[f"{base}/{{asset_id}}"] = {"get", "put", "patch", "delete"}
        expected[f"{base}/{{asset_id}}/restore"] = {"post"}
        expected[f"{base}/{{asset_id}}/history"] = {"get"}
        expected[f"{base}/{{asset_id}}/download"] = {"get"}
    for path, methods in expected.items():
        assert path in paths, f"{path} missing from /api"
        assert methods <= set(paths[path]), f"{path}: {set(paths[path])} lacks {methods}"
    # request bodies are described even though handlers read them themselves
    assert "requestBody" in paths["/assets/bulk-get"]["post"]
    assert "multipart/form-data" in paths[f"{ASSET_LEVELS[1]}/upload"]["post"]["requestBody"]["content"]


def test_human_docs_are_served(api: Api) -> None:
    response = api.anon.get("/api.html")
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert "/api" in response.text


def test_unknown_route_and_wrong_method_are_problems(api: Api) -> None:
    assert_problem(api.reader.get("/assets/nothing-here/at-all"), 404, "/api")
    assert_problem(api.editor.put("/assets/search", json={}), 405, "PUT")


def test_requests_without_a_key_are_unauthorized(api: Api) -> None:
    response = api.anon.get("/assets/catalogs")
    assert_problem(response, 401, "API key")
    assert response.headers.get("www-authenticate") == "Bearer"


def test_an_unknown_key_is_unauthorized(api: Api) -> None:
    with make_client(api.base_url, "not-a-key") as client:
        assert_problem(client.get("/assets/catalogs"), 401, "unknown")


def test_x_api_key_header_works_like_bearer(api: Api) -> None:
    with make_client(api.base_url, None) as client:
        response = client.get("/assets/catalogs", headers={"X-API-Key": KEYS["reader"]})
    assert response.status_code == 200


def test_a_malformed_authorization_header_is_unauthorized(api: Api) -> None:
    with make_client(api.base_url, None) as client:
        assert_problem(client.get("/assets/catalogs", headers={"Authorization": "Basic abc"}), 401, "Bearer")


def test_readers_cannot_write(api: Api) -> None:
    assert_problem(api.reader.post("/assets/catalogs", json={"id": "nope"}), 403, "editor")


@pytest.fixture(scope="module")
def public_api(serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    yield from start_api(serve, Path(tmp_path_factory.mktemp("public")), public_read=True)


def test_public_read_serves_gets_without_a_key_but_not_writes(public_api: Api) -> None:
    # GIVEN DYNASTORE_PUBLIC_READ and a catalog
    catalog_id = public_api.new_catalog()
    # THEN anonymous reads work, anonymous writes do not
    assert public_api.anon.get(f"/assets/catalogs/{catalog_id}").status_code == 200
    assert public_api.anon.get("/assets/search", params={"q": "x"}).status_code == 200
    assert_problem(public_api.anon.post("/assets/catalogs", json={"id": "anon-cat"}), 401)
    assert_problem(
        public_api.anon.post(f"/assets/catalogs/{catalog_id}/assets", json={"id": "a", "href": "https://x.org/a"}),
        401,
    )


def test_framework_validation_errors_are_400_problems_naming_the_parameter(api: Api, catalog: str) -> None:
    response = api.reader.get("/assets/catalogs", params={"include_retired": "maybe"})
    assert_problem(response, 400, "include_retired")
    api.editor.post(f"/assets/catalogs/{catalog}/assets", json={"id": "v", "href": "https://x.org/v"})
    assert_problem(api.admin.delete(f"/assets/catalogs/{catalog}/assets/v", params={"hard": "perhaps"}), 400, "hard")
    assert api.reader.get(f"/assets/catalogs/{catalog}/assets/v").status_code == 200


def test_an_unexpected_error_is_a_problem_500_that_reveals_nothing(api: Api, serve: Any) -> None:
    # GIVEN an app whose route fails in an unforeseen way
    from dynastore.api.app import create_app

    app = create_app(api.services)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    # WHEN it is called THEN the answer is a generic problem+json 500
    with serve(app) as base_url, httpx.Client(base_url=base_url) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 500 and "secret" not in response.text and body["instance"] == "/boom"
