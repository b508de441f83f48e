"""Exact, bounded paging over Firestore queries with post-filtering.

A logical search is a ``Scan``: one or more Firestore queries (``alternatives``, whose union is a
superset of the answer) sharing one order (native sort fields, then the document name), plus an
exact predicate ``check`` applied to every document read. Paging is keyset: a token holds the sort
values and document name of the last row a page covered, and the next page starts after it, so
pages never overlap or skip, whatever was post-filtered.

Bounds: a page reads at most ``budget`` documents. When the native filters are exact (``check``
rejects nothing) a page reads ``limit + 1`` documents. When the budget runs out first the page is
returned short with a token that resumes after the last document read (``Page.extra`` says so).

Substring scans sorted by a field other than the name: Firestore cannot order the gram-filtered
candidates by that field without one composite index per gram, so the candidates (at most
``candidate_cap``) are read in name order, checked, sorted in memory and paged by the same keyset
rule. Above the cap the store falls back to a budgeted scan in the requested order.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import heapq
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from dynastore.backends.gcp._errors import sdk_errors
from dynastore.backends.gcp.indexes import QueryShape
from dynastore.domain.limits import check_time_budget
from dynastore.domain.search import Page
from dynastore.errors import Invalid

Filter = tuple[str, str, Any]  # (native field path, operator, value)
Order = tuple[str, str]  # (native field path, "ASCENDING" | "DESCENDING")
NAME = "__name__"


class ReadStats:
    """Counts what Firestore bills: documents read by queries and gets, aggregation queries."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.documents = 0
        self.aggregations = 0
        self.queries = 0
        self.shapes: set[QueryShape] = set()

    def add(self, documents: int = 0, aggregations: int = 0, queries: int = 0) -> None:
        with self._lock:
            self.documents += documents
            self.aggregations += aggregations
            self.queries += queries

    def snapshot(self) -> dict[str, int]:
        return {"documents": self.documents, "aggregations": self.aggregations, "queries": self.queries}


# ------------------------------------------------------------------ Firestore value ordering


