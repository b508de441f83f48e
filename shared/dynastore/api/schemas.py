"""Request body schemas for the OpenAPI document.

Handlers read bodies themselves (orjson, one place for 400s), so the schemas are declared here
with ``openapi_extra`` instead of through FastAPI body parameters.
"""

from __future__ import annotations

from typing import Any

from dynastore.domain.asset import AssetFields
from dynastore.domain.catalog import CatalogFields


def _schema(model: Any) -> dict[str, Any]:
    schema: dict[str, Any] = model.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


ASSET_BODY = _schema(AssetFields)
ASSET_BODY["additionalProperties"] = True  # STAC extension fields `prefix:name`
ASSET_BODY["description"] = "client fields of an asset; STAC extension fields (`proj:epsg`, ...) are kept verbatim"
CATALOG_BODY = _schema(CatalogFields)
CATALOG_PATCH_BODY = {**CATALOG_BODY, "description": "RFC 7386 JSON merge patch of the catalog's client fields"}
ASSET_PATCH_BODY = {**ASSET_BODY, "description": "RFC 7386 JSON merge patch of the asset's client fields"}

BULK_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["assets"],
    "properties": {
        "catalog_id": {"type": "string", "description": "default catalog of records that name none"},
        "assets": {
            "type": "array",
            "maxItems": 10_000,
            "items": {
                "type": "object",
                "required": ["id"],
                "properties": {
                    "catalog_id": {"type": "string"},
                    "collection_id": {"type": "string"},
                    "item_id": {"type": "string"},
                    **ASSET_BODY.get("properties", {}),
                },
            },
        },
    },
}
BULK_GET_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["catalog_id", "ids"],
    "properties": {
        "catalog_id": {"type": "string"},
        "ids": {"type": "array", "maxItems": 10_000, "items": {"type": "string"}},
    },
}
SEARCH_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "q": {"type": "string", "description": "case-insensitive substring of id, code, title or file name"},
        "catalog_id": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "collection_id": {"type": "string"},
        "item_id": {"type": "string"},
        "level": {"type": "string", "enum": ["catalog", "collection", "item"]},
        "ids": {"type": "array", "items": {"type": "string"}},
        "roles": {"type": "array", "items": {"type": "string"}, "description": "any of"},
        "type": {"type": "array", "items": {"type": "string"}, "description": "media types, any of"},
        "tags": {"type": "array", "items": {"type": "string"}, "description": "all of"},
        "datetime": {"type": "string", "description": "instant or interval, `..` for an open end"},
        "bbox": {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 6},
        "status": {"type": "array", "items": {"type": "string", "enum": ["active", "deleted", "missing"]}},
        "query": {
            "type": "object",
            "description": "MongoDB-style: $eq $ne $gt $gte $lt $lte $in $nin $exists $and $or $not",
        },
        "filter": {"description": "CQL2 JSON object or CQL2 text"},
        "filter-lang": {"type": "string", "enum": ["cql2-json", "cql2-text"]},
        "sortby": {"description": "`-updated,+id` or [{field, direction}]"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 10_000},
        "token": {"type": "string"},
    },
}
UPLOAD_TARGET_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["filename"],
    "properties": {
        "filename": {"type": "string"},
        "collection_id": {"type": "string"},
        "item_id": {"type": "string"},
        "type": {"type": "string", "description": "media type of the file"},
    },
}
UPLOAD_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "metadata": {"type": "string", "description": "JSON object of asset fields (id, title, roles, ...)"},
    },
}


def json_body(schema: dict[str, Any], media_type: str = "application/json") -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {media_type: {"schema": schema}}}}


def multipart_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}}


# ============================================================================ response bodies
# Named schemas for ``components.schemas`` (see ``dynastore.api.openapi``). They describe the key
# fields clients rely on and allow more (records carry STAC extension fields and `sys:*` fields).


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(required: list[str], properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "required": required,
        "properties": properties,
        "additionalProperties": True,
    }


_STR = {"type": "string"}
_STRS = {"type": "array", "items": _STR}
_NSTR = {"type": ["string", "null"]}
_LINKS = {"type": "array", "items": ref("Link")}


def _page(key: str, item: str, description: str) -> dict[str, Any]:
    return _object(
        [key, "links"],
        {
            key: {"type": "array", "items": ref(item)},
            "next": {**_NSTR, "description": "opaque cursor of the next page (`token`), null on the last"},
            "numberReturned": {"type": "integer"},
            "numberMatched": {"type": "integer"},
            "links": _LINKS,
        },
        description,
    )


