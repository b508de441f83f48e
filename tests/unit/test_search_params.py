"""Search parameters (GET query and POST body) → AssetQuery, with 400s that say what to fix."""

from __future__ import annotations

import pytest

from dynastore.api.params import multi_params
from dynastore.api.search_params import parse_search
from dynastore.config import Settings
from dynastore.domain.filters import And, Compare, In, Not
from dynastore.domain.search import SortKey
from dynastore.errors import Invalid

SETTINGS = Settings()


def test_get_parameters_become_a_query() -> None:
    # GIVEN GET parameters with lists as commas and as repeated names
    params = multi_params(
        [
            ("q", "B04"),
            ("catalog_id", "demo"),
            ("collection_id", "s2"),
            ("roles", "data,overview"),
            ("tags", "a"),
            ("tags", "b"),
            ("type", "image/tiff"),
            ("datetime", "2024-01-01T00:00:00Z/.."),
            ("bbox", "10,40,11,41"),
            ("sortby", "-updated,+id"),
            ("limit", "50"),
            ("token", "abc"),
        ]
    )
    # WHEN parsed
    query = parse_search(params, SETTINGS)
    # THEN every field lands where the store expects it
    assert query.q == "B04"
    assert query.catalog_ids == ("demo",)
    assert query.collection_id == "s2"
    assert query.roles == ("data", "overview")
    assert query.tags == ("a", "b")
    assert query.types == ("image/tiff",)
    assert query.datetime == ("2024-01-01T00:00:00.000000Z", None)
    assert query.bbox == (10.0, 40.0, 11.0, 41.0)
    assert query.sortby == (SortKey("updated", "desc"), SortKey("id", "asc"))
    assert query.limit == 50 and query.token == "abc"
    assert query.status == ("active",)


def test_post_body_uses_json_types() -> None:
    query = parse_search(
        {"roles": ["data"], "bbox": [1, 2, 3, 4], "limit": 10, "query": {"metadata.cloud": {"$lt": 10}}}, SETTINGS
    )
    assert query.roles == ("data",) and query.bbox == (1.0, 2.0, 3.0, 4.0) and query.limit == 10
    assert query.filter == Compare("lt", "metadata.cloud", 10)


def test_query_as_a_get_parameter_is_json_text() -> None:
    query = parse_search({"query": '{"metadata.band": {"$in": ["B04"]}, "metadata.x": {"$nin": [1]}}'}, SETTINGS)
    assert query.filter == And((In("metadata.band", ("B04",)), Not(In("metadata.x", (1,)))))


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"limit": "10001"}, ["limit", "10000"]),
        ({"limit": "0"}, ["limit"]),
        ({"limit": "ten"}, ["limit", "integer"]),
        ({"limit": True}, ["limit", "integer"]),
        ({"query": '{"metadata.cloud": {"$regex": "x"}}'}, ["unknown query operator", "$regex"]),
        ({"query": "{not json"}, ["query", "JSON"]),
        ({"query": "[1]"}, ["query"]),
        ({"bbox": "1,2,3"}, ["bbox", "4 or 6"]),
        ({"bbox": "a,b,c,d"}, ["bbox"]),
        ({"datetime": "yesterday"}, ["RFC 3339"]),
        ({"datetime": "2024-02-01T00:00:00Z/2024-01-01T00:00:00Z"}, ["starts after"]),
        ({"status": "gone"}, ["status"]),
        ({"sortby": "colour"}, ["sort"]),
        ({"catalog_id": "no spaces"}, ["URL-safe"]),
        ({"level": "planet"}, ["level"]),
        ({"colour": "red"}, ["unknown search parameter", "colour"]),
        ({"roles": 5}, ["roles"]),
    ],
)
def test_bad_parameters_are_invalid_with_a_useful_detail(params: dict, words: list[str]) -> None:
    with pytest.raises(Invalid) as info:
        parse_search(params, SETTINGS)
    for word in words:
        assert word.lower() in info.value.detail.lower()


def test_the_limit_defaults_from_settings() -> None:
    assert parse_search({}, Settings(default_page_limit=7)).limit == 7
