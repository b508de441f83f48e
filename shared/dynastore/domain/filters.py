"""The one filter representation shared by the MongoDB-style ``query`` and CQL2 ``filter``.

Both languages compile to this small expression tree; each backend executes it (natively where
it can) and ``matches`` is the reference evaluator every backend must agree with (and the one a
backend uses when it has to post-filter).

Field paths are dotted paths into the stored document (``metadata.cloud``, ``roles``,
``file:size``). Comparisons follow MongoDB semantics on arrays: ``roles = 'data'`` holds when
any element equals ``'data'``. A missing field never satisfies a comparison (``ne`` included,
as in CQL2, where a null compares to nothing).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Literal

from dynastore.errors import Invalid

CompareOp = Literal["eq", "ne", "lt", "lte", "gt", "gte"]
_MISSING = object()


@dataclass(frozen=True)
class And:
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    arg: Expr


@dataclass(frozen=True)
class Compare:
    op: CompareOp
    field: str
    value: Any
    casei: bool = False


@dataclass(frozen=True)
class In:
    field: str
    values: tuple[Any, ...]
    casei: bool = False


@dataclass(frozen=True)
class Between:
    field: str
    low: Any
    high: Any


@dataclass(frozen=True)
class Like:
    """SQL/CQL2 ``LIKE``: ``%`` any run, ``_`` one character, ``\\`` escapes."""

    field: str
    pattern: str
    casei: bool = False


@dataclass(frozen=True)
class Exists:
    field: str


@dataclass(frozen=True)
class Intersects:
    """Spatial intersection with a GeoJSON geometry (``bbox`` arrays are turned into polygons)."""

    field: str
    geometry: dict[str, Any]


@dataclass(frozen=True)
class Const:
    value: bool


Expr = And | Or | Not | Compare | In | Between | Like | Exists | Intersects | Const


def conjoin(*exprs: Expr | None) -> Expr | None:
    parts = tuple(e for e in exprs if e is not None)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(parts)


# --------------------------------------------------------------------------- MongoDB-style query

_MONGO_COMPARE: dict[str, CompareOp] = {
    "$eq": "eq",
    "$ne": "ne",
    "$gt": "gt",
    "$gte": "gte",
    "$lt": "lt",
    "$lte": "lte",
}
MONGO_OPERATORS = (*_MONGO_COMPARE, "$in", "$nin", "$exists", "$and", "$or", "$not")


def from_mongo(query: Any) -> Expr:
    """Compile a MongoDB-style query document; unknown operators raise ``Invalid``."""
    if not isinstance(query, dict):
        raise Invalid('query must be a JSON object such as {"metadata.cloud": {"$lt": 10}}')
    parts: list[Expr] = []
    for key, value in query.items():
        if key in ("$and", "$or"):
            if not isinstance(value, list) or not value:
                raise Invalid(f"{key} takes a non-empty array of query objects")
            subs = tuple(from_mongo(v) for v in value)
            parts.append(And(subs) if key == "$and" else Or(subs))
        elif key.startswith("$"):
            raise Invalid(f"unknown query operator {key!r}; supported: {', '.join(MONGO_OPERATORS)}")
        else:
            _check_path(key)
            parts.append(_mongo_field(key, value))
    if not parts:
        return Const(True)
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _mongo_field(path: str, spec: Any) -> Expr:
    if not (isinstance(spec, dict) and spec and all(k.startswith("$") for k in spec)):
        return Compare("eq", path, spec)
    parts: list[Expr] = []
    for op, value in spec.items():
        if op in _MONGO_COMPARE:
            parts.append(Compare(_MONGO_COMPARE[op], path, value))
        elif op in ("$in", "$nin"):
            if not isinstance(value, list):
                raise Invalid(f"{op} on {path!r} takes an array")
            expr: Expr = In(path, tuple(value))
            parts.append(expr if op == "$in" else Not(expr))
        elif op == "$exists":
            if not isinstance(value, bool):
                raise Invalid(f"$exists on {path!r} takes true or false")
            parts.append(Exists(path) if value else Not(Exists(path)))
        elif op == "$not":
            parts.append(Not(_mongo_field(path, value)))
        else:
            raise Invalid(f"unknown query operator {op!r} on {path!r}; supported: {', '.join(MONGO_OPERATORS)}")
    return parts[0] if len(parts) == 1 else And(tuple(parts))


_PATH_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_:\-]*(\.[A-Za-z0-9_:\-]+)*$")


def _check_path(path: str) -> None:
    if not _PATH_RE.match(path):
        raise Invalid(f"query field {path!r} is not a dotted path such as metadata.cloud")


# --------------------------------------------------------------------------- reference evaluator


def resolve(doc: Any, path: str) -> Any:
    """The value at a dotted path, or the module's ``_MISSING`` sentinel."""
    current = doc
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        else:
            return _MISSING
    return current


def is_missing(value: Any) -> bool:
    return value is _MISSING or value is None


def _fold(value: Any, casei: bool) -> Any:
    return value.lower() if casei and isinstance(value, str) else value


