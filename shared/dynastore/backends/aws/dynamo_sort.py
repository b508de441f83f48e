"""Searches with ``sortby`` on DynamoDB: the matching records of the catalogs' partitions are read
(at most ``sort_cap`` items), sorted in memory by the requested fields then the tie-breakers, and
paged by keyset (the token holds the last row's sort values and ids), so pages stay exact while
records are inserted. Above ``sort_cap`` items the search asks for narrower filters (400)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import orjson

from dynastore.backends.aws.dynamo_base import Query, decode_token, encode_token, unpack
from dynastore.backends.checks import check_limit
from dynastore.domain.search import Page
from dynastore.errors import Invalid
from dynastore.ports import Doc

if TYPE_CHECKING:
    from dynastore.backends.aws.dynamo_base import DynamoBase


def _rank(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        return 1
    if isinstance(value, int | float):
        return 2
    if isinstance(value, str):
        return 3
    return 4


def value_compare(left: Any, right: Any) -> int:
    """A total order of JSON values: missing < booleans < numbers < strings < the rest."""
    lr, rr = _rank(left), _rank(right)
    if lr != rr:
        return -1 if lr < rr else 1
    if lr == 0:
        return 0
    if lr == 4:
        left, right = orjson.dumps(left, option=orjson.OPT_SORT_KEYS), orjson.dumps(right, option=orjson.OPT_SORT_KEYS)
    return -1 if left < right else (1 if left > right else 0)


def read_sources(store: DynamoBase, sources: Sequence[Query]) -> Iterator[tuple[str, Doc]]:
    """(catalog id, document) of every item of ``sources``, at most ``store.sort_cap`` of them."""
    read = 0
    for source in sources:
        catalog = source.pk.split("#", 1)[1]
        for item in store._query(source):
            read += 1
            if read > store.sort_cap:
                raise Invalid(
                    f"a sorted search reads at most {store.sort_cap} records; narrow it (collection, ids, "
                    "datetime) or sort by the default order"
                )
            yield catalog, unpack(item)


def sorted_page(
    found: Iterable[tuple[str, Doc]],
    check: Callable[[Doc], bool],
    query: Any,
    value: Callable[[Doc, str], Any],
    tie: Callable[[Doc, str], tuple[str, ...]],
) -> Page[Doc]:
    """One page of ``query`` (its ``sortby``, ``limit``, ``token``) over the ``found`` documents
    (with their catalog ids) that pass ``check``."""
    check_limit(query.limit)
    fields = [(k.field, k.direction) for k in query.sortby]
    signature = "sorted:" + ",".join(f"{f}:{d}" for f, d in fields)
    position = decode_token(query.token, signature)
    rows: list[tuple[list[Any], list[str], Doc]] = [
        ([value(doc, f) for f, _ in fields], list(tie(doc, catalog)), doc) for catalog, doc in found if check(doc)
    ]

    def compare(a: tuple[list[Any], list[str]], b: tuple[list[Any], list[str]]) -> int:
        for (_, direction), x, y in zip(fields, a[0], b[0], strict=True):
            c = value_compare(x, y)
            if c:
                return -c if direction == "desc" else c
        return (a[1] > b[1]) - (a[1] < b[1])

    def row_compare(a: tuple[list[Any], list[str], Doc], b: tuple[list[Any], list[str], Doc]) -> int:
        return compare((a[0], a[1]), (b[0], b[1]))

    rows.sort(key=functools.cmp_to_key(row_compare))
    if position is not None:
        after = (list(position.get("v") or []), list(position.get("t") or []))
        if len(after[0]) != len(fields):
            raise Invalid("the page token belongs to another sort order: start again without a token")
        rows = [row for row in rows if compare((row[0], row[1]), after) > 0]
    page = rows[: query.limit]
    token = None
    if len(rows) > query.limit:
        last = page[-1]
        token = encode_token({"o": signature, "v": last[0], "t": last[1]})
    return Page([doc for _, _, doc in page], token)
