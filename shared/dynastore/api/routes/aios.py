"""``/aios``: the AIOS Assets DB and Assets DB registry API of seed 002, paths and payloads verbatim
relative to ``/aios`` (services.aios, services.registry).

Answers keep the seed service's envelope: ``{"success": true, "data": ...}`` (201 on create); errors
are problem+json like the rest of the API. Auth as everywhere (``Authorization: Bearer`` or
``X-API-Key``): reads need a reader of ``DYNASTORE_AIOS_CATALOG``, writes an editor of it; the registry
is deployment-wide: any reader reads it, any editor changes it. ``/aios/health`` is open.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from dynastore import __version__
from dynastore.api.deps import Editor, JSONResponse, Reader, base_url, get_services, read_json
from dynastore.api.schemas import json_body, multipart_body
from dynastore.api.uploads import read_upload, store_upload
from dynastore.domain.aios import QUERY_FIELDS
from dynastore.services.auth import Principal
from dynastore.services.registry import entry_view

router = APIRouter(prefix="/aios", tags=["aios"])

ASSET_OBJECT_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["asset_name", "asset_version"],
    "properties": {
        "asset_name": {"type": "string"},
        "asset_version": {
            "type": "object",
            "properties": {"version": {"type": "string"}, "tag": {"type": "string"}},
            "required": ["version", "tag"],
        },
        "asset_metadata": {"type": "object"},
        "asset_tags": {"type": "array", "items": {"type": "string"}},
        "asset_file_info": {"type": "object"},
        "asset_public_url": {"type": "string"},
    },
}
UPLOAD_BODY: dict[str, Any] = {
    "type": "object",
    "required": ["asset"],
    "properties": {
        "asset": {"type": "string", "format": "binary"},
        "asset_metadata": {"type": "string", "description": "the AssetObject fields as JSON"},
    },
}
QUERY_BODY: dict[str, Any] = {
    "type": "object",
    "description": f"Mongo-style query ($eq $ne $gt $gte $lt $lte $in $nin $exists $not $and $or) on "
    f"{', '.join(QUERY_FIELDS)}",
}
REGISTRY_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "asset_registry_name": {"type": "string"},
        "asset_registry_metadata": {"type": "object"},
        "asset_registry_tags": {"type": "array", "items": {"type": "string"}},
        "asset_registry_public_url": {"type": "string", "description": "base URL of the Assets DB"},
        "catalog_id": {"type": "string", "description": "or: a catalog of this service"},
    },
}


def ok(data: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse({"success": True, "data": data}, status_code=status_code)


def _in_aios_catalog(request: Request, principal: Principal) -> None:
    """The route's role (``Reader``/``Editor``) must hold in ``DYNASTORE_AIOS_CATALOG``."""
    principal.require_catalog(get_services(request).settings.aios_catalog)


# ------------------------------------------------------------------------------------ Assets DB


@router.get("/health", summary="Health of this Assets DB (no key needed)", response_class=JSONResponse)
def aios_health(request: Request) -> JSONResponse:
    services = get_services(request)
    services.adapters.store.health()
    return ok({"status": "healthy", "message": "Assets DB is running", "version": __version__})


@router.post(
    "/upload_asset",
    status_code=201,
    summary="Upload an asset file with its AssetObject metadata (multipart: asset, asset_metadata)",
    response_class=JSONResponse,
    openapi_extra=multipart_body(UPLOAD_BODY),
)
async def upload_asset(request: Request, principal: Principal = Editor) -> JSONResponse:
    services = get_services(request)
    _in_aios_catalog(request, principal)
    upload = await read_upload(
        request, services.settings.max_upload_bytes, file_field="asset", metadata_field="asset_metadata"
    )
    doc = await store_upload(upload, services.aios.upload, actor=principal.key_id)
    return ok(services.aios.render(doc, base_url(request)), 201)


@router.post(
    "/asset",
    status_code=201,
    summary="Create an asset from its AssetObject (an external asset: asset_public_url)",
    response_class=JSONResponse,
    openapi_extra=json_body(ASSET_OBJECT_BODY),
)
async def create_asset(request: Request, principal: Principal = Editor) -> JSONResponse:
    _in_aios_catalog(request, principal)
    body = await read_json(request)
    services = get_services(request)
    doc = await run_in_threadpool(services.aios.create, body, actor=principal.key_id)
    return ok(services.aios.render(doc, base_url(request)), 201)


@router.get(
    "/asset/{asset_uri:path}", summary="Get an asset by asset_uri (name:version-tag)", response_class=JSONResponse
)
def get_asset(request: Request, asset_uri: str, principal: Principal = Reader) -> JSONResponse:
    _in_aios_catalog(request, principal)
    services = get_services(request)
    return ok(services.aios.render(services.aios.resolve(asset_uri), base_url(request)))


