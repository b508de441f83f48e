"""Request parameters shared by the searches and list endpoints, checked into plain values.

Values arrive as GET query parameters (``str``, or a list of ``str`` when repeated; see
``multi_params``) or as members of a POST JSON body. Bad input raises ``Invalid`` naming the parameter.
Parsing lives here, in the API layer: services take the typed values (``AssetQuery``, ints).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import orjson

from dynastore.config import Settings
from dynastore.domain.cql2 import compile_cql2
from dynastore.domain.filters import Expr
from dynastore.domain.limits import check_json_depth
from dynastore.domain.search import SortKey, parse_sortby
from dynastore.errors import Invalid

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def multi_params(items: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """GET query items → {name: str | [str, ...]} (repeated names become lists)."""
    params: dict[str, Any] = {}
    for key, value in items:
        if key in params:
            current = params[key]
            params[key] = [*current, value] if isinstance(current, list) else [current, value]
        else:
            params[key] = value
    return params


def check_params(params: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """A search takes a JSON object of known parameters only."""
    if not isinstance(params, Mapping):
        raise Invalid("the search body is a JSON object")
    unknown = sorted(k for k in params if k not in allowed)
    if unknown:
        raise Invalid(f"unknown search parameter(s) {', '.join(unknown)}; supported: {', '.join(sorted(allowed))}")


def one_value(value: Any, what: str) -> Any:
    """The single value of a parameter (a list of one is unwrapped; more than one is refused)."""
    if isinstance(value, list | tuple):
        if len(value) > 1:
            raise Invalid(f"{what} takes one value")
        return value[0] if value else None
    return value


def one_str(value: Any, what: str) -> str | None:
    """One string value; absent or empty is None."""
    value = one_value(value, what)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Invalid(f"{what} must be a string")
    return value


def str_list(value: Any, what: str) -> tuple[str, ...]:
    """A list parameter from ``a,b``, repeated GET values or a JSON array of strings (deduplicated, in order)."""
    if value is None or value == "":
        return ()
    raw: list[str] = []
    for part in value if isinstance(value, list | tuple) else [value]:
        if not isinstance(part, str):
            raise Invalid(f"{what} must be a string or an array of strings")
        raw.extend(part.split(","))
    return tuple(dict.fromkeys(p.strip() for p in raw if p.strip()))


def json_value(value: Any, what: str, kind: str = "JSON") -> Any:
    """A JSON parameter: GET sends it as text, a POST body as JSON already."""
    if not isinstance(value, str):
        check_json_depth(value, what)
        return value
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"{what} is not valid {kind}: {exc}") from None
    check_json_depth(parsed, what)
    return parsed


def parse_limit(value: Any, settings: Settings, default: int | None = None, *, clamp: bool = False) -> int:
    """``limit`` in 1..``max_page_limit``; with ``clamp`` (STAC/OGC searches) a larger one is capped."""
    value = one_value(value, "limit")
    if value is None or value == "":
        return default or settings.default_page_limit
    if isinstance(value, bool):
        raise Invalid("limit must be an integer")
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise Invalid(f"limit must be an integer, got {value!r}") from None
    if isinstance(value, float) and value != limit:
        raise Invalid(f"limit must be an integer, got {value!r}")
    if clamp and limit > settings.max_page_limit:
        return settings.max_page_limit
    if limit < 1 or limit > settings.max_page_limit:
        raise Invalid(f"limit must be between 1 and {settings.max_page_limit}, got {limit}")
    return limit


def parse_bbox(value: Any, *, json_body: bool = False) -> tuple[float, ...] | None:
    """GET ``west,south,east,north``; in a JSON body an array of 4 or 6 numbers."""
    if value is None or value == "" or value == []:
        return None
    if json_body and not (isinstance(value, list) and all(isinstance(v, int | float) for v in value)):
        raise Invalid("bbox in a JSON body is an array of 4 or 6 numbers, e.g. [-10, 40, 10, 50]")
    parts: list[Any]
    if isinstance(value, str):
        parts = value.split(",")
    elif isinstance(value, list | tuple):
        parts = list(value)
        if len(parts) == 1 and isinstance(parts[0], str):
            parts = parts[0].split(",")
    else:
        raise Invalid("bbox must be 4 or 6 numbers: west,south,east,north")
    try:
        numbers = tuple(float(p) for p in parts)
    except (TypeError, ValueError):
        raise Invalid(f"bbox must be 4 or 6 numbers, got {value!r}") from None
    if len(numbers) not in (4, 6):
        raise Invalid(f"bbox must be 4 or 6 numbers, got {len(numbers)}")
    west, south, east, north = (numbers[0], numbers[1], numbers[3], numbers[4]) if len(numbers) == 6 else numbers
    if south > north:
        raise Invalid("bbox south is greater than north")
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90):
        raise Invalid("bbox is outside -180..180 / -90..90")
    return numbers


def parse_filter(params: Mapping[str, Any], target: Literal["item", "asset"]) -> Expr | None:
    """CQL2 ``filter`` (text or JSON) with ``filter-lang`` and ``filter-crs`` (CRS84 only) → ``Expr``."""
    value = params.get("filter")
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        value = value[-1] if value else None
    if value in (None, "", {}):
        return None
    lang = one_str(params.get("filter-lang") or params.get("filter_lang"), "filter-lang")
    crs = one_str(params.get("filter-crs") or params.get("filter_crs"), "filter-crs")
    if crs not in (None, CRS84):
        raise Invalid(f"filter-crs must be {CRS84} (WGS 84 longitude/latitude)")
    return compile_cql2(value, lang, target=target)


def parse_sort(value: Any, allowed: tuple[str, ...]) -> tuple[SortKey, ...]:
    """GET ``sortby=-datetime,+id`` (maybe repeated) or POST ``[{"field", "direction"}]``."""
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        value = ",".join(value)
    if value is not None and not isinstance(value, str | list):
        raise Invalid('sortby is "-datetime,+id" or [{"field": "datetime", "direction": "desc"}]')
    return parse_sortby(value or None, allowed)


def declared_input(values: Mapping[str, str | list[str] | None]) -> dict[str, Any]:
    """A route's declared GET parameters (by their names on the wire) → the parsers' input, shaped as
    ``multi_params`` shapes it: absent ones left out, a parameter given once a ``str``, repeated a list."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        out[name] = value[0] if isinstance(value, list) and len(value) == 1 else value
    return out


def check_query_names(items: Sequence[tuple[str, str]], allowed: frozenset[str], one_valued: frozenset[str]) -> None:
    """Refuse GET parameters a route does not take, and repeats of the ones that take one value
    (the declared parameters carry the values; this checks only the names the client sent)."""
    names = [name for name, _ in items]
    check_params(dict.fromkeys(names), allowed)
    for name in dict.fromkeys(names):
        if name in one_valued and names.count(name) > 1:
            raise Invalid(f"{name} takes one value")
