"""Staged STAC items: their stored form, validated against the STAC Item schema (fast, per shape)."""

from __future__ import annotations

import functools
from typing import Any

import orjson

from dynastore.domain import time as dtime
from dynastore.domain.ids import check_id
from dynastore.errors import Invalid
from dynastore.ports import Doc


def stored_item(item: Doc, catalog_id: str, stac_version: str, checker: ItemChecker | None = None) -> Doc:
    """A staged item in the form the STAC service stores, validated against the STAC Item schema."""
    now = dtime.now_iso()
    properties = dict(item.get("properties") or {})
    for name in ("datetime", "start_datetime", "end_datetime"):
        if isinstance(properties.get(name), str):
            properties[name] = dtime.normalize(properties[name], f"item {item.get('id')}: properties.{name}")
    properties.setdefault("created", now)
    properties["updated"] = now
    doc: Doc = {
        **{k: v for k, v in item.items() if k not in ("assets", "catalog_id", "rev")},
        "type": "Feature",
        "stac_version": stac_version,
        "stac_extensions": item.get("stac_extensions") or [],
        "properties": properties,
        "links": [],
    }
    if doc.get("geometry") is not None and doc.get("bbox") is None:
        from shapely.geometry import shape

        doc["bbox"] = list(shape(doc["geometry"]).bounds)
    check_id(str(doc.get("id") or ""), "item id")
    (checker or ItemChecker()).check(doc)
    doc["catalog_id"] = catalog_id
    return doc


class ItemChecker:
    """Validates staged items against the STAC Item schema, once per distinct shape.

    JSON Schema validation costs milliseconds an item. What the schema can reject in an item built
    here is its shape (members, geometry type, extensions) and the values of the properties the
    schema names (common metadata such as ``gsd`` or ``title``): one full validation per distinct
    combination of those covers every item. Date-times are normalized before, and each geometry is
    parsed by shapely.
    """

    def __init__(self) -> None:
        self._seen: set[bytes] = set()

    def check(self, doc: Doc) -> None:
        from shapely.geometry import shape

        geometry = doc.get("geometry")
        if geometry is not None:
            try:
                shape(geometry)
            except Exception as exc:  # shapely raises several types for malformed GeoJSON
                raise Invalid(f"item {doc.get('id')!r}: invalid geometry: {exc}") from None
        properties = doc.get("properties") or {}
        constrained = _schema_property_names()
        signature = orjson.dumps(
            [
                sorted(doc),
                (geometry or {}).get("type"),
                len(doc.get("bbox") or ()),
                doc.get("stac_extensions"),
                {
                    k: (v if k in constrained and k not in _TIME_FIELDS else type(v).__name__)
                    for k, v in properties.items()
                },
            ],
            option=orjson.OPT_SORT_KEYS,
            default=str,
        )
        if signature in self._seen:
            return
        check_stac_item(doc)
        self._seen.add(signature)


_TIME_FIELDS = frozenset({"datetime", "start_datetime", "end_datetime", "created", "updated"})


@functools.cache
def _schema_property_names() -> frozenset[str]:
    """Every member name the STAC Item schemas constrain anywhere."""
    _item_validator()
    from pystac.validation.stac_validator import JsonSchemaSTACValidator

    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    names.update(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for schema in JsonSchemaSTACValidator().schema_cache.values():
        walk(schema)
    return frozenset(names)


def check_stac_item(doc: Doc) -> None:
    """``Invalid`` unless ``doc`` is a valid STAC Item (a compiled validator: ~1 ms an item)."""
    body = {k: v for k, v in doc.items() if k not in ("collection", "catalog_id")}  # the link comes with rendering
    body.update(links=[], assets={})
    if not _item_validator().is_valid(body):
        from dynastore.services.stac import validate_stac

        validate_stac(body, "Item")  # raises Invalid with the reason
        raise Invalid(f"item {doc.get('id')!r} is not a valid STAC Item")


@functools.cache
def _item_validator() -> Any:
    import jsonschema
    import pystac
    from pystac.validation.stac_validator import JsonSchemaSTACValidator

    from dynastore.services.stac import STAC_VERSION

    validator = JsonSchemaSTACValidator()
    uri = validator.schema_uri_map.get_object_schema_uri(pystac.STACObjectType.ITEM, STAC_VERSION)
    schema = validator._get_schema(str(uri))
    return jsonschema.validators.validator_for(schema)(schema, registry=validator.registry)