@router.put(
    "/asset/{asset_uri:path}",
    summary="Update an asset's metadata, tags, file info or public URL",
    response_class=JSONResponse,
    openapi_extra=json_body({"type": "object"}),
)
async def update_asset(request: Request, asset_uri: str, principal: Principal = Editor) -> JSONResponse:
    _in_aios_catalog(request, principal)
    body = await read_json(request)
    services = get_services(request)
    doc = await run_in_threadpool(services.aios.update, asset_uri, body, actor=principal.key_id)
    return ok(services.aios.render(doc, base_url(request)))


@router.delete("/asset/{asset_uri:path}", summary="Delete an asset (soft)", response_class=JSONResponse)
def delete_asset(request: Request, asset_uri: str, principal: Principal = Editor) -> JSONResponse:
    _in_aios_catalog(request, principal)
    doc = get_services(request).aios.delete(asset_uri, actor=principal.key_id)
    return ok({"message": "Asset deleted", "asset_uri": doc.get("aios:uri"), "asset_id": doc["id"]})


@router.post(
    "/assets",
    summary="Query assets (plain fields or Mongo-style operators)",
    response_class=JSONResponse,
    openapi_extra=json_body(QUERY_BODY),
)
async def query_assets(request: Request, principal: Principal = Reader) -> JSONResponse:
    _in_aios_catalog(request, principal)
    body = await read_json(request, required=False)
    services = get_services(request)
    docs = await run_in_threadpool(services.aios.query, body, limit=services.settings.max_page_limit)
    return ok([services.aios.render(doc, base_url(request)) for doc in docs])


@router.get(
    "/asset-object/{asset_id}",
    summary="Download an asset's file",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, 307: {"description": "signed URL"}},
)
def asset_object(request: Request, asset_id: str, principal: Principal = Reader) -> Response:
    _in_aios_catalog(request, principal)
    services = get_services(request)
    target = services.aios.download(asset_id)
    if target.url is not None:
        return RedirectResponse(target.url, status_code=307)
    assert target.key is not None
    blobs = services.assets.blobs_of(target.doc)
    info = blobs.stat(target.key)
    reader = blobs.open(target.key)

    def chunks() -> Iterator[bytes]:
        try:
            while chunk := reader.read(1024 * 1024):
                yield chunk
        finally:
            reader.close()

    safe = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in target.file_name)
    headers = {"Content-Length": str(info.size), "Content-Disposition": f'attachment; filename="{safe}"'}
    media_type = target.doc.get("type") or info.content_type or "application/octet-stream"
    return StreamingResponse(chunks(), media_type=media_type, headers=headers)


# ------------------------------------------------------------------------------------ registry


@router.post(
    "/asset_registry",
    status_code=201,
    summary="Register an Assets DB (remote by URL, or a catalog of this service)",
    response_class=JSONResponse,
    openapi_extra=json_body(REGISTRY_BODY),
)
async def create_registry_entry(request: Request, principal: Principal = Editor) -> JSONResponse:
    body = await read_json(request)
    doc = await run_in_threadpool(get_services(request).registry.create, body)
    return ok({"message": "Asset registry created", "id": doc["id"]}, 201)


@router.get("/asset_registry/{asset_db_id}", summary="Get a registry entry", response_class=JSONResponse)
def get_registry_entry(request: Request, asset_db_id: str, principal: Principal = Reader) -> JSONResponse:
    return ok(entry_view(get_services(request).registry.get(asset_db_id)))


@router.put(
    "/asset_registry/{asset_db_id}",
    summary="Update a registry entry",
    response_class=JSONResponse,
    openapi_extra=json_body(REGISTRY_BODY),
)
async def update_registry_entry(request: Request, asset_db_id: str, principal: Principal = Editor) -> JSONResponse:
    body = await read_json(request)
    await run_in_threadpool(get_services(request).registry.update, asset_db_id, body)
    return ok({"message": "Asset registry updated"})


@router.delete("/asset_registry/{asset_db_id}", summary="Remove a registry entry", response_class=JSONResponse)
def delete_registry_entry(request: Request, asset_db_id: str, principal: Principal = Editor) -> JSONResponse:
    get_services(request).registry.delete(asset_db_id)
    return ok({"message": "Asset registry deleted"})


@router.post(
    "/asset_registries",
    summary="Query registry entries (Mongo-style)",
    response_class=JSONResponse,
    openapi_extra=json_body({"type": "object"}),
)
async def query_registry(request: Request, principal: Principal = Reader) -> JSONResponse:
    body = await read_json(request, required=False)
    docs = await run_in_threadpool(get_services(request).registry.query, body)
    return ok([entry_view(doc) for doc in docs])


@router.get(
    "/check_health/{asset_db_id}",
    summary="Probe a registered Assets DB now (latency, last seen)",
    response_class=JSONResponse,
)
async def check_health(request: Request, asset_db_id: str, principal: Principal = Reader) -> JSONResponse:
    return ok(await run_in_threadpool(get_services(request).registry.check, asset_db_id))
