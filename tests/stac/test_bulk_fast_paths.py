"""The bulk-load fast paths give exactly what the general path gives: the stored item form is
pystac's round trip, the plain inline-asset fields are ``AssetFields``' and any other asset body
still gets the model's explanation."""

from __future__ import annotations

from typing import Any

import pystac
import pytest

from dynastore.domain.asset import AssetFields, asset_doc, search_text
from dynastore.domain.asset_record import stored_record_json
from dynastore.domain.geo_bounds import simple_bounds
from dynastore.domain.ids import check_id, slug
from dynastore.errors import Invalid
from dynastore.services.stac.inline_assets import (
    ITEM_KEY_SEPARATORS,
    _as_sent_back,
    _asset_fields,
    asset_id_candidates,
    plain_asset_fields,
)
from dynastore.services.stac.items import stored_item

POLYGON = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}


def _doc(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": "Feature",
        "stac_version": "1.1.0",
        "stac_extensions": ["https://stac-extensions.github.io/eo/v1.1.0/schema.json"],
        "id": "a1",
        "collection": "s2",
        "geometry": POLYGON,
        "properties": {"datetime": "2024-01-01T00:00:00.000000Z", "eo:cloud_cover": 3},
        "links": [{"rel": "license", "href": "https://example.com/l", "type": "text/html", "x": 1}],
        "assets": {},
        "bbox": [0, 0, 1, 1],
    }
    doc.update(extra)
    return doc


def _via_pystac(doc: dict[str, Any], catalog_id: str) -> dict[str, Any]:
    rendered = pystac.Item.from_dict(doc, migrate=False, preserve_dict=True).to_dict(
        include_self_link=False, transform_hrefs=False
    )
    rendered.pop("assets", None)
    rendered["properties"].update({k: v for k, v in doc["properties"].items() if k.endswith("datetime") and v})
    rendered["links"] = doc["links"]
    rendered["catalog_id"] = catalog_id
    return rendered


@pytest.mark.parametrize(
    "doc",
    [
        _doc(),
        _doc(geometry=None),  # a bbox without a geometry is dropped, as pystac drops it
        _doc(geometry=None, bbox=None) | {"foo": {"bar": [1]}, "zz": None},
        _doc(stac_extensions=[], links=[]) | {"a-foreign": 1},
        _doc(
            properties={
                "datetime": None,
                "start_datetime": "2024-01-01T00:00:00.000000Z",
                "end_datetime": "2024-02-01T00:00:00.000000Z",
            }
        ),
    ],
)
def test_the_stored_item_form_is_pystacs_round_trip_key_for_key(doc: dict[str, Any]) -> None:
    # GIVEN a validated item document  WHEN it is stored  THEN it is pystac's form, in pystac's key order
    if doc.get("bbox") is None:
        doc.pop("bbox", None)
    expected = _via_pystac(doc, "cat")
    got = stored_item(doc, "cat")
    assert got == expected
    assert list(got) == list(expected)


@pytest.mark.parametrize(
    "body",
    [
        {"href": "https://h.example/a.tif", "type": "image/tiff", "roles": [" data ", "data", ""], "title": "A"},
        {"href": "s3://b/k", "description": None, "eo:bands": [{"name": "b1"}], "created": "x", "id": "ignored"},
        {"href": "file:///x", "title": None, "proj:epsg": 4326, "roles": []},
    ],
)
def test_plain_asset_fields_are_the_models_fields(body: dict[str, Any]) -> None:
    # GIVEN a common inline asset  WHEN its fields are read by the fast path  THEN the record is the model's
    fast = plain_asset_fields(body)
    assert fast is not None
    model = AssetFields.model_validate({k: v for k, v in body.items() if k not in ("created", "id")})
    kwargs: dict[str, Any] = {"catalog_id": "c", "collection_id": "s2", "item_id": "i", "created": "t"}
    via_fast, via_model = asset_doc("i.a", fast, **kwargs), asset_doc("i.a", model, **kwargs)
    assert via_fast == via_model
    assert list(via_fast) == list(via_model)


