"""Helpers shared by the parts of the SQLite metadata store: keyset paging, tokens, revisions."""

from __future__ import annotations

import base64
import binascii
import hashlib
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import orjson

from dynastore.backends.checks import check_limit as check_limit
from dynastore.backends.checks import require_str as require_str
from dynastore.backends.local.sqlite_base import SqliteDatabase, gc_paused
from dynastore.domain.filters import Expr, matches
from dynastore.domain.limits import check_time_budget
from dynastore.domain.revisions import check_rev
from dynastore.domain.search import Page, SortKey
from dynastore.errors import Invalid
from dynastore.ports import Doc


def dumps(doc: Any) -> str:
    return orjson.dumps(doc).decode()


def loads(text: str | bytes) -> Doc:
    return cast(Doc, orjson.loads(text))


def encode_token(spec: str, values: Sequence[Any]) -> str:
    raw = orjson.dumps({"s": spec, "v": list(values)})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str | None, spec: str, width: int) -> list[Any] | None:
    """The keyset values of a token issued for the same ordering ``spec``; ``Invalid`` otherwise."""
    if token is None or token == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise Invalid("token is not a token this service issued; start again without it") from exc
    if not isinstance(data, dict) or data.get("s") != spec or not isinstance(data.get("v"), list):
        raise Invalid("token belongs to another listing or sort order; start again without it")
    values = data["v"]
    if len(values) != width or not all(v is None or isinstance(v, str | int | float) for v in values):
        raise Invalid("token is damaged; start again without it")
    return cast(list[Any], values)


@dataclass(frozen=True)
class OrderKey:
    """One key of a keyset ordering: a never-NULL SQL expression and its direction."""

    sql: str
    descending: bool = False


def keyset_condition(order: Sequence[OrderKey], values: Sequence[Any]) -> tuple[str, list[Any]]:
    """SQL selecting the rows strictly after ``values`` in ``order``."""
    if all(not k.descending for k in order) or all(k.descending for k in order):
        op = "<" if order[0].descending else ">"
        if len(order) == 1:
            return f"{order[0].sql} {op} ?", [values[0]]
        columns = ", ".join(k.sql for k in order)
        marks = ", ".join("?" * len(order))
        return f"({columns}) {op} ({marks})", list(values)
    clauses: list[str] = []
    params: list[Any] = []
    for i, key in enumerate(order):
        parts = [f"{order[j].sql} = ?" for j in range(i)]
        parts.append(f"{key.sql} {'<' if key.descending else '>'} ?")
        clauses.append("(" + " AND ".join(parts) + ")")
        params.extend(values[: i + 1])
    return "(" + " OR ".join(clauses) + ")", params


def order_by(order: Sequence[OrderKey]) -> str:
    return ", ".join(f"{k.sql} {'DESC' if k.descending else 'ASC'}" for k in order)


