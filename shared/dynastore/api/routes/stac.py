"""The STAC API (DESIGN §4.2): ``/stac`` root, one STAC API landing page per catalog, collections
and items with the Transaction extension, item search, asset search and per-item assets.

Handlers are thin: parse with ``dynastore.services.stac``, call ``services.stac``, render.
Item collections answer ``application/geo+json``; GET next links carry every parameter plus
``token``, POST next links repeat the body with ``token`` (``method: POST``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dynastore.api.budget import run_search
from dynastore.api.deps import (
    Editor,
    JSONResponse,
    Reader,
    base_url,
    get_services,
    read_json,
    read_json_object,
    url_for_path,
)
from dynastore.domain.search import Page
from dynastore.errors import Invalid, PreconditionFailed
from dynastore.services.auth import Principal
from dynastore.services.params import multi_params, parse_limit
from dynastore.services.stac import (
    GEOJSON,
    ITEM_SEARCH_PARAMS,
    JSON,
    OPENAPI,
    Fields,
    Links,
    StacService,
    apply_fields,
    etag,
    link,
    parse_asset_search,
    parse_item_search,
)

router = APIRouter(tags=["stac"])
T = TypeVar("T")


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON


def _stac(request: Request) -> StacService:
    stac: StacService = get_services(request).stac
    return stac


def _links(request: Request) -> Links:
    return Links(base_url(request))


def _params(request: Request) -> dict[str, Any]:
    return multi_params(request.query_params.multi_items())


def _url(request: Request, params: dict[str, Any] | None = None) -> str:
    return url_for_path(request, request.url.path, params)


def _page_links(
    request: Request, page: Page[Any], body: dict[str, Any] | None, media_type: str
) -> list[dict[str, Any]]:
    """``self`` and, when there is one, ``next``: a GET URL with ``token`` or a POST with the body."""
    if body is None:
        params = _params(request)
        out = [link("self", _url(request, params), media_type)]
        if page.next_token:
            params = {k: v for k, v in params.items() if k != "token"}
            params["token"] = page.next_token
            out.append(link("next", _url(request, params), media_type))
        return out
    out = [link("self", _url(request), media_type, method="POST", body=body)]
    if page.next_token:
        out.append(
            link("next", _url(request), media_type, method="POST", body={**body, "token": page.next_token}, merge=False)
        )
    return out


def _page_document(
    request: Request,
    page: Page[Any],
    body: dict[str, Any] | None,
    media_type: str,
    members: dict[str, Any],
    extra_links: list[dict[str, Any]],
) -> dict[str, Any]:
    """A STAC/OGC page: ``members``, the page links and ``extra_links``, numberReturned and (when known)
    numberMatched."""
    out = {
        **members,
        "links": [*_page_links(request, page, body, media_type), *extra_links],
        "numberReturned": len(page.items),
    }
    if page.matched is not None:
        out["numberMatched"] = page.matched
    return out


def _scope(catalog_id: str | None) -> tuple[str, ...]:
    """The catalogs a search endpoint covers: its own, or (the root's) all."""
    return (catalog_id,) if catalog_id else ()


def _if_rev(if_match: str | None) -> int | None:
    if not if_match or if_match.strip() == "*":
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise PreconditionFailed(f'If-Match {if_match!r} is not an ETag this service issued ("<revision>")')
    return int(value)


async def _call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await run_in_threadpool(fn, *args, **kwargs)


# ============================================================================ landing pages


@router.get("/stac", summary="STAC root: every active catalog, search, asset-search", response_class=JSONResponse)
def stac_root(request: Request, principal: Principal = Reader) -> JSONResponse:
    return JSONResponse(_stac(request).root(_links(request)))


@router.get("/stac/api", include_in_schema=False, response_class=JSONResponse)
def stac_service_desc(request: Request, principal: Principal = Reader) -> JSONResponse:
    """The OpenAPI document (as ``/api``) with the OpenAPI media type STAC clients ask for."""
    return JSONResponse(request.app.openapi(), media_type=OPENAPI)


@router.get("/stac/conformance", summary="Conformance classes of the root", response_class=JSONResponse)
def stac_conformance(request: Request, principal: Principal = Reader) -> JSONResponse:
    return JSONResponse(_stac(request).conformance())


@router.get("/stac/queryables", summary="Queryables of item search across catalogs", response_class=JSONResponse)
def stac_root_queryables(request: Request, principal: Principal = Reader) -> JSONResponse:
    doc = _stac(request).queryables(_links(request), None)
    return JSONResponse(doc, media_type="application/schema+json")


@router.get("/stac/catalogs/{catalog_id}", summary="A catalog's STAC API landing page", response_class=JSONResponse)
def catalog_landing(catalog_id: str, request: Request, principal: Principal = Reader) -> JSONResponse:
    return JSONResponse(_stac(request).landing(catalog_id, _links(request)))


@router.get("/stac/catalogs/{catalog_id}/conformance", summary="Conformance classes", response_class=JSONResponse)
def catalog_conformance(catalog_id: str, request: Request, principal: Principal = Reader) -> JSONResponse:
    return JSONResponse(_stac(request).conformance(catalog_id))


@router.get("/stac/catalogs/{catalog_id}/queryables", summary="Queryables (JSON Schema)", response_class=JSONResponse)
def catalog_queryables(catalog_id: str, request: Request, principal: Principal = Reader) -> JSONResponse:
    doc = _stac(request).queryables(_links(request), catalog_id)
    return JSONResponse(doc, media_type="application/schema+json")


# ============================================================================ item search


SEARCH_DESCRIPTION = (
    "STAC item search: `collections`, `ids`, `bbox` or `intersects`, `datetime` (instant or interval, open ends), "
    "`q` (free text over id, title, description, keywords; comma-separated terms, any of), `filter` + `filter-lang` "
    "(CQL2 text or JSON: basic-cql2, like, between, in, casei, s_intersects), `query` (STAC Query extension), "
    "`sortby` (`-datetime,+id`), `fields` (`id,properties.datetime,-assets`), `limit`, `token`."
)


def _item_collection(
    request: Request, page: Page[Any], fields: Fields, body: dict[str, Any] | None, extra_links: list[dict[str, Any]]
) -> GeoJSONResponse:
    stac, links = _stac(request), _links(request)
    embed = not fields or _wants_assets(fields)
    features = [apply_fields(stac.render_item(doc, links, embed=embed), fields) for doc in page.items]
    members = {"type": "FeatureCollection", "features": features}
    return GeoJSONResponse(_page_document(request, page, body, GEOJSON, members, extra_links))


def _wants_assets(fields: Fields) -> bool:
    if "assets" in fields.exclude:
        return False
    return not fields.include or any(p == "assets" or p.startswith("assets.") for p in fields.include)


async def _search_get(request: Request, catalog_id: str | None) -> GeoJSONResponse:
    stac = _stac(request)

    def work() -> GeoJSONResponse:
        query, fields = parse_item_search(_params(request), stac.settings, catalog_ids=_scope(catalog_id))
        page = stac.search_items(query)
        return _item_collection(request, page, fields, None, _root_links(request, catalog_id))

    return await run_search(request, work)


async def _search_post(request: Request, catalog_id: str | None) -> GeoJSONResponse:
    body = await read_json_object(
        request, 'the search body is a JSON object such as {"bbox": [0, 0, 1, 1], "limit": 10}'
    )
    stac = _stac(request)

    def work() -> GeoJSONResponse:
        query, fields = parse_item_search(body, stac.settings, catalog_ids=_scope(catalog_id), json_body=True)
        page = stac.search_items(query)
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
async def search_all_get(request: Request, principal: Principal = Reader) -> GeoJSONResponse:
    return await _search_get(request, None)


@router.post(
    "/stac/search",
    summary="Item search across catalogs (JSON body)",
    description=SEARCH_DESCRIPTION,
    response_class=GeoJSONResponse,
)
async def search_all_post(request: Request, principal: Principal = Reader) -> GeoJSONResponse:
    return await _search_post(request, None)


@router.get(
    "/stac/catalogs/{catalog_id}/search",
    summary="Item search",
    description=SEARCH_DESCRIPTION,
    response_class=GeoJSONResponse,
)
async def search_get(catalog_id: str, request: Request, principal: Principal = Reader) -> GeoJSONResponse:
    return await _search_get(request, catalog_id)


@router.post(
    "/stac/catalogs/{catalog_id}/search",
    summary="Item search (JSON body)",
    description=SEARCH_DESCRIPTION,
    response_class=GeoJSONResponse,
)
async def search_post(catalog_id: str, request: Request, principal: Principal = Reader) -> GeoJSONResponse:
    return await _search_post(request, catalog_id)


# ============================================================================ asset search


ASSET_SEARCH_DESCRIPTION = (
    "Assets as first-class records: the item-search parameters (`collections`, `items`, `ids` (asset ids), `bbox` "
    "(via the item geometry), `datetime`, `filter` (CQL2 over asset fields), `query`, `sortby`, `limit`, `token`) "
    "plus `roles` (any of), `type` (media types, any of) and `q` (case-insensitive substring of id, code, title, "
    "file name). Each result carries `item`, `collection`, `catalog` and a `rel=item` link."
)


def _asset_collection(
    request: Request, page: Page[Any], body: dict[str, Any] | None, extra_links: list[dict[str, Any]]
) -> JSONResponse:
    stac, links = _stac(request), _links(request)
    members = {"type": "AssetCollection", "assets": [stac.render_asset_record(doc, links) for doc in page.items]}
    return JSONResponse(_page_document(request, page, body, JSON, members, extra_links))


async def _asset_search_get(request: Request, catalog_id: str | None) -> JSONResponse:
    stac = _stac(request)

    def work() -> JSONResponse:
        query = parse_asset_search(_params(request), stac.settings, catalog_ids=_scope(catalog_id))
        return _asset_collection(request, stac.search_assets(query), None, _root_links(request, catalog_id))

    return await run_search(request, work)


async def _asset_search_post(request: Request, catalog_id: str | None) -> JSONResponse:
    body = await read_json_object(request, 'the search body is a JSON object such as {"roles": ["data"], "limit": 10}')
    stac = _stac(request)

    def work() -> JSONResponse:
        query = parse_asset_search(body, stac.settings, catalog_ids=_scope(catalog_id), json_body=True)
        return _asset_collection(request, stac.search_assets(query), body, _root_links(request, catalog_id))

    return await run_search(request, work)


@router.get(
    "/stac/asset-search",
    summary="Asset search across catalogs",
    description=ASSET_SEARCH_DESCRIPTION,
    response_class=JSONResponse,
)
async def asset_search_all_get(request: Request, principal: Principal = Reader) -> JSONResponse:
    return await _asset_search_get(request, None)


@router.post(
    "/stac/asset-search",
    summary="Asset search across catalogs (JSON body)",
    description=ASSET_SEARCH_DESCRIPTION,
    response_class=JSONResponse,
)
async def asset_search_all_post(request: Request, principal: Principal = Reader) -> JSONResponse:
    return await _asset_search_post(request, None)


@router.get(
    "/stac/catalogs/{catalog_id}/asset-search",
    summary="Asset search",
    description=ASSET_SEARCH_DESCRIPTION,
    response_class=JSONResponse,
)
async def asset_search_get(catalog_id: str, request: Request, principal: Principal = Reader) -> JSONResponse:
    return await _asset_search_get(request, catalog_id)


@router.post(
    "/stac/catalogs/{catalog_id}/asset-search",
    summary="Asset search (JSON body)",
    description=ASSET_SEARCH_DESCRIPTION,
    response_class=JSONResponse,
)
async def asset_search_post(catalog_id: str, request: Request, principal: Principal = Reader) -> JSONResponse:
    return await _asset_search_post(request, catalog_id)


# ============================================================================ collections


def _collection_response(request: Request, catalog_id: str, doc: dict[str, Any], status: int = 200) -> JSONResponse:
    rendered = _stac(request).render_collection(doc, catalog_id, _links(request))
    headers = {"ETag": etag(doc)}
    if status == 201:
        headers["Location"] = _links(request).collection(catalog_id, doc["id"])
    return JSONResponse(rendered, status_code=status, headers=headers)


@router.get("/stac/catalogs/{catalog_id}/collections", summary="Collections", response_class=JSONResponse)
def list_collections(catalog_id: str, request: Request, principal: Principal = Reader) -> JSONResponse:
    stac, links = _stac(request), _links(request)
    params = _params(request)
    unknown = sorted(k for k in params if k not in ("limit", "token"))
    if unknown:
        raise Invalid(f"unknown parameter(s) {', '.join(unknown)}; supported: limit, token")
    token = params.get("token")
    page = stac.list_collections(
        catalog_id,
        limit=parse_limit(params.get("limit"), stac.settings),
        token=token if isinstance(token, str) else None,
    )
    members = {"collections": [stac.render_collection(doc, catalog_id, links) for doc in page.items]}
    extra = [link("root", links.catalog(catalog_id)), link("parent", links.catalog(catalog_id))]
    return JSONResponse(_page_document(request, page, None, JSON, members, extra))


@router.post(
    "/stac/catalogs/{catalog_id}/collections",
    summary="Create a collection (Transaction)",
    status_code=201,
    response_class=JSONResponse,
)
async def create_collection(catalog_id: str, request: Request, principal: Principal = Editor) -> JSONResponse:
    body = await read_json(request)
    doc = await _call(_stac(request).create_collection, catalog_id, body, actor=principal.key_id)
    return _collection_response(request, catalog_id, doc, 201)


@router.get(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}", summary="A collection", response_class=JSONResponse
)
def get_collection(
    catalog_id: str, collection_id: str, request: Request, principal: Principal = Reader
) -> JSONResponse:
    doc = _stac(request).get_collection_doc(catalog_id, collection_id)
    return _collection_response(request, catalog_id, doc)


