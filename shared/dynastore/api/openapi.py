"""The OpenAPI document at ``/api``: the real response bodies and the problem+json errors.

Left alone, FastAPI documents every body of our orjson ``JSONResponse`` as a string and every
request error as a 422 JSON body this service never sends (it answers 400 problem+json). So
``openapi_document`` builds FastAPI's document once and then, for each operation:

- replaces the success responses with the entry of ``success_responses()`` (keyed by method and
  path); a JSON route missing there keeps a generic object body, so a new route is documented
  (generically) with no change here, and precisely with one line;
- adds the ``application/problem+json`` responses it can answer (``problem_statuses``) and the
  auth schemes; the named schemas come from ``dynastore.api.schemas.RESPONSE_SCHEMAS``.

Routes are not touched (their decorators and bodies belong to their modules). ``/api`` answers
``application/vnd.oai.openapi+json;version=3.1`` to clients that ask for the OpenAPI media type
(the STAC ``service-desc`` link advertises it), ``application/json`` otherwise.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse

from dynastore.api.deps import ASSET_LEVELS, JSONResponse
from dynastore.api.problems import PROBLEM_JSON, status_title
from dynastore.api.schemas import RESPONSE_SCHEMAS, ref
from dynastore.domain.ids import ID_PATTERN
from dynastore.services.stac import OPENAPI
from dynastore.ui import redoc_html, swagger_html

WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
GEOJSON = "application/geo+json"

Responses = dict[str, dict[str, Any]]


def _body(schema: dict[str, Any], description: str, media_type: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": schema}}}


def _named(name: str, description: str, media_type: str = "application/json") -> dict[str, Any]:
    return _body(ref(name), description, media_type)


_OBJECT = {"type": "object"}
_NO_CONTENT = {"description": "done; no body"}


def success_responses() -> dict[tuple[str, str], Responses]:
    """``(method, path)`` → the 2xx/3xx responses of that operation."""
    table: dict[tuple[str, str], Responses] = {}
    asset = _named("Asset", "the asset")
    for base, _scope, _label in ASSET_LEVELS:
        one = f"{base}/{{asset_id}}"
        table[("get", base)] = {"200": _named("AssetPage", "one page of assets")}
        table[("post", base)] = {"201": _named("Asset", "created (Location: its URL)")}
        table[("post", f"{base}/upload")] = {"201": _named("Asset", "stored and indexed (Location: its URL)")}
        table[("get", one)] = {"200": asset}
        table[("put", one)] = {"200": _named("Asset", "replaced"), "201": _named("Asset", "created")}
        table[("patch", one)] = {"200": asset}
        table[("delete", one)] = {"200": _named("Asset", "soft-deleted (status deleted)"), "204": _NO_CONTENT}
        table[("post", f"{one}/restore")] = {"200": asset}
        table[("get", f"{one}/history")] = {"200": _named("AuditPage", "audit trail, newest first")}
        table[("get", f"{one}/download")] = {
            "200": _body({"type": "string", "format": "binary"}, "the file's bytes, with its media type", "*/*"),
            "307": {
                "description": "redirect to a signed URL of the file",
                "headers": {"Location": {"schema": {"type": "string"}}},
            },
        }
        table[("post", f"{one}/tasks/{{task_id}}/execute")] = {
            "200": _body(_OBJECT, "sync-execute: the results; dismiss: the job's status"),
            "201": _named("Job", "async-execute: the job (Location: its URL)"),
        }
    catalog = _named("Catalog", "the catalog")
    item = _named("StacItem", "the item", GEOJSON)
    collection = _named("StacCollection", "the collection")
    asset_collection = _named("AssetCollection", "one page of asset records")
    item_collection = _named("ItemCollection", "one page of items", GEOJSON)
    queryables = _named("Queryables", "JSON Schema of the queryables", "application/schema+json")
    ndjson = {"type": "string", "description": "one asset JSON object per line"}
    table.update(
        {
            ("get", "/health"): {"200": _named("Health", "every dependency answers")},
            ("get", "/assets/catalogs"): {"200": _named("CatalogPage", "one page of catalogs")},
            ("post", "/assets/catalogs"): {"201": _named("Catalog", "created (Location: its URL)")},
            ("get", "/assets/catalogs/{catalog_id}"): {"200": catalog},
            ("patch", "/assets/catalogs/{catalog_id}"): {"200": catalog},
            ("delete", "/assets/catalogs/{catalog_id}"): {"200": _named("Catalog", "retired")},
            ("post", "/assets/catalogs/{catalog_id}/uploads"): {
                "200": _body(_OBJECT, "where and how to send the file (`url`, `method`, `signed`, ...)")
            },
            ("get", "/assets/search"): {"200": _named("AssetPage", "one page of matching assets")},
            ("post", "/assets/search"): {"200": _named("AssetPage", "one page of matching assets")},
            ("post", "/assets/bulk"): {"200": _named("BulkResult", "per-record results")},
            ("post", "/assets/bulk-get"): {"200": _named("BulkGetResult", "found and missing")},
            ("get", "/assets/catalogs/{catalog_id}/export"): {
                "200": _body(ndjson, "every asset, one per line", "application/x-ndjson")
            },
            ("get", "/assets/tasks"): {"200": _body(_OBJECT, "`tasks` (also as `processes`) and `links`")},
            ("get", "/assets/tasks/{task_id}"): {"200": _body(_OBJECT, "the task: inputs, outputs, modes")},
            ("get", "/assets/jobs"): {"200": _named("JobPage", "one page of jobs")},
            ("get", "/assets/jobs/{job_id}"): {"200": _named("Job", "the job's status")},
            ("delete", "/assets/jobs/{job_id}"): {"200": _named("Job", "the dismissed job's status")},
            ("get", "/assets/jobs/{job_id}/results"): {"200": _body(_OBJECT, "the job's results")},
            ("get", "/stac"): {"200": _named("StacCatalog", "the root catalog")},
            ("get", "/stac/catalogs/{catalog_id}"): {"200": _named("StacCatalog", "the catalog's landing page")},
            ("get", "/stac/conformance"): {"200": _named("Conformance", "conformance classes")},
            ("get", "/stac/catalogs/{catalog_id}/conformance"): {"200": _named("Conformance", "conformance classes")},
            ("get", "/stac/queryables"): {"200": queryables},
            ("get", "/stac/catalogs/{catalog_id}/queryables"): {"200": queryables},
            ("get", "/stac/catalogs/{catalog_id}/collections/{collection_id}/queryables"): {"200": queryables},
            ("get", "/stac/catalogs/{catalog_id}/collections"): {"200": _named("StacCollections", "collections")},
            ("post", "/stac/catalogs/{catalog_id}/collections"): {"201": _named("StacCollection", "created")},
            ("get", "/stac/catalogs/{catalog_id}/collections/{collection_id}"): {"200": collection},
            ("put", "/stac/catalogs/{catalog_id}/collections/{collection_id}"): {
                "200": _named("StacCollection", "replaced"),
                "201": _named("StacCollection", "created"),
            },
            ("patch", "/stac/catalogs/{catalog_id}/collections/{collection_id}"): {"200": collection},
            ("delete", "/stac/catalogs/{catalog_id}/collections/{collection_id}"): {"204": _NO_CONTENT},
            ("get", "/stac/catalogs/{catalog_id}/collections/{collection_id}/items"): {"200": item_collection},
            ("post", "/stac/catalogs/{catalog_id}/collections/{collection_id}/items"): {
                "201": _body(
                    {"anyOf": [ref("StacItem"), ref("ItemCollection")]},
                    "the created item, or for a FeatureCollection body the `created` ids",
                    GEOJSON,
                )
            },
            ("get", "/stac/catalogs/{catalog_id}/collections/{collection_id}/items/{item_id}"): {"200": item},
            ("put", "/stac/catalogs/{catalog_id}/collections/{collection_id}/items/{item_id}"): {
                "200": _named("StacItem", "replaced", GEOJSON),
                "201": _named("StacItem", "created", GEOJSON),
            },
            ("patch", "/stac/catalogs/{catalog_id}/collections/{collection_id}/items/{item_id}"): {"200": item},
            ("delete", "/stac/catalogs/{catalog_id}/collections/{collection_id}/items/{item_id}"): {"204": _NO_CONTENT},
            ("get", "/stac/catalogs/{catalog_id}/collections/{collection_id}/items/{item_id}/assets"): {
                "200": asset_collection
            },
        }
    )
    for root in ("/stac", "/stac/catalogs/{catalog_id}"):
        for method in ("get", "post"):
            table[(method, f"{root}/search")] = {"200": item_collection}
            table[(method, f"{root}/asset-search")] = {"200": asset_collection}
    return table


def problem_statuses(method: str, path: str, operation: dict[str, Any]) -> list[int]:
    """The problem+json statuses an operation can answer."""
    if path == "/health":
        return []  # its 503 is the health document itself
    statuses = {400, 401, 403, 503}  # bad input, no or unknown key, role or catalog scope, backend down
    if "{" in path or operation.get("parameters") or path.endswith("search"):
        statuses.add(404)  # a record or a catalog named in the path or the query does not exist
    if method in WRITE_METHODS:
        statuses |= {409, 412}  # exists / stale revision; If-Match did not hold
    if "requestBody" in operation:
        statuses.add(413)
    if "/tasks/" in path or path.endswith("/results"):
        statuses.add(422)  # the task ran and failed on this input
    return sorted(statuses)


def _problem(status: int) -> dict[str, Any]:
    return {"description": status_title(status), "content": {PROBLEM_JSON: {"schema": ref("Problem")}}}


def _generic_json(responses: dict[str, Any]) -> None:
    """FastAPI's "string" body of a JSON media type becomes an object."""
    for status, response in responses.items():
        for media_type, content in response.get("content", {}).items():
            if "json" in media_type and content.get("schema") == {"type": "string"} and status.startswith("2"):
                content["schema"] = {"type": "object"}


