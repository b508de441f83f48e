"""Asset search: GET query parameters and POST JSON bodies → ``domain.search.AssetQuery``.

Parameters: ``q``, ``catalog_id`` (one or several; default: every active catalog), ``collection_id``,
``item_id``, ``level``, ``ids``, ``roles`` (any of), ``type`` (any of), ``tags`` (all of), ``datetime``
(instant or interval with open ends), ``bbox``, ``status``, ``query`` (MongoDB-style JSON), ``filter``
+ ``filter-lang`` (CQL2, compiled by ``dynastore.domain.cql2``), ``sortby``, ``limit``
(≤ 10,000), ``token``. Lists arrive comma-separated or repeated in GET, as arrays in POST.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from dynastore.config import Settings
from dynastore.domain import time as dtime
from dynastore.domain.asset import ASSET_STATUSES
from dynastore.domain.filters import Expr, conjoin, from_mongo
from dynastore.domain.ids import check_id
from dynastore.domain.search import AssetQuery, Page, parse_sortby
from dynastore.errors import Invalid
from dynastore.ports import Doc, MetadataStore
from dynastore.services.catalogs import CatalogService
from dynastore.services.params import check_params, json_value, one_str, parse_bbox, parse_filter, parse_limit, str_list

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


def _datetime(value: Any) -> tuple[str | None, str | None] | None:
    text = one_str(value, "datetime")
    return dtime.parse_interval(text) if text else None


def _query(value: Any) -> Expr | None:
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
    catalog_ids = str_list(params.get("catalog_id"), "catalog_id") + str_list(params.get("catalog_ids"), "catalog_ids")
    for catalog_id in catalog_ids:
        check_id(catalog_id, "catalog_id")
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
    q = one_str(params.get("q"), "q")
    sortby_raw = params.get("sortby")
    if isinstance(sortby_raw, list | tuple) and all(isinstance(v, str) for v in sortby_raw):
        sortby_raw = ",".join(sortby_raw)
    return AssetQuery(
        catalog_ids=catalog_ids,
        collection_id=collection_id,
        item_id=item_id,
        level=level,  # type: ignore[arg-type]
        ids=str_list(params.get("ids"), "ids"),
        q=q.strip() if q and q.strip() else None,
        roles=str_list(params.get("roles"), "roles"),
        tags=str_list(params.get("tags"), "tags"),
        types=str_list(params.get("type"), "type") + str_list(params.get("types"), "types"),
        datetime=_datetime(params.get("datetime")),
        bbox=parse_bbox(params.get("bbox")),
        status=status,
        filter=conjoin(_query(params.get("query")), parse_filter(params, "asset")),
        sortby=parse_sortby(sortby_raw),
        limit=parse_limit(_last(params.get("limit")), settings),
        token=one_str(params.get("token"), "token"),
    )


def _last(value: Any) -> Any:
    """The last of repeated values (``limit=5&limit=10`` asks for 10)."""
    if isinstance(value, list | tuple):
        return value[-1] if value else None
    return value


class SearchService:
    def __init__(self, store: MetadataStore, catalogs: CatalogService, settings: Settings) -> None:
        self.store = store
        self.catalogs = catalogs
        self.settings = settings

    def parse(self, params: Mapping[str, Any]) -> AssetQuery:
        return parse_search(params, self.settings)

    def resolve_catalogs(self, query: AssetQuery) -> AssetQuery:
        """Named catalogs must be active (``NotFound`` otherwise); none named means every active one."""
        return replace(query, catalog_ids=self.catalogs.resolve_ids(query.catalog_ids))

    def run(self, query: AssetQuery, visible: tuple[str, ...] | None = ()) -> Page[Doc]:
        """``visible``: the catalogs the caller may search (``()``: no restriction; None: none at all)."""
        if visible is None:
            return Page(items=[], next_token=None, matched=0)
        resolved = self.resolve_catalogs(replace(query, catalog_ids=visible or query.catalog_ids))
        if not resolved.catalog_ids:
            return Page(items=[], next_token=None, matched=0)
        return self.store.search_assets(resolved)

    def count(self, query: AssetQuery) -> int:
        resolved = self.resolve_catalogs(query)
        return self.store.count_assets(resolved) if resolved.catalog_ids else 0
