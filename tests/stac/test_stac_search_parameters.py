"""The GET parameters of the STAC searches and lists: the OpenAPI document declares each one the route
reads; lists repeat or come comma-separated, one-valued parameters refuse repeats, unknown ones are
refused, hyphenated names (`filter-lang`) and their underscore aliases both work."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import StacApi, assert_problem, item

COMMON = {"ids", "datetime", "limit", "token", "filter", "filter-lang", "filter-crs", "sortby", "query", "q", "count"}
ITEM_SEARCH = COMMON | {"collections", "bbox", "intersects", "fields"}
ASSET_SEARCH = COMMON | {"collections", "items", "bbox", "roles", "type", "catalog_id", "fields"}
ITEMS = "/stac/catalogs/{catalog_id}/collections/{collection_id}/items"
ITEM_ASSETS = f"{ITEMS}/{{item_id}}/assets"
DECLARED = {
    "/stac/search": ITEM_SEARCH,
    "/stac/catalogs/{catalog_id}/search": ITEM_SEARCH,
    ITEMS: ITEM_SEARCH - {"collections"},
    "/stac/asset-search": ASSET_SEARCH,
    "/stac/catalogs/{catalog_id}/asset-search": ASSET_SEARCH,
    ITEM_ASSETS: COMMON | {"roles", "type", "fields"},
    "/stac/catalogs/{catalog_id}/collections": {"limit", "token"},
}


@pytest.mark.parametrize("path", sorted(DECLARED))
def test_the_stac_searches_document_every_parameter_they_read(stac_api: StacApi, path: str) -> None:
    # GIVEN the published OpenAPI document WHEN a STAC search or list GET operation is read
    operation = stac_api.reader.get("/api").json()["paths"][path]["get"]
    declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    # THEN it names every parameter the route reads (aliases such as filter_lang stay undocumented)
    assert declared == DECLARED[path]


@pytest.fixture(scope="module")
def catalog(stac_api: StacApi) -> str:
    catalog_id = stac_api.new_catalog("prm")
    stac_api.new_collection(catalog_id, "s2")
    data = {"href": "https://x.org/a.tif", "type": "image/tiff", "roles": ["data"], "title": "A"}
    thumb = {"href": "https://x.org/a.png", "type": "image/png", "roles": ["thumbnail"], "title": "T"}
    meta = {"href": "https://x.org/a.xml", "type": "application/xml", "roles": ["metadata"], "title": "M"}
    stac_api.post_items(
        catalog_id,
        "s2",
        [
            item("a", west=0, south=0, cloud_cover=5, assets={"a-data": data, "a-thumb": thumb, "a-meta": meta}),
            item("b", west=10, south=0, cloud_cover=50),
            item("c", west=20, south=0, cloud_cover=80),
        ],
    )
    return catalog_id


def _features(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(f["id"] for f in response.json()["features"])


def _assets(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(a["id"] for a in response.json()["assets"])


def test_item_search_lists_repeat_and_aliases_read_the_same(stac_api: StacApi, catalog: str) -> None:
    search = f"/stac/catalogs/{catalog}/search"
    # WHEN ids are repeated or comma-separated THEN either is "any of"
    assert _features(stac_api.reader.get(search, params=[("ids", "a"), ("ids", "b")])) == ["a", "b"]
    assert _features(stac_api.reader.get(search, params={"ids": "a,c", "collections": "s2"})) == ["a", "c"]
    # WHEN bbox comes as four repeated numbers THEN it is one box
    box: list[tuple[str, Any]] = [("bbox", "-1"), ("bbox", "-1"), ("bbox", "5"), ("bbox", "5")]
    assert _features(stac_api.reader.get(search, params=box)) == ["a"]
    # WHEN filter is repeated THEN the last one counts; filter-lang and filter_lang both name the language
    filters: list[tuple[str, Any]] = [
        ("filter", "eo:cloud_cover > 70"),
        ("filter", "eo:cloud_cover < 10"),
        ("filter-lang", "cql2-text"),
    ]
    assert _features(stac_api.reader.get(search, params=filters)) == ["a"]
    cql2_json = '{"op": ">", "args": [{"property": "eo:cloud_cover"}, 40]}'
    assert _features(stac_api.reader.get(search, params={"filter": cql2_json, "filter_lang": "cql2-json"})) == [
        "b",
        "c",
    ]
    # WHEN fields are repeated THEN each part applies
    response = stac_api.reader.get(search, params=[("ids", "a"), ("fields", "id"), ("fields", "-assets")])
    assert response.status_code == 200, response.text
    assert "assets" not in response.json()["features"][0]


@pytest.mark.parametrize("name", ["q", "limit", "token", "datetime", "query", "intersects", "filter-lang"])
def test_item_search_refuses_repeats_of_one_valued_parameters(stac_api: StacApi, catalog: str, name: str) -> None:
    # GIVEN a filter (filter-lang is read with one) WHEN a one-valued parameter is repeated THEN a 400 names it
    params: list[tuple[str, Any]] = [("filter", "id = 'a'"), (name, "1"), (name, "2")]
    response = stac_api.reader.get(f"/stac/catalogs/{catalog}/search", params=params)
    assert_problem(response, 400, f"{name} takes one value")


def test_unknown_parameters_are_refused_with_what_is_supported(stac_api: StacApi, catalog: str) -> None:
    for path in ("/stac/search", f"/stac/catalogs/{catalog}/search", "/stac/asset-search"):
        assert_problem(stac_api.reader.get(path, params={"colour": "red"}), 400, "colour", "supported")
    # the items of one collection take no `collections`; the collections list pages only
    items = f"/stac/catalogs/{catalog}/collections/s2/items"
    assert_problem(stac_api.reader.get(items, params={"collections": "s2"}), 400, "unknown parameter(s) collections")
    collections = f"/stac/catalogs/{catalog}/collections"
    assert_problem(stac_api.reader.get(collections, params={"bbox": "0,0,1,1"}), 400, "bbox", "limit, token")
    assert_problem(stac_api.reader.get(collections, params=[("limit", "1"), ("limit", "2")]), 400, "limit")


def test_the_collections_list_refuses_a_repeated_token(stac_api: StacApi, catalog: str) -> None:
    # WHEN the page token is given twice THEN a 400 says it takes one value (like every search's token)
    response = stac_api.reader.get(f"/stac/catalogs/{catalog}/collections", params=[("token", "a"), ("token", "b")])
    assert_problem(response, 400, "token takes one value")


def test_asset_search_reads_lists_aliases_and_its_catalog(stac_api: StacApi, catalog: str) -> None:
    search = f"/stac/catalogs/{catalog}/asset-search"
    # WHEN roles repeat and type comes as its alias types THEN both are "any of"
    assert _assets(stac_api.reader.get(search, params=[("roles", "data"), ("roles", "thumbnail")])) == [
        "a-data",
        "a-thumb",
    ]
    assert _assets(stac_api.reader.get(search, params={"types": "image/png,application/xml"})) == ["a-meta", "a-thumb"]
    assert _assets(stac_api.reader.get("/stac/asset-search", params={"catalog_ids": catalog, "items": "a"})) == [
        "a-data",
        "a-meta",
        "a-thumb",
    ]
    # THEN intersects, another catalog and a repeated q are 400s naming the fix
    assert_problem(stac_api.reader.get(search, params={"intersects": '{"type": "Point"}'}), 400, "bbox")
    assert_problem(stac_api.reader.get(search, params={"catalog_id": "other"}), 400, "another catalog")
    assert_problem(stac_api.reader.get(search, params=[("q", "a"), ("q", "b")]), 400, "q takes one value")


def test_item_assets_read_their_filters_and_refuse_other_places(stac_api: StacApi, catalog: str) -> None:
    path = f"/stac/catalogs/{catalog}/collections/s2/items/a/assets"
    assert _assets(stac_api.reader.get(path, params=[("roles", "data"), ("roles", "metadata")])) == [
        "a-data",
        "a-meta",
    ]
    page = stac_api.reader.get(path, params={"limit": "2", "sortby": "id"})
    assert _assets(page) == ["a-data", "a-meta"]
    next_link = next(link["href"] for link in page.json()["links"] if link["rel"] == "next")
    assert "sortby=id" in next_link and "limit=2" in next_link
    assert_problem(stac_api.reader.get(path, params={"bbox": "0,0,1,1"}), 400, "bbox does not apply")
    assert_problem(stac_api.reader.get(path, params={"colour": "red"}), 400, "colour", "supported")
