"""Bulk loading rules without a backend: NDJSON parsing with per-line errors, the bulk_items form,
file batches, and the STAC validation fast path giving the same reasons as the full error search."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from dynastore.errors import Invalid
from dynastore.services.stac.bulk_load import bulk_items_features, file_batches, parse_ndjson
from dynastore.services.stac.validation import validate_stac


def test_parse_ndjson_names_every_bad_line_and_ignores_trailing_blank_lines() -> None:
    # GIVEN lines 2 and 4 unreadable (4 is blank inside the body), and a trailing blank line
    lines = [b'{"id": "a"}', b"{nope", b'{"id": "c"}', b"  ", b'{"id": "e"}', b""]
    # WHEN parsed from line 11 on
    with pytest.raises(Invalid) as caught:
        parse_ndjson(lines, first_line=11)
    # THEN both are named by their line number
    assert [e["line"] for e in caught.value.extra["errors"]] == [12, 14]
    assert "line 12" in caught.value.detail and "nothing was written" in caught.value.detail
    assert parse_ndjson([b'{"id": "a"}', b"\n"]) == [{"id": "a"}]


def test_bulk_items_form_takes_ids_from_keys() -> None:
    features, upsert = bulk_items_features({"items": {"a": {"type": "Feature"}}, "method": "upsert"})
    assert features == [{"type": "Feature", "id": "a"}] and upsert
    with pytest.raises(Invalid, match="method"):
        bulk_items_features({"items": {"a": {}}, "method": "delete"})
    with pytest.raises(Invalid, match="items"):
        bulk_items_features({"items": []})


def test_file_batches_stream_ndjson_and_split_a_feature_collection(tmp_path: Path) -> None:
    # GIVEN the same five items as NDJSON and as a FeatureCollection file
    items = [{"id": f"i{n}"} for n in range(5)]
    ndjson = tmp_path / "items.ndjson"
    ndjson.write_bytes(b"".join(orjson.dumps(i) + b"\n" for i in items))
    fc = tmp_path / "items.json"
    fc.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": items}))
    # THEN batches of two carry the first line (NDJSON) or feature index (FeatureCollection)
    assert [(first, [i["id"] for i in b]) for first, b in file_batches(ndjson, 2)] == [
        (1, ["i0", "i1"]), (3, ["i2", "i3"]), (5, ["i4"])
    ]
    assert [first for first, _ in file_batches(fc, 2)] == [0, 2, 4]


def _item(**extra: object) -> dict[str, object]:
    return {
        "type": "Feature", "stac_version": "1.1.0", "stac_extensions": [], "id": "a", "collection": "c",
        "geometry": {"type": "Point", "coordinates": [1.0, 2.0]}, "bbox": [1.0, 2.0, 1.0, 2.0],
        "properties": {"datetime": "2024-01-01T00:00:00Z"}, "links": [{"rel": "collection", "href": "./c.json"}],
        "assets": {}, **extra,
    }


def test_stac_validation_passes_a_valid_item_and_names_the_reason_for_a_bad_one() -> None:
    validate_stac(_item(), "Item")
    with pytest.raises(Invalid) as caught:
        validate_stac(_item(properties={"datetime": 3}), "Item")
    assert "properties/datetime" in caught.value.detail
    with pytest.raises(Invalid) as caught:
        validate_stac(_item(bbox=[1, 2, 3]), "Item")
    assert caught.value.detail.startswith("not a valid STAC Item")
