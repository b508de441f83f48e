"""STAC items, with the Transaction extension, and the paginated per-item assets."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from dynastore.api.budget import run_search
from dynastore.api.deps import MAX_JSON_BODY, Editor, IfMatch, JSONResponse, Reader, read_json
from dynastore.api.params import check_query_names
from dynastore.api.routes._stac_common import (
    SEARCH_DESCRIPTION,
    GeoJSONResponse,
    MergePatch,
    Replacement,
    Write,
    _call,
    _item_asset_collection,
    _item_collection,
    _links,
    _stac,
)
from dynastore.api.search_params import parse_count
from dynastore.api.stac_params import (
    ASSET_ONE_VALUED,
    ASSET_SEARCH_PARAMS,
    ITEM_ONE_VALUED,
    ITEM_SEARCH_PARAMS,
    asset_list_query,
    item_list_query,
    parse_asset_search,
    parse_fields,
    parse_item_search,
)
from dynastore.errors import Invalid, PayloadTooLarge
from dynastore.services.auth import Principal
from dynastore.services.revisions import etag
from dynastore.services.stac import GEOJSON, link
from dynastore.services.stac.bulk_load import bulk_items_features, parse_ndjson

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/geo+json-seq", "application/jsonl")


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The raw body, refused with 413 past ``max_bytes`` (larger loads: ``dynastore load``)."""
    too_large = PayloadTooLarge(f"the body is larger than {max_bytes} bytes; `dynastore load` streams larger files")
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise too_large
    body = await request.body()
    if len(body) > max_bytes:
        raise too_large
    if not body.strip():
        raise Invalid("the request needs a body: one STAC item per line")
    return body


router = APIRouter(tags=["stac"])


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
    catalog_id: str,
    collection_id: str,
    request: Request,
    principal: Principal = Reader,
    params: dict[str, Any] = Depends(item_list_query),
) -> GeoJSONResponse:
    stac, links = _stac(request), _links(request)
    sent = request.query_params.multi_items()
    unknown = sorted({k for k, _ in sent if k not in ITEM_SEARCH_PARAMS or k == "collections"})
    if unknown:
        raise Invalid(f"unknown parameter(s) {', '.join(unknown)}")
    check_query_names(sent, ITEM_SEARCH_PARAMS, ITEM_ONE_VALUED)
    extra = [
        link("root", links.catalog(catalog_id)),
        link("parent", links.collection(catalog_id, collection_id)),
        link("collection", links.collection(catalog_id, collection_id)),
    ]

    def work() -> GeoJSONResponse:
        query, fields = parse_item_search(params, stac.settings, catalog_ids=(catalog_id,))
        page = stac.list_items(catalog_id, collection_id, query, count=parse_count(params))
        return _item_collection(request, page, fields, None, extra)

    return await run_search(request, work)


@router.post(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}/items",
    status_code=201,
    summary="Create an item, or each item of a FeatureCollection or NDJSON body (Transaction), all-or-nothing",
    response_class=GeoJSONResponse,
)
async def create_item(
    catalog_id: str, collection_id: str, request: Request, principal: Principal = Editor
) -> GeoJSONResponse:
    stac = _stac(request)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() in NDJSON_TYPES:
        raw = await read_body(request, MAX_JSON_BODY)
        features = await _call(parse_ndjson, raw.splitlines())
        created = await _call(
            stac.create_items, catalog_id, collection_id, features, actor=principal.key_id, lines=True, first=1
        )
        return _created(created)
    body = await read_json(request)
    if isinstance(body, dict) and body.get("type") == "FeatureCollection":
        created = await _call(
            stac.create_items, catalog_id, collection_id, body.get("features"), actor=principal.key_id
        )
        return _created(created)
    doc = await _call(stac.create_item, catalog_id, collection_id, body, actor=principal.key_id)
    return await _call(_item_response, request, doc, 201)


@router.post(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}/bulk_items",
    status_code=201,
    summary="Insert or upsert many items (STAC Transaction bulk form), all-or-nothing",
    response_class=GeoJSONResponse,
)
async def bulk_items(
    catalog_id: str, collection_id: str, request: Request, principal: Principal = Editor
) -> GeoJSONResponse:
    features, upsert = bulk_items_features(await read_json(request))
    created = await _call(
        _stac(request).create_items, catalog_id, collection_id, features, actor=principal.key_id, upsert=upsert
    )
    return _created(created)


def _created(docs: list[dict[str, Any]]) -> GeoJSONResponse:
    """The answer to a bulk write: the ids written, in request order."""
    ids = [d["id"] for d in docs]
    return GeoJSONResponse(
        {"type": "FeatureCollection", "features": [], "created": ids, "numberCreated": len(ids)}, status_code=201
    )


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
    catalog_id: str, collection_id: str, item_id: str, request: Request, write: Write = Replacement
) -> GeoJSONResponse:
    doc, created = await write.apply(_stac(request).replace_item, catalog_id, collection_id, item_id)
    return await _call(_item_response, request, doc, 201 if created else 200)


@router.patch(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}/items/{item_id}",
    summary="Change an item (JSON merge patch; `assets: {key: null}` deletes an asset)",
    response_class=GeoJSONResponse,
)
async def patch_item(
    catalog_id: str, collection_id: str, item_id: str, request: Request, write: Write = MergePatch
) -> GeoJSONResponse:
    doc = await write.apply(_stac(request).patch_item, catalog_id, collection_id, item_id)
    return await _call(_item_response, request, doc)


@router.delete(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}/items/{item_id}",
    status_code=204,
    summary="Delete an item; its assets are soft-deleted (restorable once the item exists again)",
)
async def delete_item(
    catalog_id: str,
    collection_id: str,
    item_id: str,
    request: Request,
    expect: int | None = IfMatch,
    principal: Principal = Editor,
) -> Response:
    await _call(_stac(request).delete_item, catalog_id, collection_id, item_id, actor=principal.key_id, if_rev=expect)
    return Response(status_code=204)


ITEM_ASSETS_DESCRIPTION = (
    "Every asset of the item, paginated (`limit`, `token`, `next` link), as lean asset records; `count=true` also "
    "answers `numberMatched`. "
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
    catalog_id: str,
    collection_id: str,
    item_id: str,
    request: Request,
    principal: Principal = Reader,
    params: dict[str, Any] = Depends(asset_list_query),
) -> JSONResponse:
    stac, links = _stac(request), _links(request)
    sent = request.query_params.multi_items()
    for name in ("collections", "items", "catalog_id", "catalog_ids", "bbox", "intersects"):
        if name in request.query_params:
            raise Invalid(f"{name} does not apply to one item's assets")
    check_query_names(sent, ASSET_SEARCH_PARAMS, ASSET_ONE_VALUED)
    extra = [
        link("root", links.catalog(catalog_id)),
        link("item", links.item(catalog_id, collection_id, item_id), GEOJSON, f"Item {item_id}"),
        link("parent", links.item(catalog_id, collection_id, item_id), GEOJSON),
    ]

    def work() -> JSONResponse:
        query = parse_asset_search(params, stac.settings, catalog_ids=(catalog_id,))
        page = stac.item_assets(catalog_id, collection_id, item_id, query, count=parse_count(params))
        fields = parse_fields(params.get("fields"))
        return _item_asset_collection(request, page, extra, (catalog_id, collection_id, item_id), fields)

    return await run_search(request, work)
