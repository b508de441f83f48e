"""STAC item search and asset search, across catalogs (``/stac/...``) and per catalog.

Each search answers GET (query parameters) and POST (a JSON body) under both base paths;
``register_search`` builds the pair once per (search, base path) so the four stay identical.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request

from dynastore.api.budget import run_search
from dynastore.api.deps import JSONResponse, Reader, read_json_object
from dynastore.api.params import check_query_names
from dynastore.api.routes._stac_common import (
    SEARCH_DESCRIPTION,
    GeoJSONResponse,
    _asset_collection,
    _empty,
    _feature_collection,
    _item_collection,
    _links,
    _scope,
    _stac,
    _visible,
)
from dynastore.api.search_params import parse_count
from dynastore.api.stac_params import (
    ASSET_ONE_VALUED,
    ASSET_SEARCH_PARAMS,
    ITEM_ONE_VALUED,
    ITEM_SEARCH_PARAMS,
    asset_search_query,
    item_search_query,
    parse_asset_search,
    parse_fields,
    parse_item_search,
)
from dynastore.services.auth import Principal
from dynastore.services.stac import link

router = APIRouter(tags=["stac"])

ASSET_SEARCH_DESCRIPTION = (
    "Assets as first-class records: the item-search parameters (`collections`, `items`, `ids` (asset ids), `bbox` "
    "(via the item geometry), `datetime`, `filter` (CQL2 over asset fields), `query`, `sortby`, `limit`, `token`) "
    "plus `roles` (any of), `type` (media types, any of) and `q` (case-insensitive substring of id, code, title, "
    "file name), `count=true` (also answer `numberMatched`). Each result carries `item`, `collection` and "
    "`catalog` (no per-asset links: see the README)."
)

# What a search answers: (request, principal, parameters or body, catalog of the path, the POST body or None).
Answer = Callable[[Request, Principal, dict[str, Any], str | None, dict[str, Any] | None], JSONResponse]


def _root_links(request: Request, catalog_id: str | None) -> list[dict[str, Any]]:
    links = _links(request)
    return [link("root", links.catalog(catalog_id) if catalog_id else links.stac)]


def _items(
    request: Request, principal: Principal, params: dict[str, Any], catalog_id: str | None, body: dict[str, Any] | None
) -> GeoJSONResponse:
    stac = _stac(request)
    json_body = body is not None
    query, fields = parse_item_search(params, stac.settings, catalog_ids=_scope(catalog_id), json_body=json_body)
    count = parse_count(params, request.query_params)
    visible = _visible(request, principal, query)
    if visible is not None and not fields:  # rendered from the stored texts where the store can
        features = stac.search_item_features(visible, _links(request), count=count)
        if features is not None:
            return _feature_collection(request, features, body, _root_links(request, catalog_id))
    page = _empty(count) if visible is None else stac.search_items(visible, count=count)
    return _item_collection(request, page, fields, body, _root_links(request, catalog_id))


def _assets(
    request: Request, principal: Principal, params: dict[str, Any], catalog_id: str | None, body: dict[str, Any] | None
) -> JSONResponse:
    stac = _stac(request)
    query = parse_asset_search(params, stac.settings, catalog_ids=_scope(catalog_id), json_body=body is not None)
    count = parse_count(params, request.query_params)
    visible = _visible(request, principal, query)
    page = _empty(count) if visible is None else stac.search_assets(visible, count=count)
    fields = parse_fields(params.get("fields"))
    return _asset_collection(request, page, body, _root_links(request, catalog_id), fields)


@dataclass(frozen=True)
class Search:
    """One kind of search: its path segment, operation name, summary and how it reads and answers."""

    path: str
    name: str
    summary: str
    description: str
    response_class: type[JSONResponse]
    get_params: Callable[..., dict[str, Any]]
    names: frozenset[str]
    one_valued: frozenset[str]
    body_example: str
    answer: Answer


SEARCHES = (
    Search(
        path="search",
        name="search",
        summary="Item search",
        description=SEARCH_DESCRIPTION,
        response_class=GeoJSONResponse,
        get_params=item_search_query,
        names=ITEM_SEARCH_PARAMS,
        one_valued=ITEM_ONE_VALUED,
        body_example='{"bbox": [0, 0, 1, 1], "limit": 10}',
        answer=_items,
    ),
    Search(
        path="asset-search",
        name="asset_search",
        summary="Asset search",
        description=ASSET_SEARCH_DESCRIPTION,
        response_class=JSONResponse,
        get_params=asset_search_query,
        names=ASSET_SEARCH_PARAMS,
        one_valued=ASSET_ONE_VALUED,
        body_example='{"roles": ["data"], "limit": 10}',
        answer=_assets,
    ),
)


def _all_catalogs() -> str | None:
    return None


def _path_catalog(catalog_id: str) -> str | None:
    return catalog_id


# Where searches live: (base path, its catalog as a dependency, summary suffix, operation name suffix).
SEARCH_BASES: tuple[tuple[str, Callable[..., str | None], str, str], ...] = (
    ("/stac", _all_catalogs, " across catalogs", "_all"),
    ("/stac/catalogs/{catalog_id}", _path_catalog, "", ""),
)


def register_search(search: Search, base: str, catalog: Callable[..., str | None], across: str, suffix: str) -> None:
    """Add ``search``'s GET and POST under ``base``."""
    path, name, summary = f"{base}/{search.path}", f"{search.name}{suffix}", f"{search.summary}{across}"
    catalog_dep = Depends(catalog)

    @router.get(
        path,
        name=f"{name}_get",
        summary=summary,
        description=search.description,
        response_class=search.response_class,
    )
    async def search_get(
        request: Request,
        principal: Principal = Reader,
        catalog_id: str | None = catalog_dep,
        params: dict[str, Any] = Depends(search.get_params),
    ) -> JSONResponse:
        check_query_names(request.query_params.multi_items(), search.names, search.one_valued)
        return await run_search(request, lambda: search.answer(request, principal, params, catalog_id, None))

    @router.post(
        path,
        name=f"{name}_post",
        summary=f"{summary} (JSON body)",
        description=search.description,
        response_class=search.response_class,
    )
    async def search_post(
        request: Request, principal: Principal = Reader, catalog_id: str | None = catalog_dep
    ) -> JSONResponse:
        body = await read_json_object(request, f"the search body is a JSON object such as {search.body_example}")
        return await run_search(request, lambda: search.answer(request, principal, body, catalog_id, body))


for _search in SEARCHES:
    for _base, _catalog, _across, _suffix in SEARCH_BASES:
        register_search(_search, _base, _catalog, _across, _suffix)
