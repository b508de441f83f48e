"""``/assets/catalogs``: list, create (provisions storage), get, patch, delete (= retire)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from dynastore.api.deps import (
    Admin,
    Editor,
    IfMatch,
    JSONResponse,
    Reader,
    base_url,
    etag_header,
    get_services,
    next_link,
    page_document,
    read_json,
)
from dynastore.api.params import parse_limit
from dynastore.api.schemas import CATALOG_BODY, CATALOG_PATCH_BODY, json_body
from dynastore.domain.search import Page
from dynastore.errors import NotFound
from dynastore.services.auth import Principal
from dynastore.services.catalogs import CatalogService

router = APIRouter(prefix="/assets/catalogs", tags=["catalogs"])


def _with_links(request: Request, doc: dict) -> dict:
    root = f"{base_url(request)}/assets/catalogs/{doc['id']}"
    return {
        **doc,
        "links": [
            {"rel": "self", "href": root, "type": "application/json"},
            {"rel": "assets", "href": f"{root}/assets", "type": "application/json"},
            {"rel": "export", "href": f"{root}/export", "type": "application/x-ndjson"},
        ],
    }


def _existing(catalogs: CatalogService, ids: list[str], include_retired: bool) -> list[dict[str, Any]]:
    docs = []
    for catalog_id in ids:
        try:
            docs.append(catalogs.get(catalog_id, include_retired=include_retired))
        except NotFound:
            continue
    return docs


@router.get("", summary="List catalogs", response_class=JSONResponse)
def list_catalogs(
    request: Request,
    limit: str | None = Query(default=None, description="page size, 1..10000"),
    token: str | None = Query(default=None, description="opaque cursor from a `next` link"),
    include_retired: bool = Query(default=False, description="also list retired catalogs"),
    principal: Principal = Reader,
) -> JSONResponse:
    services = get_services(request)
    if principal.catalogs is not None:  # a scoped key lists its own catalogs, in one page
        page = Page(items=_existing(services.catalogs, sorted(principal.catalogs), include_retired), next_token=None)
    else:
        page = services.catalogs.list(
            include_retired=include_retired, limit=parse_limit(limit, services.settings), token=token
        )
    catalogs = [_with_links(request, doc) for doc in page.items]
    return JSONResponse(page_document(page, "catalogs", next_link(request, page.next_token), catalogs))


@router.post(
    "",
    status_code=201,
    summary="Create a catalog (provisions its storage)",
    response_class=JSONResponse,
    openapi_extra=json_body(CATALOG_BODY),
)
async def create_catalog(request: Request, principal: Principal = Editor) -> JSONResponse:
    body = await read_json(request)
    if isinstance(body, dict) and isinstance(body.get("id"), str):
        principal.require_catalog(body["id"])  # a scoped key creates only the catalogs its scope names
    doc = get_services(request).catalogs.create(body, actor=principal.key_id)
    location = f"{base_url(request)}/assets/catalogs/{doc['id']}"
    return JSONResponse(_with_links(request, doc), status_code=201, headers=etag_header(doc, {"Location": location}))


@router.get("/{catalog_id}", summary="Get a catalog", response_class=JSONResponse)
def get_catalog(request: Request, catalog_id: str, principal: Principal = Reader) -> JSONResponse:
    doc = get_services(request).catalogs.get(catalog_id)
    return JSONResponse(_with_links(request, doc), headers=etag_header(doc))


@router.patch(
    "/{catalog_id}",
    summary="Change a catalog (JSON merge patch)",
    response_class=JSONResponse,
    openapi_extra=json_body(CATALOG_PATCH_BODY, "application/merge-patch+json"),
)
async def patch_catalog(
    request: Request, catalog_id: str, expect: int | None = IfMatch, principal: Principal = Editor
) -> JSONResponse:
    body = await read_json(request)
    doc = get_services(request).catalogs.patch(catalog_id, body, actor=principal.key_id, if_rev=expect)
    return JSONResponse(_with_links(request, doc), headers=etag_header(doc))


@router.delete(
    "/{catalog_id}",
    summary="Retire a catalog (hidden at once, cleaned up after retention; admin only)",
    response_class=JSONResponse,
)
def retire_catalog(
    request: Request, catalog_id: str, expect: int | None = IfMatch, principal: Principal = Admin
) -> JSONResponse:
    doc = get_services(request).catalogs.retire(catalog_id, actor=principal.key_id, if_rev=expect)
    return JSONResponse(doc, headers=etag_header(doc))
