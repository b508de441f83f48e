"""CQL2 text and JSON compile to the shared filter tree and evaluate as CQL2 says."""

from __future__ import annotations

import pytest

from dynastore.domain.cql2 import compile_cql2
from dynastore.domain.filters import And, Between, Compare, Exists, In, Intersects, Like, Not, Or, matches
from dynastore.errors import Invalid

ITEM = {
    "type": "Feature",
    "id": "S2A_20240101_T31",
    "collection": "s2",
    "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]},
    "bbox": [0, 0, 2, 2],
    "properties": {
        "datetime": "2024-01-01T10:00:00.000000Z",
        "eo:cloud_cover": 12,
        "platform": "Sentinel-2A",
        "instruments": ["msi"],
    },
}


def test_text_comparison_compiles_to_properties_paths() -> None:
    # GIVEN a basic CQL2 text filter  WHEN it is compiled for items
    expr = compile_cql2("eo:cloud_cover < 20 AND id = 'S2A_20240101_T31'", "cql2-text")
    # THEN bare names are item properties, id stays top-level
    assert expr == And((Compare("lt", "properties.eo:cloud_cover", 20.0), Compare("eq", "id", "S2A_20240101_T31")))
    assert matches(expr, ITEM)


def test_json_and_text_agree() -> None:
    text = compile_cql2("properties.eo:cloud_cover BETWEEN 10 AND 15")
    tree = compile_cql2({"op": "between", "args": [{"property": "eo:cloud_cover"}, 10, 15]}, "cql2-json")
    assert isinstance(text, Between) and isinstance(tree, Between)
    assert text.field == tree.field == "properties.eo:cloud_cover"
    assert matches(text, ITEM) and matches(tree, ITEM)


@pytest.mark.parametrize(
    ("cql", "expected"),
    [
        ("platform LIKE 'Sentinel%'", True),
        ("platform LIKE 'sentinel%'", False),
        ("CASEI(platform) LIKE CASEI('sentinel%')", True),
        ("CASEI(platform) = CASEI('SENTINEL-2A')", True),
        ("platform IN ('Landsat-8', 'Sentinel-2A')", True),
        ("platform NOT IN ('Landsat-8', 'Sentinel-2A')", False),
        ("eo:cloud_cover BETWEEN 12 AND 13", True),
        ("eo:cloud_cover NOT BETWEEN 12 AND 13", False),
        ("S_INTERSECTS(geometry, BBOX(1, 1, 3, 3))", True),
        ("S_INTERSECTS(geometry, POLYGON((5 5, 6 5, 6 6, 5 6, 5 5)))", False),
        ("S_INTERSECTS(geometry, POINT(1 1))", True),
        ("eo:cloud_cover > 50 OR platform = 'Sentinel-2A'", True),
        ("NOT (platform = 'Sentinel-2A')", False),
        ("missing IS NULL", True),
        ("platform IS NULL", False),
        ("datetime >= TIMESTAMP('2024-01-01T10:00:00Z')", True),
        ("datetime > '2024-01-01T10:00:00Z'", False),
        ("datetime = '2024-01-01T10:00:00Z'", True),
        ("instruments = 'msi'", True),
        ("20 > eo:cloud_cover", True),
    ],
)
def test_operators_evaluate_as_cql2(cql: str, expected: bool) -> None:
    assert matches(compile_cql2(cql), ITEM) is expected


def test_s_intersects_geojson_literal_in_json() -> None:
    expr = compile_cql2(
        {"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [1, 1]}]}
    )
    assert isinstance(expr, Intersects) and expr.field == "geometry"
    assert matches(expr, ITEM)


def test_asset_paths_are_document_paths_with_aliases() -> None:
    expr = compile_cql2("roles IN ('data') AND item = 'scene-1' AND metadata.band LIKE 'B0%'", target="asset")
    assert expr == And((In("roles", ("data",)), Compare("eq", "item_id", "scene-1"), Like("metadata.band", "B0%")))
    doc = {"roles": ["data", "reflectance"], "item_id": "scene-1", "metadata": {"band": "B04"}}
    assert matches(expr, doc)


def test_not_and_or_structure() -> None:
    expr = compile_cql2("NOT (a = 1) OR b IS NULL")
    assert expr == Or((Not(Compare("eq", "properties.a", 1.0)), Not(Exists("properties.b"))))


@pytest.mark.parametrize(
    ("value", "lang", "message"),
    [
        ("eo:cloud_cover <<< 3", "cql2-text", "invalid CQL2 text"),
        ('{"op": ', "cql2-json", "invalid CQL2 JSON"),
        ({"op": "=", "args": [1]}, None, "invalid CQL2 JSON"),
        ("A_CONTAINS(roles, ('data'))", None, "not supported"),
        ("T_INTERSECTS(datetime, INTERVAL('2020-01-01T00:00:00Z', '2021-01-01T00:00:00Z'))", None, "not supported"),
        ("a = b", None, "two properties"),
        ("a = 1", "cql3", "filter-lang"),
        ("", None, "empty"),
    ],
)
def test_invalid_filters_raise_invalid_with_the_reason(value: object, lang: str | None, message: str) -> None:
    with pytest.raises(Invalid) as caught:
        compile_cql2(value, lang)  # type: ignore[arg-type]
    assert message in caught.value.detail


def test_parser_message_is_passed_through() -> None:
    with pytest.raises(Invalid) as caught:
        compile_cql2("eo:cloud_cover <<< 3")
    # the cql2 parser points at the offending column
    assert "1:" in caught.value.detail and "expected" in caught.value.detail
