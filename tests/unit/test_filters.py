"""The shared filter tree: MongoDB-style compilation and the reference evaluator's semantics."""

from __future__ import annotations

from typing import Any

import pytest

from dynastore.domain.filters import (
    And,
    Between,
    Compare,
    Const,
    Exists,
    In,
    Intersects,
    Like,
    Not,
    Or,
    bbox_polygon,
    conjoin,
    from_mongo,
    matches,
)
from dynastore.errors import Invalid

# ------------------------------------------------------------------------------ compilation


def test_a_bare_value_is_equality() -> None:
    assert from_mongo({"metadata.cloud": 5}) == Compare("eq", "metadata.cloud", 5)


def test_operators_compile_to_the_tree() -> None:
    query = {
        "metadata.cloud": {"$gte": 1, "$lt": 10},
        "roles": {"$in": ["data"]},
        "tags": {"$nin": ["old"]},
        "title": {"$exists": False},
        "type": {"$ne": "image/png"},
    }
    assert from_mongo(query) == And(
        (
            And((Compare("gte", "metadata.cloud", 1), Compare("lt", "metadata.cloud", 10))),
            In("roles", ("data",)),
            Not(In("tags", ("old",))),
            Not(Exists("title")),
            Compare("ne", "type", "image/png"),
        )
    )


def test_logical_operators() -> None:
    query = {"$or": [{"a": 1}, {"$and": [{"b": {"$gt": 2}}, {"c": {"$not": {"$eq": 3}}}]}]}
    assert from_mongo(query) == Or((Compare("eq", "a", 1), And((Compare("gt", "b", 2), Not(Compare("eq", "c", 3))))))


def test_an_empty_query_matches_everything() -> None:
    assert from_mongo({}) == Const(True)


def test_an_object_value_without_operators_is_equality_with_the_object() -> None:
    assert from_mongo({"metadata": {"a": 1}}) == Compare("eq", "metadata", {"a": 1})


@pytest.mark.parametrize(
    "query",
    [
        {"$where": "1"},
        {"metadata.cloud": {"$regex": "x"}},
        {"metadata.cloud": {"$gt": 1, "$elemMatch": {}}},
        {"$or": []},
        {"$and": {"a": 1}},
        {"roles": {"$in": "data"}},
        {"title": {"$exists": "yes"}},
        {"bad..path": 1},
        {"1st": 1},
        {"a b": 1},
        ["not", "an", "object"],
        "text",
    ],
    ids=repr,
)
def test_malformed_queries_are_invalid_with_a_detail(query: Any) -> None:
    with pytest.raises(Invalid) as caught:
        from_mongo(query)
    assert caught.value.detail


def test_unknown_operator_detail_names_the_operator_and_the_supported_ones() -> None:
    with pytest.raises(Invalid) as caught:
        from_mongo({"metadata.cloud": {"$regex": "x"}})
    assert "$regex" in caught.value.detail and "$in" in caught.value.detail


def test_conjoin_drops_empty_parts() -> None:
    assert conjoin(None, None) is None
    assert conjoin(Const(True), None) == Const(True)
    assert conjoin(Const(True), Const(False)) == And((Const(True), Const(False)))


# ------------------------------------------------------------------------------ evaluation

