"""Domain rules: identifiers, asset validation and derived fields, timestamps and intervals, sorting."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from dynastore.domain import time as dtime
from dynastore.domain.asset import Asset, AssetFields, asset_level, file_name, search_text, time_bounds
from dynastore.domain.ids import check_id, slug
from dynastore.domain.search import SortKey, parse_sortby
from dynastore.errors import Invalid

# ------------------------------------------------------------------------------ ids


@pytest.mark.parametrize("value", ["demo", "S2A_20240101_B04.TIF", "a", "a-b.c~d_e", "0abc", "x" * 255])
def test_url_safe_ids_are_accepted(value: str) -> None:
    assert check_id(value) == value


@pytest.mark.parametrize(
    "value", ["", ".", "..", "-lead", "_lead", ".hidden", "a/b", "a b", "a%20b", "é", "x" * 256, "a\x00"], ids=repr
)
def test_unsafe_ids_are_invalid_with_a_detail(value: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_id(value, "asset id")
    assert "asset id" in caught.value.detail and "URL-safe" in caught.value.detail


def test_slug_is_deterministic_url_safe_and_keeps_inputs_apart() -> None:
    assert slug("demo/readme.pdf") == slug("demo/readme.pdf")
    assert slug("readme.pdf") == "readme.pdf"
    for value in ("demo/a b.pdf", "demo/a?b.pdf", "ü/..", "../../etc/passwd", "x" * 500):
        assert check_id(slug(value)) == slug(value)
        assert len(slug(value)) <= 200
    assert slug("a b") != slug("a?b")
    assert slug("x" * 500) != slug("x" * 499)


# ------------------------------------------------------------------------------ assets


def asset(**fields: Any) -> Asset:
    fields.setdefault("href", "https://example.com/a.tif")
    return Asset(id=fields.pop("id", "a1"), catalog_id="demo", **fields)


def test_href_needs_a_known_scheme() -> None:
    for href in ("gs://b/k", "s3://b/k", "https://h/k", "http://h/k", "file:///tmp/k"):
        assert asset(href=href).href == href
    with pytest.raises(ValidationError, match="href must start"):
        asset(href="ftp://h/k")
    with pytest.raises(ValidationError):
        asset(href="/etc/passwd")


def test_an_item_linked_asset_needs_its_collection() -> None:
    with pytest.raises(ValidationError, match="collection_id"):
        asset(item_id="scene-1")
    assert asset(collection_id="s2", item_id="scene-1").level == "item"
    assert asset(collection_id="s2").level == "collection"
    assert asset().level == "catalog"
    assert asset_level(None, None) == "catalog"


def test_asset_id_must_be_url_safe() -> None:
    with pytest.raises(Invalid):
        asset(id="../etc")


def test_extension_fields_are_kept_at_the_top_level() -> None:
    doc = asset(
        **{"file:size": 10, "file:checksum": "1220abcd", "eo:bands": [{"name": "B04"}], "proj:epsg": 32631}
    ).to_doc()
    assert doc["file:size"] == 10 and doc["file:checksum"] == "1220abcd"
    assert doc["eo:bands"] == [{"name": "B04"}] and doc["proj:epsg"] == 32631
    assert "extensions" not in doc
    assert Asset.from_doc(doc).to_doc() == doc


def test_every_filterable_field_is_present_in_the_document() -> None:
    doc = asset().to_doc()
    for field in (
        "title",
        "type",
        "roles",
        "tags",
        "metadata",
        "datetime",
        "collection_id",
        "item_id",
        "status",
        "rev",
    ):
        assert field in doc


@pytest.mark.parametrize(
    "fields",
    [
        {"file:size": -1},
        {"file:checksum": "not-hex"},
        {"bbox": [1, 2, 3]},
        {"datetime": "yesterday"},
        {"start_datetime": "2024-02-01T00:00:00Z", "end_datetime": "2024-01-01T00:00:00Z"},
        {"status": "gone"},
        {"unknown_field": 1},
    ],
    ids=repr,
)
def test_invalid_asset_fields(fields: dict[str, Any]) -> None:
    with pytest.raises((ValidationError, Invalid)):
        asset(**fields)


def test_roles_and_tags_are_stripped_and_deduplicated() -> None:
    fields = AssetFields(roles=[" data", "data", "", "overview "], tags=["a", "a", " "])
    assert fields.roles == ["data", "overview"]
    assert fields.tags == ["a"]


def test_datetimes_are_normalized_to_the_stored_form() -> None:
    a = asset(datetime="2024-01-01T01:00:00+01:00", start_datetime="2024-01-01", end_datetime="2024-01-02T00:00:00Z")
    assert a.datetime == "2024-01-01T00:00:00.000000Z"
    assert a.start_datetime == "2024-01-01T00:00:00.000000Z"
    assert a.end_datetime == "2024-01-02T00:00:00.000000Z"


def test_file_name_search_text_and_time_bounds() -> None:
    doc = asset(
        id="S2A_B04",
        href="https://h.example.com/x/S2A_20240101_B04.TIF?sig=1",
        code="CODE-1",
        title="Band Four",
        start_datetime="2024-01-01T00:00:00Z",
        end_datetime="2024-01-03T00:00:00Z",
    ).to_doc()
    assert file_name(doc) == "S2A_20240101_B04.TIF"
    assert search_text(doc) == "s2a_b04\ncode-1\nband four\ns2a_20240101_b04.tif"
    assert time_bounds(doc) == ("2024-01-01T00:00:00.000000Z", "2024-01-03T00:00:00.000000Z")
    stored = {**doc, "storage": {"bucket": "b", "key": "demo/s2/B08.jp2"}}
    assert file_name(stored) == "B08.jp2"
    instant = asset(datetime="2024-05-05T00:00:00Z").to_doc()
    assert time_bounds(instant) == (instant["datetime"], instant["datetime"])
    assert time_bounds(asset().to_doc()) == (None, None)


# ------------------------------------------------------------------------------ time


def test_normalize_accepts_rfc3339_forms() -> None:
    assert dtime.normalize("2024-01-01T00:00:00Z") == "2024-01-01T00:00:00.000000Z"
    assert dtime.normalize("2024-01-01T00:00:00z") == "2024-01-01T00:00:00.000000Z"
    assert dtime.normalize("2024-01-01T02:00:00.5+02:00") == "2024-01-01T00:00:00.500000Z"
    assert dtime.normalize("2024-01-01T00:00:00") == "2024-01-01T00:00:00.000000Z"
    assert dtime.normalize(None) is None
    with pytest.raises(Invalid):
        dtime.normalize("01/02/2024")


def test_stored_timestamps_sort_as_time() -> None:
    values = ["2024-01-01T00:00:00.5Z", "2023-12-31T23:59:59Z", "2024-01-01T00:00:00Z", "2024-01-01T01:00:00+02:00"]
    normalized = [dtime.normalize(v) for v in values]
    assert sorted(normalized) == [normalized[3], normalized[1], normalized[2], normalized[0]]  # type: ignore[type-var]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("2024-01-01T00:00:00Z", ("2024-01-01T00:00:00.000000Z", "2024-01-01T00:00:00.000000Z")),
        ("2024-01-01T00:00:00Z/2024-02-01T00:00:00Z", ("2024-01-01T00:00:00.000000Z", "2024-02-01T00:00:00.000000Z")),
        ("../2024-02-01T00:00:00Z", (None, "2024-02-01T00:00:00.000000Z")),
        ("2024-01-01T00:00:00Z/..", ("2024-01-01T00:00:00.000000Z", None)),
        ("2024-01-01T00:00:00Z/", ("2024-01-01T00:00:00.000000Z", None)),
    ],
)
def test_parse_interval(value: str | None, expected: Any) -> None:
    assert dtime.parse_interval(value) == expected


@pytest.mark.parametrize("value", ["../..", "/", "2024-02-01T00:00:00Z/2024-01-01T00:00:00Z", "soon/later"])
def test_bad_intervals_are_invalid(value: str) -> None:
    with pytest.raises(Invalid):
        dtime.parse_interval(value)


# ------------------------------------------------------------------------------ sorting


def test_parse_sortby_forms() -> None:
    assert parse_sortby("-updated,+id") == (SortKey("updated", "desc"), SortKey("id", "asc"))
    assert parse_sortby(["title"]) == (SortKey("title"),)
    assert parse_sortby([{"field": "properties.datetime", "direction": "DESC"}]) == (SortKey("datetime", "desc"),)
    assert parse_sortby(None) == ()


def test_parse_sortby_rejects_unknown_fields_and_directions() -> None:
    with pytest.raises(Invalid, match="sortable fields"):
        parse_sortby("-colour")
    with pytest.raises(Invalid):
        parse_sortby([{"field": "id", "direction": "sideways"}])