def _compare(op: CompareOp, left: Any, right: Any) -> bool:
    if isinstance(left, bool) != isinstance(right, bool):
        return op == "ne"
    if isinstance(left, int | float) and isinstance(right, int | float):
        pass
    elif type(left) is not type(right):
        return op == "ne"
    try:
        if op == "eq":
            return bool(left == right)
        if op == "ne":
            return bool(left != right)
        if op == "lt":
            return bool(left < right)
        if op == "lte":
            return bool(left <= right)
        if op == "gt":
            return bool(left > right)
        return bool(left >= right)
    except TypeError:
        return False


class LikeMatcher:
    """A LIKE pattern compiled to run in linear time (no backtracking across ``%``).

    The pattern is split on unescaped ``%`` into segments of fixed length (``_`` and literals,
    one character each). A value matches when the first segment matches at its start, the last at
    its end and each one between at its leftmost place after the previous one: taking the leftmost
    place never loses a match, so this is exact. Each segment is a regular expression without
    quantifiers, which cannot backtrack; ``casei`` matches like ``re.IGNORECASE``.
    """

    def __init__(self, pattern: str, casei: bool = False) -> None:
        flags = re.DOTALL | (re.IGNORECASE if casei else 0)
        segments: list[list[str]] = [[]]
        escaped = False
        for ch in pattern:
            if escaped:
                segments[-1].append(re.escape(ch))
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == "%":
                segments.append([])
            elif ch == "_":
                segments[-1].append(".")
            else:
                segments[-1].append(re.escape(ch))
        self.lengths = [len(seg) for seg in segments]
        self.regexes = [re.compile("".join(seg), flags) for seg in segments]

    def __call__(self, value: str) -> bool:
        regexes, lengths = self.regexes, self.lengths
        if len(regexes) == 1:
            return regexes[0].fullmatch(value) is not None
        first, last = regexes[0], regexes[-1]
        end = len(value) - lengths[-1]
        if end < lengths[0] or first.match(value) is None:
            return False
        pos = lengths[0]
        for regex, length in zip(regexes[1:-1], lengths[1:-1], strict=True):
            if length == 0:
                continue
            found = regex.search(value, pos, end)
            if found is None:
                return False
            pos = found.end()
        return pos <= end and last.fullmatch(value, end) is not None


@functools.lru_cache(maxsize=256)
def compile_like(pattern: str, casei: bool = False) -> LikeMatcher:
    """The (cached) linear-time matcher of a LIKE pattern: ``%`` any run, ``_`` one character,
    ``\\`` escapes the next character."""
    return LikeMatcher(pattern, casei)


def _values(raw: Any) -> list[Any]:
    return raw if isinstance(raw, list) else [raw]


def matches(expr: Expr | None, doc: dict[str, Any]) -> bool:
    """Does ``doc`` satisfy ``expr``? The semantics every backend implements."""
    if expr is None:
        return True
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, And):
        return all(matches(a, doc) for a in expr.args)
    if isinstance(expr, Or):
        return any(matches(a, doc) for a in expr.args)
    if isinstance(expr, Not):
        return not matches(expr.arg, doc)
    if isinstance(expr, Exists):
        return not is_missing(resolve(doc, expr.field))
    raw = resolve(doc, expr.field)
    if is_missing(raw):
        return False
    if isinstance(expr, Compare):
        right = _fold(expr.value, expr.casei)
        if expr.op == "ne":
            return all(_compare("ne", _fold(v, expr.casei), right) for v in _values(raw))
        return any(_compare(expr.op, _fold(v, expr.casei), right) for v in _values(raw))
    if isinstance(expr, In):
        wanted = [_fold(v, expr.casei) for v in expr.values]
        return any(_compare("eq", _fold(v, expr.casei), w) for v in _values(raw) for w in wanted)
    if isinstance(expr, Between):
        return any(_compare("gte", v, expr.low) and _compare("lte", v, expr.high) for v in _values(raw))
    if isinstance(expr, Like):
        like = compile_like(expr.pattern, expr.casei)
        return any(isinstance(v, str) and like(v) for v in _values(raw))
    if isinstance(expr, Intersects):
        return geometry_intersects(raw, expr.geometry)
    raise TypeError(f"unknown filter node {expr!r}")


def bbox_polygon(bbox: list[float]) -> dict[str, Any]:
    if len(bbox) == 6:
        bbox = [bbox[0], bbox[1], bbox[3], bbox[4]]
    w, s, e, n = bbox
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def geometry_intersects(value: Any, geometry: dict[str, Any]) -> bool:
    """Shapely intersection of a stored geometry (GeoJSON or bbox array) with ``geometry``."""
    from shapely.geometry import shape

    if isinstance(value, list) and len(value) in (4, 6) and all(isinstance(v, int | float) for v in value):
        value = bbox_polygon(value)
    if not isinstance(value, dict) or "type" not in value:
        return False
    try:
        return bool(shape(value).intersects(shape(geometry)))
    except (ValueError, TypeError, AttributeError):
        return False


__all__ = [
    "And",
    "Between",
    "Compare",
    "Const",
    "Exists",
    "Expr",
    "In",
    "Intersects",
    "Like",
    "Not",
    "Or",
    "compile_like",
    "conjoin",
    "from_mongo",
    "matches",
]
