"""Compile the shared filter tree (``domain.filters``) to SQLite JSON1 SQL.

The SQL reproduces ``domain.filters.matches`` exactly:

- a path resolves through objects only; a missing field or a JSON ``null`` satisfies nothing
  (``ne`` included);
- on an array, a comparison holds when any element satisfies it, ``ne`` when every element does
  (MongoDB semantics); an object compared with a scalar only satisfies ``ne``;
- values of different kinds (number, text, boolean, null) never compare, except that ``ne`` holds;
  integers and reals compare as numbers; text compares by code point (SQLite ``BINARY``);
- ``casei`` folds with Python's Unicode ``str.lower`` (``py_lower``), ``like`` runs the same
  regular expression as the reference (``py_like``) and ``Intersects`` the same shapely test
  (``geo_intersects``): these are Python functions registered on each connection.

What SQL cannot express exactly (comparisons with an object or array literal, paths with quotes)
raises ``Unsupported``; ``split_filter`` then leaves that part to a Python post-filter with
``matches``, and the store keeps pagination exact by filtering while it pages.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from dynastore.domain.filters import And, Between, Compare, Const, Exists, Expr, In, Intersects, Like, Not, Or

_SQL_OPS = {"eq": "=", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_SEGMENT_RE = re.compile(r"^[^\"'\\\x00-\x1f]+$")
_INT64 = 2**63 - 1


class Unsupported(Exception):
    """This part of a filter cannot be compiled exactly; evaluate it in Python."""


def json_path(field: str) -> str:
    """``metadata.cloud`` → ``'$."metadata"."cloud"'`` (a quoted SQL literal)."""
    segments = field.split(".")
    if not segments or not all(s and _SEGMENT_RE.match(s) for s in segments):
        raise Unsupported(f"path {field!r}")
    return "'$" + "".join(f'."{s}"' for s in segments) + "'"


def _category(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        if abs(value) > _INT64:
            raise Unsupported("integer out of range")
        return "num"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise Unsupported("non-finite number")
        return "num"
    if isinstance(value, str):
        return "text"
    if value is None:
        return "null"
    raise Unsupported(f"literal of type {type(value).__name__}")


_TYPES = {"bool": "('true','false')", "num": "('integer','real')", "text": "('text')"}


def _element_compare(op: str, t: str, v: str, right: Any, casei: bool) -> tuple[str, list[Any]]:
    """SQL for ``_compare(op, element, right)`` given the element's JSON type ``t`` and value ``v``."""
    category = _category(right)
    otherwise = "1" if op == "ne" else "0"
    if category == "null":
        if op == "eq":
            return f"(CASE WHEN {t} = 'null' THEN 1 ELSE 0 END)", []
        if op == "ne":
            return f"(CASE WHEN {t} = 'null' THEN 0 ELSE 1 END)", []
        return "0", []
    left = v
    if category == "text" and casei:
        left, right = f"py_lower({v})", right.lower()
    if category == "bool":
        right = int(right)
    return f"(CASE WHEN {t} IN {_TYPES[category]} THEN {left} {_SQL_OPS[op]} ? ELSE {otherwise} END)", [right]


def _element_in(t: str, v: str, values: tuple[Any, ...], casei: bool) -> tuple[str, list[Any]]:
    groups: dict[str, list[Any]] = {"num": [], "text": [], "bool": [], "null": []}
    for value in values:
        category = _category(value)
        if category == "text" and casei:
            value = value.lower()
        elif category == "bool":
            value = int(value)
        groups[category].append(value)
    parts: list[str] = []
    params: list[Any] = []
    for category in ("num", "text", "bool"):
        if groups[category]:
            left = f"py_lower({v})" if category == "text" and casei else v
            marks = ",".join("?" * len(groups[category]))
            parts.append(f"({t} IN {_TYPES[category]} AND {left} IN ({marks}))")
            params.extend(groups[category])
    if groups["null"]:
        parts.append(f"({t} = 'null')")
    if not parts:
        return "0", []
    return f"(CASE WHEN {' OR '.join(parts)} THEN 1 ELSE 0 END)", params


def _balanced(parts: list[tuple[str, list[Any]]], joiner: str) -> tuple[str, list[Any]]:
    """``(a OR b OR c OR d)`` as ``((a OR b) OR (c OR d))``: SQLite parses a flat chain into a tree
    as deep as it is long (at most 1,000), a balanced one only log2 deep."""
    if len(parts) <= 8:
        return "(" + joiner.join(sql for sql, _ in parts) + ")", [p for _, ps in parts for p in ps]
    half = len(parts) // 2
    left, right = _balanced(parts[:half], joiner), _balanced(parts[half:], joiner)
    return f"({left[0]}{joiner}{right[0]})", left[1] + right[1]


