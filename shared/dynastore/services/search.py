"""Asset search: GET query parameters and POST JSON bodies → ``domain.search.AssetQuery``.

Parameters: ``q``, ``catalog_id`` (one or several; default: every active catalog), ``collection_id``,
``item_id``, ``level``, ``ids``, ``roles`` (any of), ``type`` (any of), ``tags`` (all of), ``datetime``
(instant or interval with open ends), ``bbox``, ``status``, ``query`` (MongoDB-style JSON), ``filter``
+ ``filter-lang`` (CQL2; compiled by ``dynastore.domain.cql2`` when present), ``sortby``, ``limit``
(≤ 10,000), ``token``. Lists arrive comma-separated or repeated in GET, as arrays in POST.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from dynastore.config import Settings
from dynastore.domain import time as dtime
from dynastore.domain.asset import ASSET_STATUSES
from dynastore.domain.filters import Expr, conjoin, from_mongo
from dynastore.domain.ids import check_id
from dynastore.domain.search import AssetQuery, Page, parse_sortby
from dynastore.errors import Invalid
from dynastore.ports import Doc, MetadataStore
from dynastore.services.catalogs import CatalogService

SEARCH_PARAMS = frozenset(
    {
        "q",
        "catalog_id",
        "catalog_ids",
        "collection_id",
        "item_id",
        "level",
        "ids",
        "roles",
        "type",
        "types",
        "tags",
        "datetime",
        "bbox",
        "status",
        "query",
        "filter",
        "filter-lang",
        "filter_lang",
        "sortby",
        "limit",
        "token",
    }
)
LEVELS = ("catalog", "collection", "item")


def compile_filter(value: Any, lang: str | None) -> Expr:
    """CQL2 ``filter`` → ``Expr`` through ``dynastore.domain.cql2.compile_cql2`` (the STAC issue adds it)."""
    try:
        cql2 = importlib.import_module("dynastore.domain.cql2")
    except ModuleNotFoundError:
        raise Invalid("CQL2 `filter` is not supported by this deployment yet; use `query` (MongoDB-style)") from None
    expr: Expr = cql2.compile_cql2(value, lang, target="asset")
    return expr


def _str_list(value: Any, what: str) -> tuple[str, ...]:
    """A list parameter from ``a,b``, repeated GET values or a JSON array."""
    if value is None:
        return ()
    raw: list[Any] = []
    for part in value if isinstance(value, list | tuple) else [value]:
        if isinstance(part, str):
            raw.extend(p for p in part.split(","))
        else:
            raise Invalid(f"{what} must be a string or an array of strings")
    return tuple(dict.fromkeys(p.strip() for p in raw if p.strip()))


def _one_str(value: Any, what: str) -> str | None:
    if isinstance(value, list | tuple):
        if len(value) > 1:
            raise Invalid(f"{what} takes one value")
        value = value[0] if value else None
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Invalid(f"{what} must be a string")
    return value


def parse_limit(value: Any, settings: Settings) -> int:
    if isinstance(value, list | tuple):
        value = value[-1] if value else None
    if value is None or value == "":
        return settings.default_page_limit
    if isinstance(value, bool):
        raise Invalid("limit must be an integer")
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise Invalid(f"limit must be an integer, got {value!r}") from None
    if isinstance(value, float) and value != limit:
        raise Invalid(f"limit must be an integer, got {value!r}")
    if limit < 1 or limit > settings.max_page_limit:
        raise Invalid(f"limit must be between 1 and {settings.max_page_limit}, got {limit}")
    return limit


def _bbox(value: Any) -> tuple[float, ...] | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        parts: list[Any] = value.split(",")
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


def _datetime(value: Any) -> tuple[str | None, str | None] | None:
    text = _one_str(value, "datetime")
    return dtime.parse_interval(text) if text else None


def _query(value: Any) -> Expr | None:
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, list | tuple):
        value = value[-1]
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise Invalid(f"query is not valid JSON: {exc}") from None
    return from_mongo(value)


def parse_search(params: Mapping[str, Any], settings: Settings, *, strict: bool = True) -> AssetQuery:
    """Build the query from GET parameters (values: str or list of str) or a POST body.

    ``catalog_ids`` stays as the client gave it (possibly empty); ``SearchService.run`` resolves
    "all active catalogs". With ``strict``, unknown parameters are rejected with a 400.
    """
    if not isinstance(params, Mapping):
        raise Invalid("the search body is a JSON object")
    if strict:
        unknown = sorted(k for k in params if k not in SEARCH_PARAMS)
        if unknown:
            raise Invalid(
                f"unknown search parameter(s) {', '.join(unknown)}; supported: {', '.join(sorted(SEARCH_PARAMS))}"
            )
    catalog_ids = _str_list(params.get("catalog_id"), "catalog_id") + _str_list(
        params.get("catalog_ids"), "catalog_ids"
    )
    for catalog_id in catalog_ids:
        check_id(catalog_id, "catalog_id")
    collection_id = _one_str(params.get("collection_id"), "collection_id")
    item_id = _one_str(params.get("item_id"), "item_id")
    for value, what in ((collection_id, "collection_id"), (item_id, "item_id")):
        if value is not None:
            check_id(value, what)
    level = _one_str(params.get("level"), "level")
    if level is not None and level not in LEVELS:
        raise Invalid(f"level must be one of {', '.join(LEVELS)}")
    status = _str_list(params.get("status"), "status") or ("active",)
    bad_status = [s for s in status if s not in ASSET_STATUSES]
    if bad_status:
        raise Invalid(f"status {', '.join(bad_status)} unknown; use {', '.join(ASSET_STATUSES)}")
    q = _one_str(params.get("q"), "q")
    filter_value = params.get("filter")
    filter_lang = _one_str(params.get("filter-lang") or params.get("filter_lang"), "filter-lang")
    if isinstance(filter_value, list | tuple) and all(isinstance(v, str) for v in filter_value):
        filter_value = filter_value[-1] if filter_value else None
    cql = compile_filter(filter_value, filter_lang) if filter_value not in (None, "", {}) else None
    sortby_raw = params.get("sortby")
    if isinstance(sortby_raw, list | tuple) and all(isinstance(v, str) for v in sortby_raw):
        sortby_raw = ",".join(sortby_raw)
    return AssetQuery(
        catalog_ids=catalog_ids,
        collection_id=collection_id,
        item_id=item_id,
        level=level,  # type: ignore[arg-type]
        ids=_str_list(params.get("ids"), "ids"),
        q=q.strip() if q and q.strip() else None,
        roles=_str_list(params.get("roles"), "roles"),
        tags=_str_list(params.get("tags"), "tags"),
        types=_str_list(params.get("type"), "type") + _str_list(params.get("types"), "types"),
        datetime=_datetime(params.get("datetime")),
        bbox=_bbox(params.get("bbox")),
        status=status,
        filter=conjoin(_query(params.get("query")), cql),
        sortby=parse_sortby(sortby_raw),
        limit=parse_limit(params.get("limit"), settings),
        token=_one_str(params.get("token"), "token"),
    )


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


class SearchService:
    def __init__(self, store: MetadataStore, catalogs: CatalogService, settings: Settings) -> None:
        self.store = store
        self.catalogs = catalogs
        self.settings = settings

    def parse(self, params: Mapping[str, Any], *, strict: bool = True) -> AssetQuery:
        return parse_search(params, self.settings, strict=strict)

    def resolve_catalogs(self, query: AssetQuery) -> AssetQuery:
        """Named catalogs must be active (``NotFound`` otherwise); none named means every active one."""
        from dataclasses import replace

        if query.catalog_ids:
            for catalog_id in query.catalog_ids:
                self.catalogs.require_active(catalog_id)
            return query
        return replace(query, catalog_ids=self.catalogs.active_ids())

    def run(self, query: AssetQuery) -> Page[Doc]:
        resolved = self.resolve_catalogs(query)
        if not resolved.catalog_ids:
            return Page(items=[], next_token=None, matched=0)
        return self.store.search_assets(resolved)

    def count(self, query: AssetQuery) -> int:
        resolved = self.resolve_catalogs(query)
        return self.store.count_assets(resolved) if resolved.catalog_ids else 0