@router.get(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}/queryables",
    summary="Queryables (JSON Schema)",
    response_class=JSONResponse,
)
def collection_queryables(
    catalog_id: str, collection_id: str, request: Request, principal: Principal = Reader
) -> JSONResponse:
    doc = _stac(request).queryables(_links(request), catalog_id, collection_id)
    return JSONResponse(doc, media_type="application/schema+json")


@router.put(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}",
    summary="Replace (or create) a collection",
    response_class=JSONResponse,
)
async def put_collection(
    catalog_id: str,
    collection_id: str,
    request: Request,
    if_match: str | None = Header(default=None, alias="If-Match"),
    principal: Principal = Editor,
) -> JSONResponse:
    body = await read_json(request)
    doc, created = await _call(
        _stac(request).replace_collection,
        catalog_id,
        collection_id,
        body,
        actor=principal.key_id,
        if_rev=_if_rev(if_match),
    )
    return _collection_response(request, catalog_id, doc, 201 if created else 200)


@router.patch(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}",
    summary="Change a collection (JSON merge patch)",
    response_class=JSONResponse,
)
async def patch_collection(
    catalog_id: str,
    collection_id: str,
    request: Request,
    if_match: str | None = Header(default=None, alias="If-Match"),
    principal: Principal = Editor,
) -> JSONResponse:
    _check_merge_patch(request)
    body = await read_json(request)
    doc = await _call(
        _stac(request).patch_collection,
        catalog_id,
        collection_id,
        body,
        actor=principal.key_id,
        if_rev=_if_rev(if_match),
    )
    return _collection_response(request, catalog_id, doc)


