"""Search inputs that used to hang or 500 the server: LIKE backtracking, deep JSON, huge filters, budgets.

Each test runs against the real app served over HTTP in this process (the attacks that could
stall or kill the whole process are in ``test_filter_limits_process.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from api.helpers import Api, assert_problem, start_api
from dynastore.domain.limits import MAX_FILTER_DEPTH

LONG = "a" * 3000
SEARCHES = ("/assets/search", "/stac/search", "/stac/catalogs/{c}/asset-search")


@pytest.fixture
def catalog(api: Api) -> str:
    """An empty catalog on the module's local server (``api``, tests/security/conftest.py)."""
    return api.new_catalog()


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        node = {"x": node}
    return node


def test_deep_json_body_is_a_400_naming_the_limit(api: Api, catalog: str) -> None:
    # GIVEN asset metadata nested 300 levels deep
    body = {"id": "deep", "href": "https://x.org/deep.tif", "metadata": _nested(300)}
    # WHEN it is posted, or sent as a search body
    created = api.editor.post(f"/assets/catalogs/{catalog}/assets", json=body)
    searched = api.reader.post("/assets/search", json={"query": {"metadata": _nested(300)}})
    # THEN each answers 400 naming the JSON depth limit
    assert_problem(created, 400, "JSON nesting depth", "limit")
    assert_problem(searched, 400, "JSON nesting depth", "limit")


def _mongo_and(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"metadata.cloud": {"$lt": 10}}
    for _ in range(depth):
        node = {"$and": [node, {"id": {"$exists": True}}]}
    return node


def test_deeply_nested_mongo_query_is_a_400(api: Api, catalog: str) -> None:
    # GIVEN a MongoDB-style query of 100 nested $and
    query = _mongo_and(100)
    # WHEN it is searched by GET and by POST
    got = api.reader.get("/assets/search", params={"query": orjson.dumps(query).decode()})
    posted = api.reader.post("/assets/search", json={"query": query})
    # THEN both are 400 problems naming a nesting limit
    assert_problem(got, 400, "nesting depth", "limit")
    assert_problem(posted, 400, "nesting depth", "limit")


@pytest.mark.parametrize("path", SEARCHES)
def test_filters_at_the_depth_limit_still_run(api: Api, path: str) -> None:
    # GIVEN a filter nested to exactly the allowed depth (NOT and AND alternating)
    catalog_id = api.new_catalog("dl")
    limit = MAX_FILTER_DEPTH
    text = "id = 'x'"
    for level in range(limit - 1):
        text = f"NOT ({text})" if level % 2 else f"({text}) AND title <> 'y'"
    # WHEN it is searched THEN it runs (no 500 from the SQL engine)
    response = api.reader.post(path.format(c=catalog_id), json={"filter": text})
    assert response.status_code == 200, response.text
    # AND one level more is refused, naming the limit
    too_deep = api.reader.post(path.format(c=catalog_id), json={"filter": f"NOT ({text}) AND id = 'z'"})
    assert_problem(too_deep, 400, "nesting depth", str(limit))


@pytest.mark.parametrize("path", SEARCHES)
def test_three_thousand_ors_are_a_400_naming_the_limit(api: Api, path: str) -> None:
    # GIVEN a CQL2 filter of 3,000 OR-ed comparisons
    catalog_id = api.new_catalog("ors")
    text = " OR ".join(f"id = 'a{i}'" for i in range(3000))
    # WHEN it is posted to a search
    response = api.reader.post(path.format(c=catalog_id), json={"filter": text})
    # THEN it is a 400 naming the term limit
    assert_problem(response, 400, "terms", "limit")


def test_a_search_past_its_time_budget_answers_503(serve: Any, tmp_path: Path) -> None:
    # GIVEN a server whose searches may take 1 ms, and a catalog of 5,000 assets with long titles
    for api in start_api(serve, tmp_path / "budget", search_timeout_seconds=0.001):
        catalog_id = api.new_catalog("budget")
        assets = [{"id": f"a{i}", "href": f"https://x.org/{i}.tif", "title": LONG} for i in range(5000)]
        assert api.editor.post("/assets/bulk", json={"catalog_id": catalog_id, "assets": assets}).status_code == 200
        # WHEN a search has to read every one of them
        response = api.reader.get("/assets/search", params={"catalog_id": catalog_id, "filter": "title LIKE '%b%'"})
        # THEN it answers 503 naming the budget setting rather than running on
        assert_problem(response, 503, "time budget", "DYNASTORE_SEARCH_TIMEOUT_SECONDS")
        # AND the server answers other requests
        assert api.reader.get("/health").status_code == 200
