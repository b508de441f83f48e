"""Asset-search parameters (GET query parameters or a POST JSON body) → ``domain.search.AssetQuery``.

``parse_search`` reads ``/assets/search`` and the asset lists of ``/assets/catalogs/...``:
``q``, ``catalog_id`` (one or several; default: every active catalog), ``collection_id``, ``item_id``,
``level``, ``ids``, ``roles`` (any of), ``type`` (any of), ``tags`` (all of), ``datetime`` (instant or
interval with open ends), ``bbox``, ``status``, ``query`` (MongoDB-style JSON), ``filter`` +
``filter-lang`` (CQL2, compiled by ``dynastore.domain.cql2``), ``sortby``, ``limit`` (≤ 10,000),
``token``, ``count`` (also answer ``numberMatched``; read by ``parse_count``). Lists arrive
comma-separated or repeated in GET, as arrays in POST.

The STAC asset search (``api.stac_params.parse_asset_search``) reads the terms both share with the
functions here (``named_catalogs``, ``free_text``, ``media_types``, ``parse_sort``), so each is parsed once.
``asset_filters`` declares the GET query parameters of an asset search; routes build the parser's
input from those declarations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Query

from dynastore.api.params import (
    check_params,
    declared_input,
    json_value,
    one_str,
    one_value,
    parse_bbox,
    parse_filter,
    parse_limit,
    parse_sort,
    str_list,
)
from dynastore.config import Settings
from dynastore.domain import time as dtime
from dynastore.domain.asset import ASSET_STATUSES
from dynastore.domain.filters import Expr, conjoin, from_mongo
from dynastore.domain.ids import check_id
from dynastore.domain.search import ASSET_SORT_FIELDS, AssetQuery
from dynastore.errors import Invalid

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
        "count",
    }
)
# Where the asset is: the path says it on the asset lists of a catalog, collection or item.
LEVEL_PARAMS = frozenset({"catalog_id", "catalog_ids", "collection_id", "item_id", "level"})
# Repeating these is refused; the others are lists (``limit``, ``query``, ``filter``: the last one counts).
ONE_VALUED = frozenset(
    {"q", "count", "collection_id", "item_id", "level", "datetime", "token", "filter-lang", "filter_lang"}
)
LEVELS = ("catalog", "collection", "item")


def named_catalogs(params: Mapping[str, Any]) -> tuple[str, ...]:
    """``catalog_id`` and its alias ``catalog_ids``: one or several catalog ids, each checked."""
    named = str_list(params.get("catalog_id"), "catalog_id") + str_list(params.get("catalog_ids"), "catalog_ids")
    for catalog_id in named:
        check_id(catalog_id, "catalog_id")
    return named


def free_text(params: Mapping[str, Any]) -> str | None:
    """``q``: one string, trimmed (blank is no filter)."""
    q = one_str(params.get("q"), "q")
    return q.strip() if q and q.strip() else None


def media_types(params: Mapping[str, Any]) -> tuple[str, ...]:
    """``type`` and its alias ``types``: media types, any of."""
    return str_list(params.get("type"), "type") + str_list(params.get("types"), "types")


def parse_count(params: Mapping[str, Any], query: Mapping[str, Any] | None = None) -> bool:
    """``count``: whether a search answers ``numberMatched`` (counting every match costs a scan, so it
    is opt-in). ``true``/``false`` in GET or the query string of a POST, a boolean in a POST body."""
    value = one_value(params.get("count"), "count")
    if value is None and query is not None:
        value = one_value(query.get("count"), "count")
    if value is None or value is False or value is True:
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", ""):
        return value.strip().lower() in ("true", "1")
    raise Invalid(f"count is true or false (whether to answer numberMatched), got {value!r}")


def _datetime(value: Any) -> tuple[str | None, str | None] | None:
    text = one_str(value, "datetime")
    return dtime.parse_interval(text) if text else None


def _last(value: Any) -> Any:
    """The last of repeated values (``limit=5&limit=10`` asks for 10)."""
    if isinstance(value, list | tuple):
        return value[-1] if value else None
    return value


def mongo_query(value: Any) -> Expr | None:
    """``query``: a MongoDB-style JSON object (text in GET) → the shared filter tree."""
    value = _last(value)
    if value in (None, "", {}):
        return None
    return from_mongo(json_value(value, "query"))


def parse_search(params: Mapping[str, Any], settings: Settings) -> AssetQuery:
    """Build the query from GET parameters (values: str or list of str) or a POST body.

    ``catalog_ids`` stays as the client gave it (possibly empty); ``SearchService.run`` resolves
    "all active catalogs". Unknown parameters are rejected with a 400.
    """
    check_params(params, SEARCH_PARAMS)
    parse_count(params)  # checked here; the route reads it
    catalog_ids = named_catalogs(params)
    collection_id = one_str(params.get("collection_id"), "collection_id")
    item_id = one_str(params.get("item_id"), "item_id")
    for value, what in ((collection_id, "collection_id"), (item_id, "item_id")):
        if value is not None:
            check_id(value, what)
    level = one_str(params.get("level"), "level")
    if level is not None and level not in LEVELS:
        raise Invalid(f"level must be one of {', '.join(LEVELS)}")
    status = str_list(params.get("status"), "status") or ("active",)
    bad_status = [s for s in status if s not in ASSET_STATUSES]
    if bad_status:
        raise Invalid(f"status {', '.join(bad_status)} unknown; use {', '.join(ASSET_STATUSES)}")
    q = free_text(params)
    return AssetQuery(
        catalog_ids=catalog_ids,
        collection_id=collection_id,
        item_id=item_id,
        level=level,  # type: ignore[arg-type]
        ids=str_list(params.get("ids"), "ids"),
        q=q,
        roles=str_list(params.get("roles"), "roles"),
        tags=str_list(params.get("tags"), "tags"),
        types=media_types(params),
        datetime=_datetime(params.get("datetime")),
        bbox=parse_bbox(params.get("bbox")),
        status=status,
        filter=conjoin(mongo_query(params.get("query")), parse_filter(params, "asset")),
        sortby=parse_sort(params.get("sortby"), ASSET_SORT_FIELDS),
        limit=parse_limit(_last(params.get("limit")), settings),
        token=one_str(params.get("token"), "token"),
    )


def asset_filters(
    q: str | None = Query(default=None, description="case-insensitive substring of id, code, title, file name"),
    ids: list[str] | None = Query(default=None, description="asset ids, any of (comma-separated or repeated)"),
    roles: list[str] | None = Query(default=None, description="any of, comma-separated or repeated"),
    type: list[str] | None = Query(default=None, description="media types, any of"),
    types: list[str] | None = Query(default=None, include_in_schema=False),
    tags: list[str] | None = Query(default=None, description="all of, comma-separated or repeated"),
    datetime: str | None = Query(default=None, description="instant or interval: 2024-01-01T00:00:00Z/.."),
    bbox: list[str] | None = Query(default=None, description="west,south,east,north (item-linked assets)"),
    status: list[str] | None = Query(default=None, description="active (default), deleted, missing"),
    query: str | None = Query(default=None, description='MongoDB-style JSON, e.g. {"metadata.cloud":{"$lt":10}}'),
    filter: str | None = Query(default=None, description="CQL2 text or JSON"),
    filter_lang: str | None = Query(default=None, alias="filter-lang", description="cql2-text or cql2-json"),
    filter_lang_alias: str | None = Query(default=None, alias="filter_lang", include_in_schema=False),
    sortby: list[str] | None = Query(default=None, description="-updated,+id"),
    limit: str | None = Query(default=None, description="page size 1..10000"),
    token: str | None = Query(default=None, description="cursor from the `next` link"),
    count: str | None = Query(default=None, description="true: also answer numberMatched (counts every match)"),
) -> dict[str, Any]:
    """The filters every asset search and asset list takes, declared as GET query parameters (a
    FastAPI dependency) → ``parse_search``'s input. ``types`` and ``filter_lang`` are aliases."""
    return declared_input(
        {
            "q": q,
            "ids": ids,
            "roles": roles,
            "type": type,
            "types": types,
            "tags": tags,
            "datetime": datetime,
            "bbox": bbox,
            "status": status,
            "query": query,
            "filter": filter,
            "filter-lang": filter_lang,
            "filter_lang": filter_lang_alias,
            "sortby": sortby,
            "limit": limit,
            "token": token,
            "count": count,
        }
    )