@router.delete(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}",
    status_code=204,
    summary="Delete a collection with its items and their assets",
)
async def delete_collection(
    catalog_id: str, collection_id: str, request: Request, principal: Principal = Editor
) -> Response:
    await _call(_stac(request).delete_collection, catalog_id, collection_id, actor=principal.key_id)
    return Response(status_code=204)


def _check_merge_patch(request: Request) -> None:
    content_type = (request.headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if content_type == "application/json-patch+json":
        raise Invalid(
            "PATCH takes a JSON merge patch (application/merge-patch+json or application/json), not JSON Patch"
        )


# ============================================================================ items


def _item_response(request: Request, doc: dict[str, Any], status: int = 200) -> GeoJSONResponse:
    stac, links = _stac(request), _links(request)
    rendered = stac.render_item(doc, links)
    headers = {"ETag": etag(doc)}
    if status == 201:
        headers["Location"] = links.item(doc["catalog_id"], doc["collection"], doc["id"])
    return GeoJSONResponse(rendered, status_code=status, headers=headers)


@router.get(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}/items",
    summary="Items of a collection",
    description=SEARCH_DESCRIPTION.replace("STAC item search: `collections`, ", "Items of this collection: "),
    response_class=GeoJSONResponse,
)
async def list_items(
    catalog_id: str, collection_id: str, request: Request, principal: Principal = Reader
) -> GeoJSONResponse:
    stac, links = _stac(request), _links(request)
    params = _params(request)
    unknown = sorted(k for k in params if k not in ITEM_SEARCH_PARAMS or k == "collections")
    if unknown:
        raise Invalid(f"unknown parameter(s) {', '.join(unknown)}")
    extra = [
        link("root", links.catalog(catalog_id)),
        link("parent", links.collection(catalog_id, collection_id)),
        link("collection", links.collection(catalog_id, collection_id)),
    ]

    def work() -> GeoJSONResponse:
        query, fields = parse_item_search(params, stac.settings, catalog_ids=(catalog_id,))
        page = stac.list_items(catalog_id, collection_id, query)
        return _item_collection(request, page, fields, None, extra)

    return await run_search(request, work)


