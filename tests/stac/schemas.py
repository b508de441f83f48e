"""Offline validation against the official STAC JSON schemas (v1.1.0 core + GeoJSON) bundled with pystac.

Only the bundled schemas are used: a schema URI that is not bundled (an extension) raises instead
of being fetched, so a test can never pass by reaching the network.
"""

from __future__ import annotations

from typing import Any

import pystac
from pystac.validation.local_validator import get_local_schema_cache
from pystac.validation.stac_validator import JsonSchemaSTACValidator

_KINDS = {
    "Feature": pystac.STACObjectType.ITEM,
    "Collection": pystac.STACObjectType.COLLECTION,
    "Catalog": pystac.STACObjectType.CATALOG,
}


class _OfflineValidator(JsonSchemaSTACValidator):
    def _get_schema(self, schema_uri: str) -> dict[str, Any]:
        if schema_uri not in self.schema_cache:
            raise AssertionError(f"schema {schema_uri} is not bundled; ship it as test data (no network here)")
        return self.schema_cache[schema_uri]


_VALIDATOR = _OfflineValidator()
assert _VALIDATOR.schema_cache.keys() == get_local_schema_cache().keys()


def validate_stac(doc: dict[str, Any]) -> None:
    """Validate an Item, Collection or Catalog dict against its STAC 1.1.0 core schema."""
    kind = doc.get("type")
    assert kind in _KINDS, f"not a STAC object: type {kind!r}"
    assert doc.get("stac_version") == "1.1.0", doc.get("stac_version")
    _VALIDATOR.validate_core(doc, _KINDS[kind], "1.1.0")


def validate_item_collection(doc: dict[str, Any]) -> None:
    assert doc["type"] == "FeatureCollection"
    assert isinstance(doc["features"], list)
    for feature in doc["features"]:
        validate_stac(feature)