@pytest.mark.parametrize(
    "body",
    [
        {"href": "ftp://x/y"},
        {"href": 3},
        {"href": "https://h/a", "roles": "data"},
        {"href": "https://h/a", "title": 5},
        {"href": "https://h/a", "file:size": 10.0},  # the model turns it into 10
        {"href": "https://h/a", "file:size": True},
        {"href": "https://h/a", "file:size": -1},
        {"href": "https://h/a", "file:checksum": "abc"},
        {"href": "https://h/a", "alternate": {"file": {"href": "file:///x"}}},
        {"href": "https://h/a", "unknown": 1},
    ],
)
def test_any_other_asset_body_goes_to_the_model(body: dict[str, Any]) -> None:
    # GIVEN an asset body outside the common shape  WHEN read  THEN the fast path declines it
    assert plain_asset_fields(body) is None


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": [1, 2]},
        POLYGON,
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},  # a ring of 3 positions
        {"type": "Point", "coordinates": [1]},
        {"type": "Triangle", "coordinates": [1, 2]},
        {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1, 2]}]},
    ],
)
def test_the_compiled_item_check_and_jsonschema_agree(geometry: dict[str, Any]) -> None:
    # GIVEN an item with a valid or an invalid geometry
    # WHEN the compiled check (jsonschema-rs) and jsonschema judge it
    # THEN they agree
    from dynastore.services.stac.validation import _fast_check, _validator

    doc = _doc(geometry=geometry, links=[{"rel": "collection", "href": "./collection.json"}])
    fast_ok = _fast_check("Item")(doc)
    assert fast_ok == _validator("Item").is_valid(doc)


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"stac_extensions": ["not a uri"]},
        {"stac_extensions": ["https://e/x.json", "https://e/x.json"]},  # uniqueItems
        {"links": [{"rel": "collection"}]},  # a link without href
        {"bbox": [0, 0, 1]},
        {"properties": {"datetime": None}},  # null datetime without a range
        {"properties": {"datetime": "2024-13-45T00:00:00Z"}},
        {"id": 7},
        {"assets": {"a": {"title": "no href"}}},
        {"geometry": None},
    ],
)
def test_the_compiled_item_check_and_jsonschema_agree_beyond_geometry(change: dict[str, Any]) -> None:
    # GIVEN an item with one member changed (or none)
    from dynastore.services.stac.validation import _fast_check, _validator

    doc = _doc(**change)

    # WHEN jsonschema-rs and jsonschema judge it  THEN they agree
    assert _fast_check("Item")(doc) == _validator("Item").is_valid(doc)


_RING = [[0, 0], [2.5, 0], [2.5, 1], [0, 1], [0, 0]]


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": [3, -4.5]},
        {"type": "Point", "coordinates": [3, -4.5, 100]},
        {"type": "LineString", "coordinates": [[0, 0], [-1, 7]]},
        {"type": "Polygon", "coordinates": [_RING]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0.5]]]},  # unclosed: shapely closes it
        {"type": "Polygon", "coordinates": [_RING, [[-5, -5], [9, -5], [9, 9], [-5, -5]]]},  # hole outside
        {"type": "Polygon", "coordinates": [[[0, 0, 1], [1, 0, 2], [1, 1, 3], [0, 0, 1]]]},
        {"type": "MultiPolygon", "coordinates": [[_RING], [[[10, 10], [11, 10], [11, 12], [10, 10]]]]},
    ],
)
def test_plain_geometry_bounds_are_shapelys(geometry: dict[str, Any]) -> None:
    # GIVEN a plain GeoJSON geometry
    from shapely.geometry import shape

    # WHEN its bounds are computed without shapely
    bounds = simple_bounds(geometry)

    # THEN they are shapely's, as floats
    assert bounds == shape(geometry).bounds
    assert bounds is not None and all(type(v) is float for v in bounds)


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": []},
        {"type": "Point", "coordinates": [1]},
        {"type": "Point", "coordinates": [1, True]},
        {"type": "Point", "coordinates": [1, "2"]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},  # too few positions
        {"type": "Polygon", "coordinates": []},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0, 5], [1, 1], [0, 0]]]},  # mixed dimensions
        {"type": "MultiPolygon", "coordinates": []},
        {"type": "point", "coordinates": [1, 2]},  # shapely's lenient spelling: shapely decides
        {"type": "GeometryCollection", "geometries": []},
        {"type": "MultiPoint", "coordinates": [[1, 2]]},
        {"coordinates": [1, 2]},
        [1, 2],
    ],
)
def test_other_geometries_are_left_to_shapely(geometry: Any) -> None:
    # GIVEN a geometry that is empty, malformed or not of the plain kinds
    # WHEN its bounds are asked without shapely
    # THEN there is no answer, so shapely builds (or refuses) it as before
    assert simple_bounds(geometry) is None


def _candidates_by_the_rule(item_id: str, key: str) -> tuple[str, ...]:
    """The rule of ``asset_id_candidates`` spelled with ``check_id`` and ``slug``."""
    try:
        check_id(key)
    except Invalid:
        return (slug(f"{item_id}.{key}"),)
    if key.startswith(item_id) and key[len(item_id) : len(item_id) + 1] in ITEM_KEY_SEPARATORS:
        return (key,)
    return slug(f"{item_id}.{key}"), key


@pytest.mark.parametrize("item_id", ["S2A_1", "a", "x" * 190, "bad id"])
@pytest.mark.parametrize(
    "key",
    ["visual", "B04", "S2A_1-B04", "S2A_1.visual", "S2A_1", "S2A_1x", "B04-", "B04_", "k~", "key\n", "a b", "é",
     ".", "..", "-x", "x" * 20, ""],
)
def test_asset_id_candidates_follow_the_id_and_slug_rules(item_id: str, key: str) -> None:
    # GIVEN an item id and an inline asset key (URL-safe or not, long, with a trailing separator)
    # WHEN the asset ids it may have are derived
    # THEN they are the ones check_id and slug give
    assert asset_id_candidates(item_id, key) == _candidates_by_the_rule(item_id, key)