@router.post(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}/items",
    status_code=201,
    summary="Create an item, or each item of a FeatureCollection (Transaction)",
    response_class=GeoJSONResponse,
)
async def create_item(
    catalog_id: str, collection_id: str, request: Request, principal: Principal = Editor
) -> GeoJSONResponse:
    body = await read_json(request)
    stac = _stac(request)
    if isinstance(body, dict) and body.get("type") == "FeatureCollection":
        created = await _call(
            stac.create_items, catalog_id, collection_id, body.get("features"), actor=principal.key_id
        )
        return GeoJSONResponse(
            {
                "type": "FeatureCollection",
                "features": [],
                "created": [d["id"] for d in created],
                "numberCreated": len(created),
            },
            status_code=201,
        )
    doc = await _call(stac.create_item, catalog_id, collection_id, body, actor=principal.key_id)
    return await _call(_item_response, request, doc, 201)


@router.get(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}/items/{item_id}",
    summary="An item",
    response_class=GeoJSONResponse,
)
def get_item(
    catalog_id: str, collection_id: str, item_id: str, request: Request, principal: Principal = Reader
) -> GeoJSONResponse:
    doc = _stac(request).get_item_doc(catalog_id, collection_id, item_id)
    return _item_response(request, doc)


@router.put(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}/items/{item_id}",
    summary="Replace (or create) an item; its inline assets are upserted",
    response_class=GeoJSONResponse,
)
async def put_item(
    catalog_id: str,
    collection_id: str,
    item_id: str,
    request: Request,
    if_match: str | None = Header(default=None, alias="If-Match"),
    principal: Principal = Editor,
) -> GeoJSONResponse:
    body = await read_json(request)
    doc, created = await _call(
        _stac(request).replace_item,
        catalog_id,
        collection_id,
        item_id,
        body,
        actor=principal.key_id,
        if_rev=_if_rev(if_match),
    )
    return await _call(_item_response, request, doc, 201 if created else 200)