DOC: dict[str, Any] = {
    "id": "a1",
    "title": "Band 4",
    "roles": ["data", "overview"],
    "tags": [],
    "file:size": 120,
    "metadata": {"cloud": 5, "ratio": 0.5, "flag": True, "nothing": None, "nested": {"x": "y"}, "list": [{"x": 1}]},
}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (Compare("eq", "metadata.cloud", 5), True),
        (Compare("eq", "metadata.cloud", 5.0), True),
        (Compare("eq", "metadata.cloud", "5"), False),
        (Compare("ne", "metadata.cloud", "5"), True),
        (Compare("lt", "metadata.cloud", "9"), False),
        (Compare("eq", "metadata.flag", 1), False),
        (Compare("eq", "metadata.flag", True), True),
        (Compare("ne", "metadata.flag", 1), True),
        (Compare("gt", "metadata.ratio", 0.25), True),
        # missing and null satisfy no comparison, `ne` included
        (Compare("ne", "metadata.absent", 1), False),
        (Compare("ne", "metadata.nothing", 1), False),
        (Compare("eq", "metadata.nothing", None), False),
        # arrays: any element; ne: every element
        (Compare("eq", "roles", "data"), True),
        (Compare("ne", "roles", "data"), False),
        (Compare("ne", "roles", "thumbnail"), True),
        (Compare("eq", "tags", "x"), False),
        (Compare("ne", "tags", "x"), True),
        (In("roles", ("thumbnail", "overview")), True),
        (In("roles", ("thumbnail",)), False),
        # paths go through objects, not lists
        (Compare("eq", "metadata.nested.x", "y"), True),
        (Compare("eq", "metadata.list.x", 1), False),
        (Exists("metadata.nothing"), False),
        (Exists("metadata.nested"), True),
        (Exists("tags"), True),
        # casei folds both sides
        (Compare("eq", "title", "BAND 4", casei=True), True),
        (Compare("eq", "title", "BAND 4"), False),
        (In("title", ("band 4",), casei=True), True),
        # like: % and _ with escapes, whole-string match
        (Like("title", "Band%"), True),
        (Like("title", "band%"), False),
        (Like("title", "band%", casei=True), True),
        (Like("title", "Band _"), True),
        (Like("title", "Band"), False),
        (Like("title", "Band\\_4"), False),
        (Like("file:size", "12%"), False),
        (Between("file:size", 100, 120), True),
        (Between("file:size", 121, 200), False),
        (Between("metadata.cloud", "1", "9"), False),
        (Intersects("metadata.nested", bbox_polygon([0, 0, 1, 1])), False),
        (Not(Compare("eq", "metadata.absent", 1)), True),
        (Or((Const(False), Compare("eq", "id", "a1"))), True),
        (And((Const(True), Compare("eq", "id", "a2"))), False),
        (None, True),
    ],
    ids=repr,
)
def test_reference_semantics(expr: Any, expected: bool) -> None:
    assert matches(expr, DOC) is expected


def test_like_escapes_percent_and_underscore() -> None:
    doc = {"title": "100%_done"}
    assert matches(Like("title", "100\\%\\_done"), doc)
    assert not matches(Like("title", "100\\%\\_don"), doc)
    assert matches(Like("title", "1_0\\%%"), doc)


def test_intersects_with_geometry_and_bbox_arrays() -> None:
    triangle = {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [0, 10], [0, 0]]]}
    assert matches(Intersects("geometry", bbox_polygon([1, 1, 2, 2])), {"geometry": triangle})
    assert not matches(Intersects("geometry", bbox_polygon([8, 8, 9, 9])), {"geometry": triangle})
    assert matches(Intersects("bbox", bbox_polygon([0.5, 0.5, 3, 3])), {"bbox": [0, 0, 1, 1]})
    assert matches(Intersects("bbox", bbox_polygon([0.5, 0.5, 0, 3, 3, 9])), {"bbox": [0, 0, 0, 1, 1, 1]})
    assert not matches(Intersects("bbox", bbox_polygon([0, 0, 1, 1])), {"bbox": "0,0,1,1"})
    assert not matches(Intersects("bbox", bbox_polygon([0, 0, 1, 1])), {})


def test_mongo_queries_evaluate_as_documented() -> None:
    assert matches(from_mongo({"metadata.cloud": {"$lt": 10}, "roles": "data"}), DOC)
    assert not matches(from_mongo({"metadata.cloud": {"$nin": [5]}}), DOC)
    assert matches(from_mongo({"metadata.absent": {"$exists": False}}), DOC)
    assert matches(from_mongo({"$or": [{"id": "zz"}, {"file:size": {"$gte": 120}}]}), DOC)
    assert not matches(from_mongo({"metadata.cloud": {"$not": {"$gt": 3}}}), DOC)
    # $nin on a missing field holds (as in MongoDB)
    assert matches(from_mongo({"metadata.absent": {"$nin": [1]}}), DOC)