def order_spec(kind: str, order: Sequence[OrderKey]) -> str:
    """A short fingerprint of a listing and its ordering: a token only fits the listing it came from."""
    text = kind + ":" + ",".join(("-" if k.descending else "+") + k.sql for k in order)
    return hashlib.sha1(text.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Selection:
    """The rows a listing or search reads: ``SELECT doc_sql FROM from_sql WHERE where`` (``from_params``
    then ``params`` fill its marks), and the part of its filter that runs in Python (``residual``)."""

    from_sql: str
    doc_sql: str
    where: Sequence[str] = ()
    params: Sequence[Any] = ()
    residual: Expr | None = None
    from_params: Sequence[Any] = ()


def keyset_page(
    db: SqliteDatabase,
    selection: Selection,
    *,
    kind: str,
    order: Sequence[OrderKey],
    limit: int,
    token: str | None,
    residual_match: Callable[[Doc], bool] | None = None,
    doc_table: str | None = None,
    parse: Callable[[str], Any] = loads,
) -> Page[Any]:
    """One page of ``selection`` in ``order`` after ``token``; rows failing its ``residual`` are
    skipped while paging, so pages stay exact when part of a filter runs in Python. ``parse`` turns
    the text ``doc_sql`` reads into a page item (a document by default).

    With ``doc_table`` the page is read in two steps: ``doc_sql`` names the rowid (``seq``) and only
    rowids and sort keys go through the sort, then the documents of the winners are fetched by
    rowid. Sorting never drags whole documents around, which keeps large sorted scans fast.
    """
    check_limit(limit)
    spec = order_spec(kind, order)
    cursor = decode_token(token, spec, len(order))
    keys_sql = ", ".join(k.sql for k in order)
    residual = selection.residual
    check = residual_match or (None if residual is None else (lambda doc: matches(residual, doc)))
    batch = limit + 1 if check is None else max(limit + 1, 500)
    found: list[tuple[Any, list[Any]]] = []
    with db.read():
        while True:
            check_time_budget()  # a residual filter may read many batches
            clauses = list(selection.where)
            all_params = [*selection.from_params, *selection.params]
            if cursor is not None:
                condition, condition_params = keyset_condition(order, cursor)
                clauses.append(condition)
                all_params.extend(condition_params)
            sql = f"SELECT {selection.doc_sql}, {keys_sql} FROM {selection.from_sql}"
            if clauses:
                sql += " WHERE " + " AND ".join(clauses)
            sql += f" ORDER BY {order_by(order)} LIMIT ?"
            rows = db.query(sql, [*all_params, batch])
            docs = _fetch_docs(db, doc_table, [row[0] for row in rows]) if doc_table else None
            with gc_paused():
                _collect(rows, docs, check, found, limit, parse)
            if len(found) > limit or len(rows) < batch:
                break
            cursor = list(rows[-1][1:])
    next_token = encode_token(spec, found[limit - 1][1]) if len(found) > limit else None
    return Page(items=[doc for doc, _ in found[:limit]], next_token=next_token)


def _collect(
    rows: list[Any],
    docs: dict[int, str] | None,
    check: Callable[[Doc], bool] | None,
    found: list[tuple[Any, list[Any]]],
    limit: int,
    parse: Callable[[str], Any],
) -> None:
    """Parse a batch of ``keyset_page`` rows into ``found`` (until it holds ``limit + 1``)."""
    for row in rows:
        text = docs.get(row[0]) if docs is not None else row[0]
        if text is None:
            continue
        doc = parse(text)
        if check is None or check(doc):
            found.append((doc, list(row[1:])))
            if len(found) > limit:
                return


def equal_to(columns: Mapping[str, Any]) -> tuple[list[str], list[Any]]:
    """``column = ?`` conditions and their parameters for the columns given a value (None: any)."""
    given = {column: value for column, value in columns.items() if value is not None}
    return [f"{column} = ?" for column in given], list(given.values())


def table_page(
    db: SqliteDatabase,
    table: str,
    *,
    equal: Mapping[str, Any],
    order: Sequence[OrderKey],
    limit: int,
    token: str | None,
) -> Page[Doc]:
    """A page of the documents of ``table`` whose columns equal ``equal`` (``equal_to``), in ``order``."""
    where, params = equal_to(equal)
    return keyset_page(db, Selection(table, "doc", where, params), kind=table, order=order, limit=limit, token=token)


def search_order(
    sortby: Sequence[SortKey],
    *,
    sortable: Sequence[str],
    sql: Callable[[str], str],
    tiebreak: Sequence[tuple[str, str]],
    refusal: str,
) -> list[OrderKey]:
    """The keyset ordering of a search: its ``sortby`` keys (``sql`` of each field; a repeat counts
    once), then the ``(field, sql)`` tie-breakers it did not name, so paging is exact. A field not in
    ``sortable`` is ``Invalid``: ``"{refusal} {field!r}; sortable fields: ..."``."""
    order: list[OrderKey] = []
    seen: set[str] = set()
    for key in sortby:
        if key.field not in sortable:
            raise Invalid(f"{refusal} {key.field!r}; sortable fields: {', '.join(sortable)}")
        if key.field in seen:
            continue
        seen.add(key.field)
        order.append(OrderKey(sql(key.field), key.direction == "desc"))
    order.extend(OrderKey(key_sql) for name, key_sql in tiebreak if name not in seen)
    return order


def count_matching(db: SqliteDatabase, selection: Selection) -> int:
    """How many rows ``selection`` reads that meet its ``residual`` filter, when it has one."""
    sql_from_where = f"FROM {selection.from_sql} WHERE {' AND '.join(selection.where)}"
    params = [*selection.from_params, *selection.params]
    if selection.residual is None:
        return int(db.query_one(f"SELECT count(*) {sql_from_where}", params)[0])
    rows = db.query(f"SELECT {selection.doc_sql} {sql_from_where}", params)
    return sum(1 for (doc,) in rows if matches(selection.residual, loads(doc)))


def _fetch_docs(db: SqliteDatabase, table: str, seqs: list[int]) -> dict[int, str]:
    if not seqs:
        return {}
    rows = db.query(f"SELECT seq, doc FROM {table} WHERE seq IN (SELECT value FROM json_each(?))", (dumps(seqs),))
    return {seq: doc for seq, doc in rows}


def next_rev(conn: sqlite3.Connection, table: str, key: Mapping[str, Any], expect_rev: int | None, what: str) -> int:
    """The revision a write of the row of ``table`` at ``key`` stores (``check_rev`` against the stored one)."""
    where = " AND ".join(f"{column} = ?" for column in key)
    row = conn.execute(f"SELECT rev FROM {table} WHERE {where}", tuple(key.values())).fetchone()
    return check_rev(row[0] if row else None, expect_rev, what)


def insert_audits(conn: sqlite3.Connection, audits: Sequence[Doc]) -> None:
    insert_audit_rows(conn, audit_rows(audits))


def audit_rows(audits: Sequence[Doc]) -> list[tuple[Any, ...]]:
    """The ``audit`` table rows of audit documents (built before a write takes the lock)."""
    rows = []
    encode = orjson.dumps
    for audit in audits:
        if not isinstance(audit, dict) or not isinstance(audit.get("catalog_id"), str):
            raise Invalid("an audit event needs a catalog_id")
        get = audit.get
        rows.append((audit["catalog_id"], get("record_type"), get("record_id"), get("at"), encode(audit).decode()))
    return rows


def insert_audit_rows(conn: sqlite3.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    if rows:
        conn.executemany("INSERT INTO audit (catalog_id, record_type, record_id, at, doc) VALUES (?, ?, ?, ?, ?)", rows)
