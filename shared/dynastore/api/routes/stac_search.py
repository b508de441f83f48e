"""STAC item search and asset search, across catalogs (``/stac/...``) and per catalog."""

from __future__ import annotations

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
    _item_collection,
    _links,
    _scope,
    _stac,
    _visible,
)
from dynastore.api.stac_params import (
    ASSET_ONE_VALUED,
    ASSET_SEARCH_PARAMS,
    ITEM_ONE_VALUED,
    ITEM_SEARCH_PARAMS,
    asset_search_query,
    item_search_query,
    parse_asset_search,
    parse_item_search,
)
from dynastore.services.auth import Principal
from dynastore.services.stac import link

router = APIRouter(tags=["stac"])


ItemSearchQuery = Depends(item_search_query)
AssetSearchQuery = Depends(asset_search_query)


async def _search_get(
    request: Request, catalog_id: str | None, principal: Principal, params: dict[str, Any]
) -> GeoJSONResponse:
    check_query_names(request.query_params.multi_items(), ITEM_SEARCH_PARAMS, ITEM_ONE_VALUED)
    stac = _stac(request)

    def work() -> GeoJSONResponse:
        query, fields = parse_item_search(params, stac.settings, catalog_ids=_scope(catalog_id))
        visible = _visible(request, principal, query)
        page = _empty() if visible is None else stac.search_items(visible)
        return _item_collection(request, page, fields, None, _root_links(request, catalog_id))

    return await run_search(request, work)


async def _search_post(request: Request, catalog_id: str | None, principal: Principal) -> GeoJSONResponse:
    body = await read_json_object(
        request, 'the search body is a JSON object such as {"bbox": [0, 0, 1, 1], "limit": 10}'
    )
    stac = _stac(request)

    def work() -> GeoJSONResponse:
        query, fields = parse_item_search(body, stac.settings, catalog_ids=_scope(catalog_id), json_body=True)
        visible = _visible(request, principal, query)
        page = _empty() if visible is None else stac.search_items(visible)
        return _item_collection(request, page, fields, body, _root_links(request, catalog_id))

    return await run_search(request, work)


def _root_links(request: Request, catalog_id: str | None) -> list[dict[str, Any]]:
    links = _links(request)
    return [link("root", links.catalog(catalog_id) if catalog_id else links.stac)]


@router.get(
    "/stac/search",
    summary="Item search across catalogs",
    description=SEARCH_DESCRIPTION,
    response_class=GeoJSONResponse,
)
async def search_all_get(
    request: Request, principal: Principal = Reader, params: dict[str, Any] = ItemSearchQuery
) -> GeoJSONResponse:
    return await _search_get(request, None, principal, params)


@router.post(
    "/stac/search",
    summary="Item search across catalogs (JSON body)",
    description=SEARCH_DESCRIPTION,
    response_class=GeoJSONResponse,
)
async def search_all_post(request: Request, principal: Principal = Reader) -> GeoJSONResponse:
    return await _search_post(request, None, principal)


@router.get(
    "/stac/catalogs/{catalog_id}/search",
    summary="Item search",
    description=SEARCH_DESCRIPTION,
    response_class=GeoJSONResponse,
)
async def search_get(
    catalog_id: str, request: Request, principal: Principal = Reader, params: dict[str, Any] = ItemSearchQuery
) -> GeoJSONResponse:
    return await _search_get(request, catalog_id, principal, params)


@router.post(
    "/stac/catalogs/{catalog_id}/search",
    summary="Item search (JSON body)",
    description=SEARCH_DESCRIPTION,
    response_class=GeoJSONResponse,
)
async def search_post(catalog_id: str, request: Request, principal: Principal = Reader) -> GeoJSONResponse:
    return await _search_post(request, catalog_id, principal)


ASSET_SEARCH_DESCRIPTION = (
    "Assets as first-class records: the item-search parameters (`collections`, `items`, `ids` (asset ids), `bbox` "
    "(via the item geometry), `datetime`, `filter` (CQL2 over asset fields), `query`, `sortby`, `limit`, `token`) "
    "plus `roles` (any of), `type` (media types, any of) and `q` (case-insensitive substring of id, code, title, "
    "file name). Each result carries `item`, `collection`, `catalog` and a `rel=item` link."
)


async def _asset_search_get(
    request: Request, catalog_id: str | None, principal: Principal, params: dict[str, Any]
) -> JSONResponse:
    check_query_names(request.query_params.multi_items(), ASSET_SEARCH_PARAMS, ASSET_ONE_VALUED)
    stac = _stac(request)

    def work() -> JSONResponse:
        query = parse_asset_search(params, stac.settings, catalog_ids=_scope(catalog_id))
        visible = _visible(request, principal, query)
        page = _empty() if visible is None else stac.search_assets(visible)
        return _asset_collection(request, page, None, _root_links(request, catalog_id))

    return await run_search(request, work)


async def _asset_search_post(request: Request, catalog_id: str | None, principal: Principal) -> JSONResponse:
    body = await read_json_object(request, 'the search body is a JSON object such as {"roles": ["data"], "limit": 10}')
    stac = _stac(request)

    def work() -> JSONResponse:
        query = parse_asset_search(body, stac.settings, catalog_ids=_scope(catalog_id), json_body=True)
        visible = _visible(request, principal, query)
        page = _empty() if visible is None else stac.search_assets(visible)
        return _asset_collection(request, page, body, _root_links(request, catalog_id))

    return await run_search(request, work)


@router.get(
    "/stac/asset-search",
    summary="Asset search across catalogs",
    description=ASSET_SEARCH_DESCRIPTION,
    response_class=JSONResponse,
)
async def asset_search_all_get(
    request: Request, principal: Principal = Reader, params: dict[str, Any] = AssetSearchQuery
) -> JSONResponse:
    return await _asset_search_get(request, None, principal, params)


@router.post(
    "/stac/asset-search",
    summary="Asset search across catalogs (JSON body)",
    description=ASSET_SEARCH_DESCRIPTION,
    response_class=JSONResponse,
)
async def asset_search_all_post(request: Request, principal: Principal = Reader) -> JSONResponse:
    return await _asset_search_post(request, None, principal)


@router.get(
    "/stac/catalogs/{catalog_id}/asset-search",
    summary="Asset search",
    description=ASSET_SEARCH_DESCRIPTION,
    response_class=JSONResponse,
)
async def asset_search_get(
    catalog_id: str, request: Request, principal: Principal = Reader, params: dict[str, Any] = AssetSearchQuery
) -> JSONResponse:
    return await _asset_search_get(request, catalog_id, principal, params)


@router.post(
    "/stac/catalogs/{catalog_id}/asset-search",
    summary="Asset search (JSON body)",
    description=ASSET_SEARCH_DESCRIPTION,
    response_class=JSONResponse,
)
async def asset_search_post(catalog_id: str, request: Request, principal: Principal = Reader) -> JSONResponse:
    return await _asset_search_post(request, catalog_id, principal)