class _Compiler:
    def __init__(self, doc: str) -> None:
        self.doc = doc

    def expr(self, node: Expr) -> tuple[str, list[Any]]:
        if isinstance(node, Const):
            return ("1" if node.value else "0"), []
        if isinstance(node, And | Or):
            if not node.args:
                return ("1" if isinstance(node, And) else "0"), []
            compiled = [self.expr(a) for a in node.args]
            return _balanced(compiled, " AND " if isinstance(node, And) else " OR ")
        if isinstance(node, Not):
            if isinstance(node.arg, Not):  # every compiled predicate is 0 or 1: NOT NOT x is x
                return self.expr(node.arg.arg)
            sql, params = self.expr(node.arg)
            # each compiled predicate is self-delimited (parenthesized, CASE ... END or a call),
            # so NOT needs no parentheses of its own: SQLite's parser stack is only 100 deep
            return f"NOT {sql}", params
        if isinstance(node, Exists):
            t = f"json_type({self.doc}, {json_path(node.field)})"
            return f"(CASE WHEN {t} IS NULL OR {t} = 'null' THEN 0 ELSE 1 END)", []
        if isinstance(node, Intersects):
            path = json_path(node.field)
            t, v = f"json_type({self.doc}, {path})", f"json_extract({self.doc}, {path})"
            return f"geo_intersects({t}, {v}, ?)", [orjson.dumps(node.geometry).decode()]
        if isinstance(node, Compare):
            return self.field(
                node.field,
                lambda t, v: _element_compare(node.op, t, v, node.value, node.casei),
                every=node.op == "ne",
            )
        if isinstance(node, In):
            return self.field(node.field, lambda t, v: _element_in(t, v, node.values, node.casei))
        if isinstance(node, Between):

            def between(t: str, v: str) -> tuple[str, list[Any]]:
                low_sql, low_params = _element_compare("gte", t, v, node.low, False)
                high_sql, high_params = _element_compare("lte", t, v, node.high, False)
                return f"(CASE WHEN {low_sql} AND {high_sql} THEN 1 ELSE 0 END)", low_params + high_params

            return self.field(node.field, between)
        if isinstance(node, Like):
            inner = node.pattern[1:-1]
            if not node.casei and len(node.pattern) > 2 and node.pattern[0] == node.pattern[-1] == "%" and not any(
                c in inner for c in "%_\\"
            ):  # "%text%": a substring test SQLite runs itself (no Python call per row)
                return self.field(
                    node.field, lambda t, v: (f"(CASE WHEN {t} = 'text' THEN instr({v}, ?) > 0 ELSE 0 END)", [inner])
                )
            return self.field(
                node.field,
                lambda t, v: (
                    f"(CASE WHEN {t} = 'text' THEN py_like(?, ?, {v}) ELSE 0 END)",
                    [node.pattern, int(node.casei)],
                ),
            )
        raise Unsupported(f"filter node {type(node).__name__}")

    def field(self, field: str, predicate: Any, every: bool = False) -> tuple[str, list[Any]]:
        """Apply an element predicate to a field: to the value, or to the elements of an array
        (any element; every element when ``every``)."""
        path = json_path(field)
        t, v = f"json_type({self.doc}, {path})", f"json_extract({self.doc}, {path})"
        elem_sql, elem_params = predicate("e.type", "e.value")
        scalar_sql, scalar_params = predicate(t, v)
        if every:
            array_sql = f"NOT EXISTS (SELECT 1 FROM json_each({self.doc}, {path}) AS e WHERE NOT {elem_sql})"
        else:
            array_sql = f"EXISTS (SELECT 1 FROM json_each({self.doc}, {path}) AS e WHERE {elem_sql})"
        sql = (
            f"(CASE WHEN {t} IS NULL OR {t} = 'null' THEN 0 WHEN {t} = 'array' THEN {array_sql} ELSE {scalar_sql} END)"
        )
        return sql, elem_params + scalar_params


def compile_filter(expr: Expr, doc: str = "doc") -> tuple[str, list[Any]]:
    """SQL (0/1 valued) and its parameters for ``expr``; ``Unsupported`` if not exact in SQL."""
    return _Compiler(doc).expr(expr)


def split_filter(expr: Expr | None, doc: str = "doc") -> tuple[str | None, list[Any], Expr | None]:
    """The SQL-compilable part of ``expr`` and the rest, to evaluate in Python (``residual``).

    The top-level conjunction is split: each conjunct goes to SQL when it compiles exactly.
    """
    if expr is None:
        return None, [], None
    conjuncts = expr.args if isinstance(expr, And) else (expr,)
    sql_parts: list[str] = []
    params: list[Any] = []
    residual: list[Expr] = []
    for part in conjuncts:
        try:
            sql, part_params = compile_filter(part, doc)
        except Unsupported:
            residual.append(part)
            continue
        sql_parts.append(sql)
        params.extend(part_params)
    rest: Expr | None = None
    if residual:
        rest = residual[0] if len(residual) == 1 else And(tuple(residual))
    return (" AND ".join(sql_parts) if sql_parts else None), params, rest
