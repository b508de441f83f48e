"""The pure pieces behind the search limits: the LIKE matcher, the pre-scans, the time budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynastore.backends.local.sqlite_base import SqliteDatabase
from dynastore.domain.cql2 import compile_cql2
from dynastore.domain.filters import And, Compare, Expr, In, Like, Not, Or, compile_like, from_mongo, matches
from dynastore.domain.limits import (
    MAX_FILTER_DEPTH,
    MAX_FILTER_TERMS,
    MAX_JSON_DEPTH,
    check_filter_expr,
    check_filter_text,
    check_json_depth,
    check_time_budget,
    json_depth,
    time_budget,
)
from dynastore.domain.search import AssetQuery
from dynastore.errors import Invalid, Unavailable


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("abc", "abc", True),
        ("abc", "abcd", False),
        ("", "", True),
        ("", "a", False),
        ("%", "", True),
        ("%", "anything", True),
        ("a%", "abc", True),
        ("%c", "abc", True),
        ("%b%", "abc", True),
        ("%b%", "acd", False),
        ("a%b%c", "aXbYc", True),
        ("a%b%c", "acb", False),
        ("%a%a%", "a", False),  # two a's needed, one given
        ("%aa%aa", "aaaa", True),
        ("%aa%aa", "aaa", False),  # segments may not overlap
        ("_", "a", True),
        ("_", "", False),
        ("_", "ab", False),
        ("a_c", "abc", True),
        ("%a_a%", "xaxay", True),
        ("%a_a%", "xaay", False),
        ("__%", "a", False),
        ("line_", "line\n", True),  # _ matches a newline too
        ("abc", "abc\n", False),  # no trailing-newline slack
        ("100\\%", "100%", True),
        ("100\\%", "1000", False),
        ("a\\_c", "a_c", True),
        ("a\\_c", "abc", False),
        ("a\\\\c", "a\\c", True),
        ("%\\%%", "50% off", True),
    ],
)
def test_like_matches_exactly_like_sql(pattern: str, value: str, expected: bool) -> None:
    # GIVEN a LIKE pattern WHEN it is matched THEN % is any run, _ one character, \ escapes
    assert compile_like(pattern)(value) is expected


def test_like_case_insensitive() -> None:
    assert compile_like("%band_4", casei=True)("S2 BAND 4")
    assert not compile_like("%band_4")("S2 BAND 4")
    assert matches(Like("title", "ÉTÉ%", casei=True), {"title": "été 2024"})


def test_like_on_long_values_is_exact_without_backtracking() -> None:
    # GIVEN a 100,000-character value; WHEN patterns that a regex would backtrack on are matched
    value = "a" * 100_000
    # THEN they answer (exactly) at once
    assert not compile_like("%a%a%a%a%b")(value)
    assert compile_like("%a%a%a%a")(value)
    assert compile_like("%a_a%a_a%_%a")(value)
    assert not compile_like("%a_a%a_b%")(value)


def test_cql2_text_prescan_counts_parentheses_and_not_chains() -> None:
    check_filter_text("NOT (NOT (id = 'a')) AND title LIKE '((((((%'")  # literals are skipped
    check_filter_text("(" * MAX_FILTER_DEPTH + "id = 1" + ")" * MAX_FILTER_DEPTH)
    with pytest.raises(Invalid, match=f"nesting depth {MAX_FILTER_DEPTH + 1} exceeds the limit of {MAX_FILTER_DEPTH}"):
        check_filter_text("(" * (MAX_FILTER_DEPTH + 1) + "id = 1" + ")" * (MAX_FILTER_DEPTH + 1))
    with pytest.raises(Invalid, match="nesting depth"):
        check_filter_text("NOT " * 10_000 + "id = 1")
    # NOTs closed by AND/OR do not add up
    check_filter_text(" AND ".join(["NOT id = 1"] * 500))


def test_compile_rejects_deep_or_huge_filters_before_parsing() -> None:
    with pytest.raises(Invalid, match="nesting depth 2000 exceeds"):
        compile_cql2("(" * 2000 + "id = 1" + ")" * 2000)
    json_text = '{"op":"not","args":[' * 400 + '{"op":"=","args":[{"property":"id"},1]}' + "]}" * 400
    with pytest.raises(Invalid, match=f"JSON nesting depth .* exceeds the limit of {MAX_JSON_DEPTH}"):
        compile_cql2(json_text)
    with pytest.raises(Invalid, match="characters long"):
        compile_cql2("id = 1 OR " * 20_000 + "id = 2")


def test_json_depth_is_measured_without_recursion() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert json_depth(deep) == 100_001
    assert json_depth({"a": [1, {"b": 2}]}) == 3
    assert json_depth("scalar") == 0
    with pytest.raises(Invalid, match=f"JSON nesting depth 100001 exceeds the limit of {MAX_JSON_DEPTH}"):
        check_json_depth(deep, "query")


def test_compiled_filter_limits_hold_for_every_query() -> None:
    leaf = Compare("eq", "id", "a")
    AssetQuery(catalog_ids=("c",), filter=Or(tuple(leaf for _ in range(MAX_FILTER_TERMS - 1))))
    with pytest.raises(Invalid, match=f"above the limit of {MAX_FILTER_TERMS}"):
        AssetQuery(catalog_ids=("c",), filter=Or(tuple(leaf for _ in range(MAX_FILTER_TERMS))))
    deep: Expr = leaf
    for _ in range(MAX_FILTER_DEPTH):
        deep = Not(deep)
    with pytest.raises(Invalid, match="nesting depth"):
        AssetQuery(catalog_ids=("c",), filter=deep)
    with pytest.raises(Invalid, match="values"):
        check_filter_expr(And((In("id", tuple(range(6000))), In("id", tuple(range(6000))))))
    with pytest.raises(Invalid, match="nesting depth"):
        q: dict[str, object] = {"id": 1}
        for _ in range(MAX_FILTER_DEPTH):
            q = {"$and": [q]}
        AssetQuery(catalog_ids=("c",), filter=from_mongo(q))


def test_time_budget_interrupts_a_running_sqlite_query(tmp_path: Path) -> None:
    # GIVEN a statement that would run for minutes
    db = SqliteDatabase(tmp_path / "db.sqlite")
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    try:
        # WHEN it runs under a 50 ms budget THEN it stops with a 503-class error naming the setting
        with time_budget(0.05), pytest.raises(Unavailable, match="DYNASTORE_SEARCH_TIMEOUT_SECONDS"):
            db.query(endless)
        # AND without a budget other statements are untouched
        assert db.query_one("SELECT 1")[0] == 1
    finally:
        db.close()


def test_check_time_budget_outside_a_budget_is_a_no_op() -> None:
    check_time_budget()
    with time_budget(0.0), pytest.raises(Unavailable, match="time budget of 0 s"):
        check_time_budget()
