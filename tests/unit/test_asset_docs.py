"""The one asset-record builder (``domain.asset.asset_doc``) gives exactly what the Asset model
stores: every path (asset API, bulk, uploads, STAC inline assets, indexing, task results) builds
records with it and skips a validation pass, so the shortcut must change speed, not data."""

from __future__ import annotations

from typing import Any

import pytest

from dynastore.domain.asset import Asset, AssetFields, asset_doc, check_record_size
from dynastore.errors import PayloadTooLarge

NOW = "2024-05-01T10:00:00.000000Z"
STORAGE = {"bucket": "b", "key": "demo/s2/scene-1/B04.tif", "generation": "7", "etag": None, "md5": None}


def assert_is_the_model_form(doc: dict[str, Any]) -> None:
    validated = Asset.from_doc(doc).to_doc()
    assert doc == validated and list(doc) == list(validated)


@pytest.mark.parametrize(
    "body",
    [
        {"href": "https://x.org/a.tif"},
        {"href": "https://x.org/a.tif", "roles": ["data"], "title": "T", "tags": ["x"], "metadata": {"k": 1}},
        {"href": "gs://b/demo/a.tif", "file:size": 3, "file:checksum": "1220ab", "proj:epsg": 32633, "eo:bands": []},
        {"href": "https://x.org/a", "start_datetime": "2024-01-01", "end_datetime": "2024-02-01", "bbox": [0, 0, 1, 1]},
        {"href": "https://x.org/a", "version": "2", "latest": True, "alternate": {"s3": {"href": "s3://b/a"}}},
    ],
)
def test_a_record_from_validated_client_fields_is_the_model_form(body: dict[str, Any]) -> None:
    # GIVEN client fields validated once (AssetFields) WHEN the record is built without a second pass
    doc = asset_doc(
        "a-1", AssetFields.model_validate(body), catalog_id="demo", collection_id="s2", item_id="scene-1",
        created=NOW, storage=STORAGE, rev=3,
    )
    # THEN it is what Asset.to_doc() stores, fields in its order, extension fields at the top level
    assert_is_the_model_form(doc)
    assert doc["id"] == "a-1" and doc["rev"] == 3 and doc["updated"] == NOW and "extensions" not in doc


def test_a_record_from_the_services_own_values_is_the_model_form() -> None:
    # GIVEN the values indexing has of a new file (stored names, most fields absent)
    fields = {"href": "file:///data/demo/a.csv", "type": "text/csv", "roles": ["data"], "file:size": 12,
              "file:checksum": "1220" + "ab" * 32}
    # WHEN its record is built
    doc = asset_doc("a.csv", fields, catalog_id="demo", created=NOW, storage=STORAGE)
    # THEN absent fields have their defaults, and validation gives the same record back
    assert_is_the_model_form(doc)
    assert doc["tags"] == [] and doc["metadata"] == {} and doc["title"] is None and doc["status"] == "active"
    # AND defaults are never shared between records
    other = asset_doc("b.csv", fields, catalog_id="demo", created=NOW)
    other["tags"].append("x")
    assert doc["tags"] == []


def test_a_mapping_with_a_field_the_model_does_not_know_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not asset fields: colour"):
        asset_doc("a", {"href": "https://x.org/a", "colour": "red"}, catalog_id="demo", created=NOW)


def test_the_record_size_cap_names_its_setting() -> None:
    doc = asset_doc("a", {"href": "https://x.org/a", "metadata": {"x": "y" * 2000}}, catalog_id="demo", created=NOW)
    check_record_size(doc, 4096)
    with pytest.raises(PayloadTooLarge, match="DYNASTORE_MAX_RECORD_BYTES allows 1024"):
        check_record_size(doc, 1024)