def _id_parameters(operation: dict[str, Any]) -> None:
    """Path ids follow the one id rule (``domain.ids``); say so, so clients and fuzzers can follow it."""
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "path" and parameter.get("name", "").endswith("_id"):
            parameter["schema"] = {**parameter.get("schema", {}), "pattern": ID_PATTERN, "maxLength": 255}


def describe(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` (FastAPI's document) with the real bodies, the problems and the auth schemes."""
    out = copy.deepcopy(doc)
    table = success_responses()
    for path, operations in out.get("paths", {}).items():
        for method, operation in operations.items():
            _id_parameters(operation)
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # FastAPI's HTTPValidationError: we answer 400 problem+json
            success = table.get((method, path))
            if success is not None:
                for status in [s for s in responses if s[0] in "23"]:
                    del responses[status]
                responses.update(copy.deepcopy(success))
            else:
                _generic_json(responses)
            for status in problem_statuses(method, path, operation):
                responses.setdefault(str(status), _problem(status))
            if path != "/health":
                operation["security"] = [{"bearer": []}, {"apiKey": []}, {}]
    components = out.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas.update(copy.deepcopy(RESPONSE_SCHEMAS))
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "an API key (or a Google-signed ID token)"},
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }
    return out


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document, built once."""
    if app.openapi_schema is None:
        doc = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        app.openapi_schema = describe(doc)
    return app.openapi_schema


def wants_openapi_media_type(accept: str | None) -> bool:
    return "application/vnd.oai.openapi" in (accept or "").lower()


def install_openapi(app: FastAPI, *, openapi_url: str = "/api", docs_url: str = "/api.html") -> None:
    """Serve the document at ``openapi_url`` (content-negotiated), Swagger UI at ``docs_url`` and ReDoc
    at ``{openapi_url}/redoc.html`` (both from the vendored files under ``/ui/vendor``: they work
    offline). The app must be created with ``openapi_url=None``."""
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]

    @app.get(openapi_url, include_in_schema=False)
    def openapi_json(request: Request) -> JSONResponse:
        media_type = OPENAPI if wants_openapi_media_type(request.headers.get("accept")) else None
        return JSONResponse(openapi_document(app), media_type=media_type)

    @app.get(docs_url, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return HTMLResponse(swagger_html(f"{root}{openapi_url}", f"{app.title} - API", root))

    @app.get(f"{openapi_url}/redoc.html", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return HTMLResponse(redoc_html(f"{root}{openapi_url}", f"{app.title} - ReDoc", root))
