"""Assets at the three levels: catalog, collection and item (feature-linked).

The same endpoints exist under each level's base path; the path's scope must be the record's
scope (else 404). ``register_level`` builds one set per level so the three stay identical.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from dynastore.api.deps import (
    ASSET_LEVELS,
    Editor,
    IfMatch,
    JSONResponse,
    Reader,
    asset_url,
    base_url,
    etag_header,
    get_services,
    next_link,
    page_document,
    read_json,
)
from dynastore.api.params import check_query_names, parse_limit
from dynastore.api.schemas import (
    ASSET_BODY,
    ASSET_PATCH_BODY,
    UPLOAD_FORM,
    UPLOAD_TARGET_BODY,
    json_body,
    multipart_body,
)
from dynastore.api.search_params import (
    LEVEL_PARAMS,
    ONE_VALUED,
    SEARCH_PARAMS,
    asset_filters,
    parse_count,
    parse_search,
)
from dynastore.api.uploads import read_upload, store_upload
from dynastore.domain.asset import assets_path
from dynastore.domain.ids import check_id
from dynastore.errors import Forbidden, Invalid
from dynastore.services.assets import Scope
from dynastore.services.auth import Principal

router = APIRouter(tags=["assets"])
T = TypeVar("T")

LIST_PARAMS_DOC = (
    "Filters as in `/assets/search` (`q`, `roles`, `type`, `tags`, `datetime`, `bbox`, `status`, `query`, `sortby`), "
    "restricted to this level; `limit` (≤ 10,000) and `token` page."
)


def _asset_id(asset_id: str) -> str:
    return check_id(asset_id, "asset id")


def _resolved(request: Request, scope: Scope, asset_id: str) -> str:
    """The asset id a read names: ``<name>@latest`` (or a version's file name) in an item → that version's id."""
    versions = get_services(request).versions
    return _asset_id(versions.resolve(scope.catalog_id, scope.collection_id, scope.item_id, asset_id))


@dataclass(frozen=True)
class Change:
    """An editor's change to one asset of a level: the path's scope, the audit actor, the If-Match revision."""

    scope: Scope
    actor: str
    if_rev: int | None

    def apply(self, change: Callable[..., T], asset_id: str, *args: Any) -> T:
        """``change(scope, asset_id, *args, actor=, if_rev=)``."""
        return change(self.scope, _asset_id(asset_id), *args, actor=self.actor, if_rev=self.if_rev)


def register_level(base: str, scope_dependency: Callable[..., Scope], label: str) -> None:
    """Add list/create/upload/get/put/patch/delete/restore/history/download under ``base``."""
    scope_dep = Depends(scope_dependency)

    def editor_change(principal: Principal = Editor, scope: Scope = scope_dep, expect: int | None = IfMatch) -> Change:
        return Change(scope, principal.key_id, expect)

    change_dep = Depends(editor_change)

    @router.get(base, summary=f"List {label} assets", description=LIST_PARAMS_DOC, response_class=JSONResponse)
    def list_assets(
        request: Request,
        principal: Principal = Reader,
        scope: Scope = scope_dep,
        filters: dict[str, Any] = Depends(asset_filters),
    ) -> JSONResponse:
        services = get_services(request)
        sent = request.query_params.multi_items()
        misplaced = sorted({name for name, _ in sent if name in LEVEL_PARAMS})
        if misplaced:
            raise Invalid(f"{', '.join(misplaced)} come from the path here; use /assets/search to search across levels")
        check_query_names(sent, SEARCH_PARAMS, ONE_VALUED)
        query = parse_search({**filters, "catalog_id": scope.catalog_id}, services.settings)
        page = services.assets.list_in_scope(scope, query, count=parse_count(filters))
        return JSONResponse(page_document(page, "assets", next_link(request, page.next_token)))

    @router.post(
        base,
        status_code=201,
        summary=f"Create a {label} asset",
        response_class=JSONResponse,
        openapi_extra=json_body(ASSET_BODY),
    )
    async def create_asset(request: Request, principal: Principal = Editor, scope: Scope = scope_dep) -> JSONResponse:
        body = await read_json(request)
        doc = await run_in_threadpool(get_services(request).assets.create, scope, body, actor=principal.key_id)
        return JSONResponse(doc, status_code=201, headers=etag_header(doc, {"Location": asset_url(request, doc)}))

    @router.post(
        f"{base}/upload",
        status_code=201,
        summary=f"Upload a file as a {label} asset (multipart: file + metadata JSON)",
        response_class=JSONResponse,
        openapi_extra=multipart_body(UPLOAD_FORM),
    )
    async def upload_asset(request: Request, principal: Principal = Editor, scope: Scope = scope_dep) -> JSONResponse:
        services = get_services(request)
        upload = await read_upload(request, services.settings.max_upload_bytes)
        doc = await store_upload(upload, services.assets.upload, scope, actor=principal.key_id)
        return JSONResponse(doc, status_code=201, headers=etag_header(doc, {"Location": asset_url(request, doc)}))

    @router.get(f"{base}/{{asset_id}}", summary=f"Get a {label} asset", response_class=JSONResponse)
    def get_asset(
        request: Request, asset_id: str, principal: Principal = Reader, scope: Scope = scope_dep
    ) -> JSONResponse:
        doc = get_services(request).assets.get(scope, _resolved(request, scope, asset_id))
        return JSONResponse(doc, headers=etag_header(doc))

    @router.put(
        f"{base}/{{asset_id}}",
        summary=f"Create or replace a {label} asset",
        response_class=JSONResponse,
        responses={201: {"description": "created"}},
        openapi_extra=json_body(ASSET_BODY),
    )
    async def put_asset(request: Request, asset_id: str, change: Change = change_dep) -> JSONResponse:
        body = await read_json(request)
        doc, created = await run_in_threadpool(change.apply, get_services(request).assets.put, asset_id, body)
        headers = etag_header(doc, {"Location": asset_url(request, doc)} if created else None)
        return JSONResponse(doc, status_code=201 if created else 200, headers=headers)

    @router.patch(
        f"{base}/{{asset_id}}",
        summary=f"Change a {label} asset (JSON merge patch, RFC 7386)",
        response_class=JSONResponse,
        openapi_extra=json_body(ASSET_PATCH_BODY, "application/merge-patch+json"),
    )
    async def patch_asset(request: Request, asset_id: str, change: Change = change_dep) -> JSONResponse:
        body = await read_json(request)
        doc = await run_in_threadpool(change.apply, get_services(request).assets.patch, asset_id, body)
        return JSONResponse(doc, headers=etag_header(doc))

    @router.delete(
        f"{base}/{{asset_id}}",
        summary=f"Delete a {label} asset (soft; `?hard=true` removes it and its stored file, admin only)",
        response_class=JSONResponse,
    )
    def delete_asset(
        request: Request,
        asset_id: str,
        principal: Principal = Editor,
        scope: Scope = scope_dep,
        hard: bool = Query(default=False, description="remove for good (admin)"),
        expect: int | None = IfMatch,
    ) -> Response:
        services = get_services(request)
        if hard:
            if not principal.has_role("admin"):
                raise Forbidden(f"a hard delete needs role admin; the key {principal.key_id} has role {principal.role}")
            services.assets.hard_delete(scope, _asset_id(asset_id), actor=principal.key_id, if_rev=expect)
            return Response(status_code=204)
        doc = services.assets.delete(scope, _asset_id(asset_id), actor=principal.key_id, if_rev=expect)
        return JSONResponse(doc, headers=etag_header(doc))

    @router.post(
        f"{base}/{{asset_id}}/restore", summary=f"Undo the soft delete of a {label} asset", response_class=JSONResponse
    )
    def restore_asset(request: Request, asset_id: str, change: Change = change_dep) -> JSONResponse:
        doc = change.apply(get_services(request).assets.restore, asset_id)
        return JSONResponse(doc, headers=etag_header(doc))

    @router.get(
        f"{base}/{{asset_id}}/history",
        summary=f"Audit trail of a {label} asset (newest first)",
        response_class=JSONResponse,
    )
    def asset_history(
        request: Request,
        asset_id: str,
        principal: Principal = Reader,
        scope: Scope = scope_dep,
        limit: str | None = Query(default=None),
        token: str | None = Query(default=None),
    ) -> JSONResponse:
        services = get_services(request)
        page = services.assets.history(
            scope, _asset_id(asset_id), limit=parse_limit(limit, services.settings), token=token
        )
        return JSONResponse(page_document(page, "events", next_link(request, page.next_token)))

    @router.get(
        f"{base}/{{asset_id}}/download",
        summary=f"The bytes of a {label} asset (a redirect to a signed URL in the cloud)",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}}, 307: {"description": "signed URL"}},
    )
    def download_asset(
        request: Request, asset_id: str, principal: Principal = Reader, scope: Scope = scope_dep
    ) -> Response:
        services = get_services(request)
        doc, key, url = services.assets.download_target(scope, _resolved(request, scope, asset_id))
        if url is not None:
            return RedirectResponse(url, status_code=307)
        assert key is not None
        blobs = services.assets.blobs_of(doc)  # the bucket of the asset's catalog
        info = blobs.stat(key)
        reader = blobs.open(key)

        def chunks() -> Iterator[bytes]:
            try:
                while chunk := reader.read(1024 * 1024):
                    yield chunk
            finally:
                reader.close()

        name = key.rsplit("/", 1)[-1]
        headers = {
            "Content-Length": str(info.size),
            "Content-Disposition": f"attachment; filename=\"{_ascii_name(name)}\"; filename*=UTF-8''{_quote(name)}",
        }
        if info.etag:
            headers["ETag"] = f'"{info.etag}"'
        media_type = doc.get("type") or info.content_type or "application/octet-stream"
        return StreamingResponse(chunks(), media_type=media_type, headers=headers)


def _ascii_name(name: str) -> str:
    """A plain-ASCII fallback file name for clients that ignore ``filename*``."""
    return "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)


def _quote(name: str) -> str:
    return quote(name, safe="")


for _base, _scope_dependency, _label in ASSET_LEVELS:
    register_level(_base, _scope_dependency, _label)


@router.post(
    "/assets/catalogs/{catalog_id}/uploads",
    summary="Where to send a file directly: a signed PUT URL in the cloud, the multipart upload endpoint locally",
    response_class=JSONResponse,
    openapi_extra=json_body(UPLOAD_TARGET_BODY),
)
async def upload_target(request: Request, catalog_id: str, principal: Principal = Editor) -> JSONResponse:
    body = await read_json(request)
    services = get_services(request)
    target = await run_in_threadpool(services.assets.upload_target, check_id(catalog_id, "catalog_id"), body)
    if not target.get("signed"):
        scope = target["scope"]
        path = assets_path(catalog_id, scope.get("collection_id"), scope.get("item_id"))
        target["url"] = f"{base_url(request)}{path}/upload"
    return JSONResponse(target)