def _type_rank(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        return 1
    if isinstance(value, int | float):
        return 2
    if isinstance(value, str):
        return 4
    if isinstance(value, bytes):
        return 5
    if isinstance(value, list):
        return 8
    return 9


def fs_compare(left: Any, right: Any) -> int:
    """Firestore's order of two values (null < bool < number < string < bytes < array < map)."""
    lr, rr = _type_rank(left), _type_rank(right)
    if lr != rr:
        return -1 if lr < rr else 1
    if lr == 0:
        return 0
    if lr in (8, 9):
        left, right = orjson.dumps(left, option=orjson.OPT_SORT_KEYS), orjson.dumps(right, option=orjson.OPT_SORT_KEYS)
    # Python compares str by code point, which is the UTF-8 byte order Firestore uses.
    return -1 if left < right else (1 if left > right else 0)


@dataclass(frozen=True)
class Row:
    values: tuple[Any, ...]  # native sort values, in order
    name: str  # document id
    data: dict[str, Any]  # the stored Firestore fields
    cut: bool = False  # a marker: the stream stopped early here (read budget); nothing after is known


def row_compare(order: Sequence[Order], a: Row, b: Row) -> int:
    for (_, direction), x, y in zip(order, a.values, b.values, strict=True):
        c = fs_compare(x, y)
        if c:
            return -c if direction == "DESCENDING" else c
    if a.name != b.name:
        return -1 if a.name < b.name else 1
    return int(a.cut) - int(b.cut)  # a cut marker sorts right after the row it follows


# ------------------------------------------------------------------ tokens


def encode_token(values: Sequence[Any], name: str) -> str:
    raw = orjson.dumps({"v": list(values), "n": name})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str | None, order: Sequence[Order]) -> tuple[tuple[Any, ...], str] | None:
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
        values, name = tuple(data["v"]), data["n"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise Invalid("token is not a page token this search returned") from exc
    if not isinstance(name, str) or len(values) != len(order):
        raise Invalid("token belongs to a search with another sort order")
    return values, name


# ------------------------------------------------------------------ scans


@dataclass
class Scan:
    collection: Any  # google.cloud.firestore.CollectionReference
    alternatives: list[list[Filter]]  # union of conjunctions
    order: list[Order]  # native sort fields (the document name follows, ascending)
    check: Callable[[dict[str, Any]], bool]  # exact predicate on the stored fields
    exact: bool = False  # True when the native filters already are the whole predicate
    select: list[str] | None = None
    stats: ReadStats = field(default_factory=ReadStats)
    prefix: str = ""
    # Called with the shape of every query before it runs (tests enforce production's indexes).
    index_guard: Callable[[QueryShape], None] | None = None

    def shape(self, filters: list[Filter]) -> QueryShape:
        collection = self.collection.id.removeprefix(self.prefix)
        return QueryShape(
            collection=collection,
            equalities=frozenset(p for p, op, _ in filters if op in ("==", "in")),
            arrays=frozenset(p for p, op, _ in filters if op in ("array_contains", "array_contains_any")),
            ranges=tuple(dict.fromkeys(p for p, op, _ in filters if op in ("<", "<=", ">", ">="))),
            order=tuple(self.order),
        )

    # --- building Firestore queries ---------------------------------------------------------

    def _query(self, filters: list[Filter]) -> Any:
        from google.cloud.firestore_v1.base_query import FieldFilter
        from google.cloud.firestore_v1.field_path import FieldPath

        shape = self.shape(filters)
        self.stats.shapes.add(shape)
        if self.index_guard is not None:
            with sdk_errors("Firestore query"):
                self.index_guard(shape)
        query = self.collection
        for path, op, value in filters:
            query = query.where(filter=FieldFilter(path, op, value))
        for path, direction in self.order:
            query = query.order_by(path, direction=direction)
        query = query.order_by(FieldPath.document_id())
        if self.select is not None:
            query = query.select(self.select)
        return query

    def _cursor(self, values: Sequence[Any], name: str) -> dict[str, Any]:
        cursor = {path: value for (path, _), value in zip(self.order, values, strict=True)}
        cursor[NAME] = self.collection.document(name)
        return cursor

    def _row(self, snapshot: Any) -> Row:
        data = snapshot.to_dict() or {}
        return Row(tuple(data.get(path) for path, _ in self.order), snapshot.id, data)

    def stream(
        self,
        filters: list[Filter],
        after: tuple[tuple[Any, ...], str] | None,
        batch: int,
        grow: bool = False,
        allowance: list[int] | None = None,
    ) -> Iterator[Row]:
        """The rows of one alternative after a cursor, fetched ``batch`` at a time (``grow``: the
        batch doubles after each fetch, up to 1,000: few reads when the first batch suffices).
        ``allowance`` (shared by the streams of one page) caps the documents fetched after each
        stream's first batch; a stream it stops ends with a ``cut`` marker at its last row, so a
        merge never runs past rows it did not read."""
        base = self._query(filters)
        cursor = after
        first = True
        while True:
            if not first:
                if grow:
                    batch = min(2 * batch, max(batch, 1000))
                if allowance is not None:
                    if allowance[0] <= 0:
                        if cursor is not None:
                            yield Row(cursor[0], cursor[1], {}, cut=True)
                        return
                    batch = min(batch, allowance[0])
            first = False
            check_time_budget()  # each fetch is a round trip: stop once the search budget is spent
            query = base if cursor is None else base.start_after(self._cursor(*cursor))
            got = 0
            with sdk_errors("Firestore query"):
                snapshots = list(query.limit(batch).stream())
            self.stats.add(documents=len(snapshots), queries=1)
            if allowance is not None:
                allowance[0] -= len(snapshots)
            for snapshot in snapshots:
                got += 1
                row = self._row(snapshot)
                cursor = (row.values, row.name)
                yield row
            if got < batch:
                return

    def merged(
        self,
        after: tuple[tuple[Any, ...], str] | None,
        batch: int,
        grow: bool = False,
        allowance: list[int] | None = None,
    ) -> Iterator[Row]:
        """The union of the alternatives in order, each document once."""
        streams = [self.stream(f, after, batch, grow, allowance) for f in self.alternatives]
        if len(streams) == 1:
            yield from streams[0]
            return
        key = functools.cmp_to_key(functools.partial(row_compare, self.order))
        last: str | None = None
        for row in heapq.merge(*streams, key=key):
            if row.cut:
                yield row
                return
            if row.name != last:
                last = row.name
                yield row

    # --- paging ----------------------------------------------------------------------------

    def page(self, limit: int, token: str | None, budget: int) -> Page[dict[str, Any]]:
        after = decode_token(token, self.order)
        want = limit + 1
        # Exact native filters: the page and one more. Post-filtered: a little slack first, then
        # growing batches, so a selective query reads little more than its page.
        batch = want if self.exact else want + max(4, want // 4)
        found: list[Row] = []
        scanned = 0
        last: Row | None = None
        truncated = False
        allowance = None if self.exact else [budget]
        for row in self.merged(after, batch, grow=not self.exact, allowance=allowance):
            if row.cut:  # the read budget stopped a stream here: resume after what was read
                truncated = True
                last = last or row
                break
            scanned += 1
            last = row
            if self.check(row.data):
                found.append(row)
                if len(found) == want:
                    break
            if scanned >= budget:
                truncated = True
                break
        return self._finish(found, limit, last if truncated and len(found) <= limit else None, scanned)

    def page_in_memory(self, rows: list[Row], limit: int, token: str | None, scanned: int) -> Page[dict[str, Any]]:
        """Sort checked candidates in memory and cut the page the token asks for."""
        after = decode_token(token, self.order)
        compare = functools.partial(row_compare, self.order)
        rows = sorted((r for r in rows if self.check(r.data)), key=functools.cmp_to_key(compare))
        if after is not None:
            pivot = Row(after[0], after[1], {})
            rows = [r for r in rows if compare(r, pivot) > 0]
        return self._finish(rows[: limit + 1], limit, None, scanned)

    def _finish(self, found: list[Row], limit: int, resume: Row | None, scanned: int) -> Page[dict[str, Any]]:
        items = found[:limit]
        next_token = None
        if len(found) > limit:
            next_token = encode_token(items[-1].values, items[-1].name)
        elif resume is not None:
            next_token = encode_token(resume.values, resume.name)
        extra: dict[str, Any] = {"scanned": scanned}
        if resume is not None:
            extra["truncated"] = True
        return Page(items=[r.data for r in items], next_token=next_token, extra=extra)

    def collect(self, cap: int) -> list[Row] | None:
        """Every row of the union (name order), or None if there are more than ``cap``."""
        rows: list[Row] = []
        for row in self.merged(None, min(cap + 1, 1000)):
            rows.append(row)
            if len(rows) > cap:
                return None
        return rows

    def count(self) -> int:
        """How many documents satisfy the scan (aggregation when exact, else a checked scan)."""
        unordered = dataclasses.replace(self, order=[])  # a count needs no order (nor its index)
        if self.exact:  # the alternatives of an exact scan are disjoint (catalog chunks)
            total = 0
            for filters in self.alternatives:
                with sdk_errors("Firestore count"):
                    result = unordered._query(filters).count().get()
                self.stats.add(aggregations=1)
                total += int(result[0][0].value)
            return total
        return sum(1 for row in unordered.merged(None, 1000) if self.check(row.data))
