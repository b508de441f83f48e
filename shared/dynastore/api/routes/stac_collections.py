"""STAC collections, with the Transaction extension."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from dynastore.api.deps import Editor, IfMatch, JSONResponse, Reader, read_json
from dynastore.api.params import check_query_names, parse_limit
from dynastore.api.routes._stac_common import (
    MergePatch,
    Replacement,
    Write,
    _call,
    _links,
    _page_document,
    _stac,
)
from dynastore.errors import Invalid
from dynastore.services.auth import Principal
from dynastore.services.revisions import etag
from dynastore.services.stac import JSON, link

router = APIRouter(tags=["stac"])
PAGE_PARAMS = frozenset({"limit", "token"})


def _collection_response(request: Request, catalog_id: str, doc: dict[str, Any], status: int = 200) -> JSONResponse:
    rendered = _stac(request).render_collection(doc, catalog_id, _links(request))
    headers = {"ETag": etag(doc)}
    if status == 201:
        headers["Location"] = _links(request).collection(catalog_id, doc["id"])
    return JSONResponse(rendered, status_code=status, headers=headers)


@router.get("/stac/catalogs/{catalog_id}/collections", summary="Collections", response_class=JSONResponse)
def list_collections(
    catalog_id: str,
    request: Request,
    principal: Principal = Reader,
    limit: str | None = Query(default=None, description="page size"),
    token: str | None = Query(default=None, description="cursor from the `next` link"),
) -> JSONResponse:
    stac, links = _stac(request), _links(request)
    sent = request.query_params.multi_items()
    unknown = sorted({k for k, _ in sent if k not in PAGE_PARAMS})
    if unknown:
        raise Invalid(f"unknown parameter(s) {', '.join(unknown)}; supported: limit, token")
    check_query_names(sent, PAGE_PARAMS, PAGE_PARAMS)
    page = stac.list_collections(catalog_id, limit=parse_limit(limit, stac.settings), token=token)
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
    catalog_id: str, collection_id: str, request: Request, write: Write = Replacement
) -> JSONResponse:
    doc, created = await write.apply(_stac(request).replace_collection, catalog_id, collection_id)
    return _collection_response(request, catalog_id, doc, 201 if created else 200)


@router.patch(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}",
    summary="Change a collection (JSON merge patch)",
    response_class=JSONResponse,
)
async def patch_collection(
    catalog_id: str, collection_id: str, request: Request, write: Write = MergePatch
) -> JSONResponse:
    doc = await write.apply(_stac(request).patch_collection, catalog_id, collection_id)
    return _collection_response(request, catalog_id, doc)


@router.delete(
    "/stac/catalogs/{catalog_id}/collections/{collection_id}",
    status_code=204,
    summary="Delete a collection with its items and their assets",
)
async def delete_collection(
    catalog_id: str, collection_id: str, request: Request, expect: int | None = IfMatch, principal: Principal = Editor
) -> Response:
    await _call(_stac(request).delete_collection, catalog_id, collection_id, actor=principal.key_id, if_rev=expect)
    return Response(status_code=204)