@pytest.mark.parametrize(
    "roles", [["data"], ["data", "visual"], [" data "], ["data", "data"], ["", "data"], ["  "], []]
)
def test_plain_asset_roles_are_the_models(roles: list[str]) -> None:
    # GIVEN an inline asset's roles, tidy or not (padded, repeated, blank)
    body = {"href": "https://example.com/a.tif", "roles": roles}
    # WHEN its plain fields are read
    # THEN the roles are the model's
    assert plain_asset_fields(body)["roles"] == AssetFields.model_validate(body).roles  # type: ignore[index]


_HREF = "https://data.example.com/s2/B04.tif"
_FAST, _MODEL = True, False  # which path a body takes


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"href": _HREF}, _FAST),
        ({"href": "s3://b/k", "type": "image/tiff", "title": "B04", "roles": ["data"], "file:size": 1000}, _FAST),
        ({"href": _HREF, "file:size": 0, "file:checksum": "1220" + "aB" * 32, "description": "d"}, _FAST),
        ({"href": _HREF, "file:size": None, "file:checksum": None, "type": None, "title": None}, _FAST),
        ({"href": _HREF, "file:size": 2**63 - 1}, _FAST),
        ({"href": _HREF, "roles": [" data ", "data", "", "visual", "  "]}, _FAST),
        ({"href": _HREF, "roles": []}, _FAST),
        ({"href": _HREF, "eo:bands": [{"name": "B04"}], "proj:epsg": None, "x:y": {}, "raster:z": [0, ""]}, _FAST),
        ({"href": _HREF, "created": "2020-01-01", "updated": "x", "id": "a", "status": "deleted", "rev": 9}, _FAST),
        ({"href": "file:///data/c/a.tif", "storage": {"bucket": "b", "key": "k"}, "catalog_id": "o"}, _FAST),
        ({"type": "image/png", "href": "http://h.example/a.png", "title": "Ä", "file:size": 5}, _FAST),
        ({"href": _HREF, "file:size": 10.0}, _MODEL),
        ({"href": _HREF, "file:size": True}, _MODEL),
        ({"href": _HREF, "file:size": "12"}, _MODEL),
        ({"href": _HREF, "alternate": {"s3": {"href": "s3://b/k"}}, "roles": ["data"]}, _MODEL),
        ({"href": "https://h.example/c/a/download", "alternate": {"file": {"href": "file:///x/a.tif"}}}, _MODEL),
        ({"href": _HREF, "tags": ["t", "t"], "metadata": {"k": 1}, "code": "C1", "version": "2"}, _MODEL),
        ({"href": _HREF, "datetime": "2024-01-01T00:00:00Z", "bbox": [0, 0, 1, 1], "latest": True}, _MODEL),
        ({"href": _HREF, "extensions": {"eo:x": 1}}, _MODEL),
    ],
)
def test_the_fast_path_and_the_model_store_the_same_record(body: dict[str, Any], path: bool) -> None:
    # GIVEN an inline asset of the common shape or of another (odd types, alternate, model-only fields)
    kwargs: dict[str, Any] = {"catalog_id": "c", "collection_id": "s2", "item_id": "i", "created": "t", "rev": 1}
    via_model = asset_doc("i.a", _asset_fields(_as_sent_back(body), "assets.a"), **kwargs)

    # WHEN the fast path reads it
    fast = plain_asset_fields(body)

    # THEN it takes the common shapes (only), and the stored record, page record and search text are the model's
    assert (fast is not None) is path
    if fast is not None:
        via_fast = asset_doc("i.a", fast, **kwargs)
        assert via_fast == via_model and list(via_fast) == list(via_model)
        assert stored_record_json(via_fast) == stored_record_json(via_model)
        assert search_text(via_fast) == search_text(via_model)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"href": _HREF, "file:size": -1}, "assets.a.file:size: Input should be greater than or equal to 0"),
        ({"href": _HREF, "file:size": 2**63}, "assets.a.file:size: Input should be less than or equal to 922337"),
        ({"href": _HREF, "file:checksum": "abc"}, "assets.a.file:checksum: String should match pattern"),
        ({"href": _HREF, "file:checksum": "abcd\n"}, "assets.a.file:checksum: String should match pattern"),
        ({"href": _HREF, "file:checksum": 1234}, "assets.a.file:checksum: Input should be a valid string"),
        ({"href": _HREF, "file:size": "big"}, "assets.a.file:size: Input should be a valid integer"),
        ({"href": _HREF, "roles": "data"}, "assets.a.roles: Input should be a valid list"),
        ({"href": "ftp://h/a"}, "assets.a.href: href must start with one of"),
        ({"href": _HREF, "colour": "red"}, "assets.a.colour: Extra inputs are not permitted"),
        ({"title": "no href"}, "assets.a needs an href"),
    ],
)
def test_a_bad_asset_is_left_to_the_model_which_names_the_field(body: dict[str, Any], detail: str) -> None:
    # GIVEN an inline asset the model refuses
    # WHEN it is read  THEN the fast path declines it and the model's message names the field
    assert plain_asset_fields(body) is None
    with pytest.raises(Invalid) as caught:
        _asset_fields(_as_sent_back(body), "assets.a")
    assert caught.value.detail.startswith(detail)
