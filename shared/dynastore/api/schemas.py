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