@router.patch(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}/items/{item_id}",
    summary="Change an item (JSON merge patch; `assets: {key: null}` deletes an asset)",
    response_class=GeoJSONResponse,
)
async def patch_item(
    catalog_id: str,
    collection_id: str,
    item_id: str,
    request: Request,
    if_match: str | None = Header(default=None, alias="If-Match"),
    principal: Principal = Editor,
) -> GeoJSONResponse:
    _check_merge_patch(request)
    body = await read_json(request)
    doc = await _call(
        _stac(request).patch_item,
        catalog_id,
        collection_id,
        item_id,
        body,
        actor=principal.key_id,
        if_rev=_if_rev(if_match),
    )
    return await _call(_item_response, request, doc)


@router.delete(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}/items/{item_id}",
    status_code=204,
    summary="Delete an item and its assets",
)
async def delete_item(
    catalog_id: str, collection_id: str, item_id: str, request: Request, principal: Principal = Editor
) -> Response:
    await _call(_stac(request).delete_item, catalog_id, collection_id, item_id, actor=principal.key_id)
    return Response(status_code=204)


ITEM_ASSETS_DESCRIPTION = (
    "Every asset of the item, paginated (`limit`, `token`, `next` link), as asset records with a `rel=item` link. "
    "`datetime` (instant or interval, ends included; an asset matches when its datetime or "
    "start/end range meets it), `roles` (any of), `type`, `q`, `filter` (CQL2 over asset fields), `sortby` narrow it."
)


@router.get(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}/items/{item_id}/assets",
    summary="The item's assets, paginated",
    description=ITEM_ASSETS_DESCRIPTION,
    response_class=JSONResponse,
)
async def item_assets(
    catalog_id: str, collection_id: str, item_id: str, request: Request, principal: Principal = Reader
) -> JSONResponse:
    stac, links = _stac(request), _links(request)
    params = _params(request)
    for name in ("collections", "items", "catalog_id", "catalog_ids", "bbox", "intersects"):
        if name in params:
            raise Invalid(f"{name} does not apply to one item's assets")
    extra = [
        link("root", links.catalog(catalog_id)),
        link("item", links.item(catalog_id, collection_id, item_id), GEOJSON, f"Item {item_id}"),
        link("parent", links.item(catalog_id, collection_id, item_id), GEOJSON),
    ]

    def work() -> JSONResponse:
        query = parse_asset_search(params, stac.settings, catalog_ids=(catalog_id,))
        page = stac.item_assets(catalog_id, collection_id, item_id, query)
        return _asset_collection(request, page, None, extra)

    return await run_search(request, work)
