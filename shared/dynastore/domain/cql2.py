"""CQL2 (text and JSON) compiled to the shared filter tree of ``domain.filters``.

Parsing is done by the maintained ``cql2`` package (text → CQL2 JSON, and JSON schema checks);
this module only maps the CQL2 JSON tree onto ``Expr``, so every backend executes CQL2 exactly as
it executes the MongoDB-style ``query``.

Supported: basic-cql2 (``and or not = <> < <= > >= isNull``), advanced comparison (``like``,
``between``, ``in``, ``casei``) and basic spatial (``s_intersects`` with GeoJSON or ``BBOX``
literals). Anything else is rejected with ``Invalid`` naming the operator.

Property paths depend on what is searched:

- ``item``: ``id``, ``collection``, ``geometry`` and ``bbox`` are top-level Item members; any other
  name is a property (``eo:cloud_cover`` and ``properties.eo:cloud_cover`` are the same path).
- ``asset``: dotted paths into the stored asset document (``roles``, ``file:size``,
  ``metadata.cloud``); ``item``/``collection``/``catalog`` name the asset's ``item_id``,
  ``collection_id``, ``catalog_id`` and ``geometry`` its ``bbox``.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson

from dynastore.domain import time as dtime
from dynastore.domain.filters import (
    And,
    Between,
    Compare,
    CompareOp,
    Const,
    Exists,
    Expr,
    In,
    Intersects,
    Like,
    Not,
    Or,
    bbox_polygon,
)
from dynastore.domain.limits import MAX_FILTER_LENGTH, check_filter_json, check_filter_text
from dynastore.errors import Invalid

FilterLang = Literal["cql2-text", "cql2-json"]
Target = Literal["item", "asset"]
FILTER_LANGS: tuple[str, ...] = ("cql2-text", "cql2-json")

_COMPARE: dict[str, CompareOp] = {"=": "eq", "<>": "ne", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
_FLIPPED: dict[CompareOp, CompareOp] = {"eq": "eq", "ne": "ne", "lt": "gt", "lte": "gte", "gt": "lt", "gte": "lte"}
SUPPORTED_OPERATORS = ("and", "or", "not", *_COMPARE, "like", "in", "between", "isNull", "casei", "s_intersects")

ITEM_TOP_LEVEL = frozenset({"id", "collection", "geometry", "bbox"})
ASSET_ALIASES = {"item": "item_id", "collection": "collection_id", "catalog": "catalog_id", "geometry": "bbox"}
# Fields that hold RFC 3339 timestamps in stored form: string literals compared with them are
# normalized the same way, so that text comparison is time comparison.
DATETIME_FIELDS = frozenset({"datetime", "start_datetime", "end_datetime", "created", "updated", "deleted_at"})
_GEOMETRY_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"}
)


def compile_cql2(filter: str | dict[str, Any], lang: str | None = None, *, target: Target = "item") -> Expr:
    """Parse a CQL2 filter (text or JSON) and compile it; invalid input raises ``Invalid``."""
    if lang is not None and lang not in FILTER_LANGS:
        raise Invalid(f"filter-lang {lang!r} is not supported; use cql2-text or cql2-json")
    tree = to_cql2_json(filter, lang)
    return _Compiler(target).expr(tree)


def to_cql2_json(filter: str | dict[str, Any], lang: str | None = None) -> Any:
    """The CQL2 JSON tree of a filter, checked by the ``cql2`` parser."""
    import cql2

    if isinstance(filter, dict | bool):
        if lang == "cql2-text":
            raise Invalid("filter-lang is cql2-text but the filter is a JSON object")
        check_filter_json(filter)
        tree: Any = _legacy(filter)
        text = orjson.dumps(tree).decode()
    elif isinstance(filter, str):
        stripped = filter.strip()
        if not stripped:
            raise Invalid("filter is empty")
        if len(stripped) > MAX_FILTER_LENGTH:
            raise Invalid(f"filter is {len(stripped)} characters long, above the limit of {MAX_FILTER_LENGTH}")
        if lang == "cql2-json" or (lang is None and stripped.startswith("{")):
            try:
                parsed = orjson.loads(stripped)
            except orjson.JSONDecodeError as exc:
                raise Invalid(f"invalid CQL2 JSON: {exc}") from exc
            check_filter_json(parsed)
            tree = _legacy(parsed)
            text = orjson.dumps(tree).decode()
        else:
            check_filter_text(stripped)  # before the parser, which crashes on deep nesting
            try:
                return cql2.parse_text(stripped).to_json()
            except (cql2.ParseError, cql2.ValidationError, ValueError) as exc:
                raise Invalid(f"invalid CQL2 text: {_message(exc)}") from exc
    else:
        raise Invalid("filter must be CQL2 text or a CQL2 JSON object")
    try:
        cql2.parse_json(text).validate()
    except (cql2.ParseError, cql2.ValidationError, ValueError) as exc:
        raise Invalid(f"invalid CQL2 JSON: {_message(exc)}") from exc
    return tree


def _legacy(node: Any) -> Any:
    """Accept the pre-1.0 CQL2 JSON ``between`` form ``[property, [low, high]]`` (still sent by clients)."""
    if isinstance(node, list):
        return [_legacy(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _legacy(v) for k, v in node.items()}
    args = out.get("args")
    if out.get("op") == "between" and isinstance(args, list) and len(args) == 2:
        bounds = args[1]
        if isinstance(bounds, list) and len(bounds) == 2:
            out["args"] = [args[0], bounds[0], bounds[1]]
    return out


def _message(exc: Exception) -> str:
    return str(exc).strip() or type(exc).__name__


class _Compiler:
    def __init__(self, target: Target) -> None:
        self.target = target

    # ------------------------------------------------------------------ paths and literals
    def path(self, name: str) -> str:
        if not isinstance(name, str) or not name:
            raise Invalid("a CQL2 property name must be a non-empty string")
        if self.target == "item":
            if name in ITEM_TOP_LEVEL or name.startswith("properties."):
                return name
            return f"properties.{name}"
        name = name.removeprefix("properties.")
        return ASSET_ALIASES.get(name, name)

    def literal(self, node: Any, field: str | None = None) -> Any:
        if isinstance(node, dict):
            if "timestamp" in node:
                return dtime.normalize(str(node["timestamp"]), "CQL2 timestamp")
            if "date" in node:
                return dtime.normalize(f"{node['date']}T00:00:00Z", "CQL2 date")
            if "bbox" in node:
                return bbox_polygon(list(node["bbox"]))
            if node.get("type") in _GEOMETRY_TYPES:
                return node
            if "interval" in node:
                raise Invalid("CQL2 intervals (temporal operators) are not supported; compare datetime with < >")
            if "op" in node or "property" in node:
                raise Invalid("the right-hand side of a comparison must be a literal value")
            raise Invalid(f"unsupported CQL2 literal {orjson.dumps(node).decode()[:200]}")
        if isinstance(node, str) and field is not None and field.rsplit(".", 1)[-1] in DATETIME_FIELDS:
            try:
                return dtime.normalize(node)
            except Invalid:
                return node
        return node

    def operand(self, node: Any) -> tuple[str | None, bool]:
        """``(path, casei)`` when ``node`` is a property (maybe wrapped in casei), else ``(None, casei)``."""
        casei = False
        if isinstance(node, dict) and node.get("op") == "casei":
            args = node.get("args") or []
            if len(args) != 1:
                raise Invalid("casei takes exactly one argument")
            node, casei = args[0], True
        if isinstance(node, dict) and "property" in node:
            return self.path(node["property"]), casei
        return None, casei

    def value(self, node: Any, field: str) -> tuple[Any, bool]:
        if isinstance(node, dict) and node.get("op") == "casei":
            args = node.get("args") or []
            if len(args) != 1:
                raise Invalid("casei takes exactly one argument")
            return self.literal(args[0], field), True
        return self.literal(node, field), False

    # ------------------------------------------------------------------ expressions
    def expr(self, node: Any) -> Expr:
        if isinstance(node, bool):
            return Const(node)
        if not isinstance(node, dict) or "op" not in node:
            raise Invalid("a CQL2 filter must be a boolean expression such as eo:cloud_cover < 10")
        op = node["op"]
        args = node.get("args")
        if not isinstance(args, list):
            raise Invalid(f"CQL2 operator {op!r} needs an args array")
        if op in ("and", "or"):
            if len(args) < 2:
                raise Invalid(f"{op} needs at least two arguments")
            parts = tuple(self.expr(a) for a in args)
            return And(parts) if op == "and" else Or(parts)
        if op == "not":
            self._arity(op, args, 1)
            return Not(self.expr(args[0]))
        if op in _COMPARE:
            return self.compare(_COMPARE[op], args)
        if op == "like":
            self._arity(op, args, 2)
            field, casei_left = self._property(op, args[0])
            pattern, casei_right = self.value(args[1], field)
            if not isinstance(pattern, str):
                raise Invalid("like needs a string pattern")
            return Like(field, pattern, casei=casei_left or casei_right)
        if op == "in":
            self._arity(op, args, 2)
            field, casei_left = self._property(op, args[0])
            if not isinstance(args[1], list):
                raise Invalid("in needs a list of values")
            folded = [self.value(v, field) for v in args[1]]
            casei = casei_left or any(c for _, c in folded)
            return In(field, tuple(v for v, _ in folded), casei=casei)
        if op == "between":
            self._arity(op, args, 3)
            field, _ = self._property(op, args[0])
            low, high = self.literal(args[1], field), self.literal(args[2], field)
            return Between(field, low, high)
        if op == "isNull":
            self._arity(op, args, 1)
            field, _ = self._property(op, args[0])
            return Not(Exists(field))
        if op == "s_intersects":
            self._arity(op, args, 2)
            left, right = args
            spatial, _ = self.operand(left)
            if spatial is None:
                spatial, _ = self.operand(right)
                right = left
            if spatial is None:
                raise Invalid("s_intersects needs a property and a geometry")
            geometry = self.literal(right)
            if not isinstance(geometry, dict) or geometry.get("type") not in _GEOMETRY_TYPES:
                raise Invalid("s_intersects needs a GeoJSON geometry or BBOX literal")
            return Intersects(spatial, geometry)
        raise Invalid(f"CQL2 operator {op!r} is not supported; supported: {', '.join(SUPPORTED_OPERATORS)}")

    def compare(self, op: CompareOp, args: list[Any]) -> Expr:
        self._arity(op, args, 2)
        field, casei_left = self.operand(args[0])
        right = args[1]
        if field is None:
            field, casei_left = self.operand(args[1])
            right = args[0]
            op = _FLIPPED[op]
        if field is None:
            raise Invalid("a CQL2 comparison needs a property on one side, e.g. eo:cloud_cover < 10")
        if self.operand(right)[0] is not None:
            raise Invalid("comparing two properties is not supported")
        value, casei_right = self.value(right, field)
        if value is None:
            raise Invalid("compare with null using IS NULL / isNull")
        return Compare(op, field, value, casei=casei_left or casei_right)

    def _property(self, op: str, node: Any) -> tuple[str, bool]:
        field, casei = self.operand(node)
        if field is None:
            raise Invalid(f"the first argument of {op} must be a property")
        return field, casei

    @staticmethod
    def _arity(op: str, args: list[Any], n: int) -> None:
        if len(args) != n:
            raise Invalid(f"CQL2 operator {op!r} takes {n} argument(s), got {len(args)}")


__all__ = ["FILTER_LANGS", "compile_cql2", "to_cql2_json"]