RESPONSE_SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details; `detail` names the fix or the limit",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "description": "urn:dynastore:problem:<slug>"},
            "title": _STR,
            "status": {"type": "integer"},
            "detail": _STR,
            "instance": {"type": "string", "description": "the request path"},
        },
        "additionalProperties": True,
    },
    "Link": _object(
        ["rel", "href"],
        {"rel": _STR, "href": _STR, "type": _STR, "title": _STR, "method": _STR, "body": {"type": "object"}},
        "a web link (RFC 8288 / STAC link object)",
    ),
    "Asset": _object(
        ["id", "catalog_id"],
        {
            "id": _STR,
            "catalog_id": _STR,
            "collection_id": _NSTR,
            "item_id": _NSTR,
            "href": _NSTR,
            "type": _NSTR,
            "roles": _STRS,
            "title": _NSTR,
            "status": {"type": "string", "enum": ["active", "deleted", "missing"]},
            "created": _STR,
            "updated": _STR,
            "rev": {"type": "integer"},
        },
        "an asset record: the client fields plus system fields (status, created, updated, rev, ...)",
    ),
    "Catalog": _object(
        ["id"],
        {
            "id": _STR,
            "title": _NSTR,
            "description": _NSTR,
            "keywords": _STRS,
            "status": _STR,
            "created": _STR,
            "updated": _STR,
            "rev": {"type": "integer"},
            "links": _LINKS,
        },
        "a catalog (project)",
    ),
    "AuditEvent": _object([], {"action": _STR, "actor": _STR, "at": _STR}, "one audit-trail entry"),
    "Job": _object(
        ["jobID", "status"],
        {
            "jobID": _STR,
            "processID": _STR,
            "type": _STR,
            "status": {"type": "string", "enum": ["accepted", "running", "successful", "failed", "dismissed"]},
            "links": _LINKS,
        },
        "OGC API - Processes status info of a job",
    ),
    "AssetPage": _page("assets", "Asset", "one page of assets; follow the `next` link for more"),
    "CatalogPage": _page("catalogs", "Catalog", "one page of catalogs"),
    "AuditPage": _page("events", "AuditEvent", "one page of an asset's audit trail, newest first"),
    "JobPage": _page("jobs", "Job", "one page of jobs, newest first"),
    "BulkResult": _object(
        ["created", "updated", "unchanged", "error", "results"],
        {
            "created": {"type": "integer"},
            "updated": {"type": "integer"},
            "unchanged": {"type": "integer"},
            "error": {"type": "integer"},
            "results": {"type": "array", "items": {"type": "object"}},
        },
        "per-record outcome of a bulk upsert",
    ),
    "BulkGetResult": _object(
        ["assets", "missing"],
        {"assets": {"type": "array", "items": ref("Asset")}, "missing": _STRS},
        "the assets found and the ids that are missing or deleted",
    ),
    "StacCatalog": _object(
        ["type", "id", "stac_version", "links"],
        {
            "type": {"type": "string", "enum": ["Catalog"]},
            "id": _STR,
            "stac_version": _STR,
            "title": _STR,
            "description": _STR,
            "conformsTo": _STRS,
            "links": _LINKS,
        },
        "a STAC Catalog / STAC API landing page",
    ),
    "Conformance": _object(["conformsTo"], {"conformsTo": _STRS}, "OGC API conformance classes"),
    "StacCollection": _object(
        ["type", "id", "links"],
        {"type": {"type": "string", "enum": ["Collection"]}, "id": _STR, "stac_version": _STR, "links": _LINKS},
        "a STAC Collection",
    ),
    "StacCollections": _object(
        ["collections", "links"],
        {"collections": {"type": "array", "items": ref("StacCollection")}, "links": _LINKS},
        "one page of STAC Collections",
    ),
    "StacItem": _object(
        ["type", "id"],
        {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": _STR,
            "collection": _STR,
            "geometry": {"type": ["object", "null"]},
            "properties": {"type": "object"},
            "assets": {"type": "object"},
            "links": _LINKS,
        },
        "a STAC Item (GeoJSON Feature)",
    ),
    "ItemCollection": _object(
        ["type", "features"],
        {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": ref("StacItem")},
            "links": _LINKS,
            "numberReturned": {"type": "integer"},
            "numberMatched": {"type": "integer"},
        },
        "a page of STAC Items (GeoJSON FeatureCollection); a bulk create answers `created` ids instead",
    ),
    "AssetCollection": _object(
        ["type", "assets", "links"],
        {
            "type": {"type": "string", "enum": ["AssetCollection"]},
            "assets": {"type": "array", "items": {"type": "object"}},
            "links": _LINKS,
            "numberReturned": {"type": "integer"},
            "numberMatched": {"type": "integer"},
        },
        "a page of asset records (STAC Asset Objects with id, catalog, collection, item)",
    ),
    "Queryables": {"type": "object", "description": "JSON Schema of the queryable properties"},
    "Health": _object(
        ["status", "checks"],
        {"status": {"type": "string", "enum": ["ok", "unavailable"]}, "version": _STR, "checks": {"type": "object"}},
        "the service and each backend dependency",
    ),
}
