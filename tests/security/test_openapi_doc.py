"""The OpenAPI document at /api describes what the service really answers.

GIVEN the app served on a fresh local backend
WHEN a client reads /api (as STAC clients do, through the landing page's `service-desc` link)
THEN success bodies are the JSON objects the routes return (not strings), errors are documented as
RFC 9457 problem+json with a Problem schema, and the link's media type is the one /api answers with.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.live_api import LiveApi, start_live_api

OPENAPI_JSON = "application/vnd.oai.openapi+json"
ASSET = "/assets/catalogs/{catalog_id}/collections/{collection_id}/assets/{asset_id}"


@pytest.fixture(scope="module")
def served(serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    yield from start_live_api(LiveApi, serve, tmp_path_factory.mktemp("openapi-doc"))


@pytest.fixture(scope="module")
def doc(served: LiveApi) -> dict[str, Any]:
    response = httpx.get(f"{served.base_url}/api")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def _schema(doc: dict[str, Any], method: str, path: str, status: str, media_type: str) -> dict[str, Any]:
    schema: dict[str, Any] = doc["paths"][path][method]["responses"][status]["content"][media_type]["schema"]
    return schema


def test_no_json_success_body_is_documented_as_a_string(doc: dict[str, Any]) -> None:
    strings = [
        f"{method.upper()} {path} {status} {media_type}"
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        for media_type, content in response.get("content", {}).items()
        if "json" in media_type and "ndjson" not in media_type and content.get("schema", {}).get("type") == "string"
    ]
    assert strings == []


@pytest.mark.parametrize(
    ("method", "path", "status", "media_type", "schema"),
    [
        ("get", ASSET, "200", "application/json", "Asset"),
        ("put", ASSET, "201", "application/json", "Asset"),
        ("get", "/assets/catalogs/{catalog_id}/assets", "200", "application/json", "AssetPage"),
        ("get", "/assets/search", "200", "application/json", "AssetPage"),
        ("post", "/assets/catalogs", "201", "application/json", "Catalog"),
        ("get", "/assets/catalogs", "200", "application/json", "CatalogPage"),
        ("get", "/assets/jobs/{job_id}", "200", "application/json", "Job"),
        ("get", "/stac/catalogs/{catalog_id}", "200", "application/json", "StacCatalog"),
        ("get", "/stac/catalogs/{catalog_id}/search", "200", "application/geo+json", "ItemCollection"),
        ("post", "/stac/asset-search", "200", "application/json", "AssetCollection"),
    ],
)
def test_main_bodies_reference_their_schema(
    doc: dict[str, Any], method: str, path: str, status: str, media_type: str, schema: str
) -> None:
    assert _schema(doc, method, path, status, media_type) == {"$ref": f"#/components/schemas/{schema}"}
    assert doc["components"]["schemas"][schema]["type"] == "object"


def test_export_is_ndjson_and_download_is_bytes_or_a_redirect(doc: dict[str, Any]) -> None:
    export = doc["paths"]["/assets/catalogs/{catalog_id}/export"]["get"]["responses"]["200"]["content"]
    assert list(export) == ["application/x-ndjson"]
    download = doc["paths"][f"{ASSET}/download"]["get"]["responses"]
    assert download["200"]["content"]["*/*"]["schema"] == {"type": "string", "format": "binary"}
    assert "Location" in download["307"]["headers"]


def test_errors_are_problem_json_with_a_problem_schema(doc: dict[str, Any]) -> None:
    problem = doc["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance"} <= set(problem["properties"])
    put = doc["paths"][ASSET]["put"]["responses"]
    for status in ("400", "401", "403", "404", "409", "412", "413", "503"):
        assert _schema(doc, "put", ASSET, status, "application/problem+json") == {
            "$ref": "#/components/schemas/Problem"
        }, status
    # request errors are answered 400 problem+json, never FastAPI's 422 validation body
    assert "422" not in put
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    execute = doc["paths"][f"{ASSET}/tasks/{{task_id}}/execute"]["post"]["responses"]
    assert "422" in execute  # a task that ran and failed on this input


def test_every_operation_documents_its_errors(doc: dict[str, Any]) -> None:
    undocumented = [
        f"{method.upper()} {path}"
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
        if path != "/health" and not {"400", "401", "403", "503"} <= set(operation["responses"])
    ]
    assert undocumented == []


def test_service_desc_link_answers_the_media_type_it_advertises(served: LiveApi) -> None:
    # GIVEN a catalog and its STAC landing page
    catalog_id = served.new_catalog("desc")
    for landing in (f"/stac/catalogs/{catalog_id}", "/stac"):
        links = served.reader.get(landing).json()["links"]
        (desc,) = [link for link in links if link["rel"] == "service-desc"]
        assert desc["type"].startswith(OPENAPI_JSON)
        # WHEN a client follows it asking for that media type (no key: the description is public)
        response = httpx.get(desc["href"], headers={"Accept": desc["type"]})
        # THEN it gets the OpenAPI document with exactly that content type
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == desc["type"]
        assert response.json()["paths"]


@pytest.mark.parametrize("accept", [f"{OPENAPI_JSON};version=3.0", OPENAPI_JSON, f"{OPENAPI_JSON}, */*;q=0.1"])
def test_api_answers_the_openapi_media_type_to_clients_that_ask_for_it(served: LiveApi, accept: str) -> None:
    response = httpx.get(f"{served.base_url}/api", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(OPENAPI_JSON)
    assert response.json()["openapi"].startswith("3.")


def test_human_docs_still_load_the_document(served: LiveApi) -> None:
    for path in ("/api.html", "/api/redoc.html"):
        response = httpx.get(f"{served.base_url}{path}")
        assert response.status_code == 200
        assert "/api" in response.text
