"""The GET parameters of the asset search and the asset lists: the OpenAPI document declares each one
the route reads, lists repeat, one-valued parameters refuse repeats, unknown ones are refused."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import Api, assert_problem

FILTERS = {
    "q",
    "ids",
    "roles",
    "type",
    "tags",
    "datetime",
    "bbox",
    "status",
    "query",
    "filter",
    "filter-lang",
    "sortby",
    "limit",
    "token",
    "count",
}
WHERE = {"catalog_id", "collection_id", "item_id", "level"}
LIST_PATHS = (
    "/assets/catalogs/{catalog_id}/assets",
    "/assets/catalogs/{catalog_id}/collections/{collection_id}/assets",
    "/assets/catalogs/{catalog_id}/collections/{collection_id}/items/{item_id}/assets",
)


def _query_parameters(api: Api, path: str) -> set[str]:
    document = api.reader.get("/api").json()
    return {p["name"] for p in document["paths"][path]["get"].get("parameters", []) if p["in"] == "query"}


def test_the_asset_search_documents_every_parameter_it_reads(api: Api) -> None:
    # GIVEN the published OpenAPI document WHEN the GET /assets/search operation is read
    declared = _query_parameters(api, "/assets/search")
    # THEN it names every filter the search applies, and where the asset is
    assert declared == FILTERS | WHERE


@pytest.mark.parametrize("path", LIST_PATHS)
def test_the_asset_lists_document_the_filters_they_read(api: Api, path: str) -> None:
    # GIVEN the published OpenAPI document WHEN an asset list operation is read
    declared = _query_parameters(api, path)
    # THEN it names the search filters, and not the level, which comes from the path
    assert declared == FILTERS


@pytest.fixture
def listed(api: Api) -> str:
    catalog_id = api.new_catalog("prm")
    for body in (
        {"id": "a-data", "href": "https://x.org/a.tif", "roles": ["data"], "tags": ["t"]},
        {"id": "b-thumb", "href": "https://x.org/b.png", "roles": ["thumbnail"]},
        {"id": "c-meta", "href": "https://x.org/c.xml", "roles": ["metadata"], "tags": ["t"]},
    ):
        assert api.editor.post(f"/assets/catalogs/{catalog_id}/assets", json=body).status_code == 201
    return catalog_id


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [a["id"] for a in response.json()["assets"]]


@pytest.mark.parametrize("where", ["search", "list"])
def test_list_parameters_repeat_and_the_last_limit_counts(api: Api, listed: str, where: str) -> None:
    # GIVEN an asset search or a catalog's asset list
    path, scope = (
        ("/assets/search", [("catalog_id", listed)]) if where == "search" else (f"/assets/catalogs/{listed}/assets", [])
    )
    # WHEN roles and sortby are repeated, and limit given twice
    roles = [("roles", "data"), ("roles", "thumbnail")]
    assert sorted(_ids(api.reader.get(path, params=[*scope, *roles]))) == ["a-data", "b-thumb"]
    sorted_desc = _ids(api.reader.get(path, params=[*scope, ("sortby", "-id"), ("sortby", "+title")]))
    assert sorted_desc == ["c-meta", "b-thumb", "a-data"]
    # THEN repeated lists are "any of" / joined, and the last limit is the page size
    assert len(_ids(api.reader.get(path, params=[*scope, ("limit", "1"), ("limit", "2")]))) == 2
    assert _ids(api.reader.get(path, params=[*scope, ("tags", "t"), ("sortby", "id")])) == ["a-data", "c-meta"]


@pytest.mark.parametrize("where", ["search", "list"])
def test_one_valued_and_unknown_parameters_are_refused(api: Api, listed: str, where: str) -> None:
    path, scope = (
        ("/assets/search", [("catalog_id", listed)]) if where == "search" else (f"/assets/catalogs/{listed}/assets", [])
    )
    # WHEN a one-valued parameter is repeated THEN a 400 names it
    assert_problem(api.reader.get(path, params=[*scope, ("q", "a"), ("q", "b")]), 400, "q takes one value")
    assert_problem(api.reader.get(path, params=[*scope, ("token", "a"), ("token", "b")]), 400, "token")
    # WHEN a parameter the route does not take is sent THEN a 400 names it and what is supported
    assert_problem(api.reader.get(path, params=[*scope, ("colour", "red")]), 400, "colour", "supported")


def test_the_level_of_an_asset_list_comes_from_its_path(api: Api, listed: str) -> None:
    response = api.reader.get(f"/assets/catalogs/{listed}/assets", params={"collection_id": "s2"})
    assert_problem(response, 400, "collection_id", "come from the path")


def test_a_sortby_that_is_neither_text_nor_a_list_is_a_400(api: Api, listed: str) -> None:
    # GIVEN a POST search whose sortby is a number WHEN it runs THEN a 400 shows the two accepted forms
    response = api.reader.post("/assets/search", json={"catalog_id": listed, "sortby": 5})
    assert_problem(response, 400, "sortby", "-datetime,+id")
