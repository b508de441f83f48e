"""Ingest status: what zero-touch indexing did with an object key, or why it did not.

- ``GET /assets/catalogs/{catalog_id}/ingest?key=...``: a key of that catalog, given in full
  (``demo/s2/scene-1/B04.tif``) or below the catalog (``s2/scene-1/B04.tif``).
- ``GET /assets/ingest?key=...``: any key of the bucket, including keys that belong to no catalog
  (a file at the bucket root, a folder name that is not a valid catalog id).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from dynastore.api.deps import JSONResponse, Reader, asset_url, get_services
from dynastore.errors import Invalid, NotFound
from dynastore.services.auth import Principal

router = APIRouter(tags=["ingest"])

KEY_DESCRIPTION = "the object key, e.g. `demo/s2/scene-1/B04.tif` (or below the catalog: `s2/scene-1/B04.tif`)"


@router.get(
    "/assets/catalogs/{catalog_id}/ingest",
    summary="Ingest status of an object key of a catalog",
    response_class=JSONResponse,
    responses={404: {"description": "the catalog does not exist, or no event for this key was seen"}},
)
def catalog_ingest_status(
    request: Request,
    catalog_id: str,
    key: str | None = Query(default=None, description=KEY_DESCRIPTION),
    principal: Principal = Reader,
) -> JSONResponse:
    services = get_services(request)
    services.catalogs.require_active(catalog_id)
    full_key = _required_key(key)
    if not full_key.startswith(f"{catalog_id}/"):
        full_key = f"{catalog_id}/{full_key}"
    return JSONResponse(_status(request, full_key))


@router.get(
    "/assets/ingest",
    summary="Ingest status of any object key of the bucket",
    response_class=JSONResponse,
    responses={404: {"description": "no storage event for this key was seen"}},
)
def ingest_status(
    request: Request,
    key: str | None = Query(default=None, description="the object key, e.g. `demo/s2/scene-1/B04.tif`"),
    principal: Principal = Reader,
) -> JSONResponse:
    full_key = _required_key(key)
    principal.require_catalog(full_key.split("/", 1)[0])  # a scoped key asks only about its catalogs' keys
    return JSONResponse(_status(request, full_key))


def _required_key(key: str | None) -> str:
    """The ``key`` parameter without leading slashes; it is required."""
    if not key or not key.strip("/"):
        raise Invalid("query parameter `key` is required: the object key whose ingest status you want")
    return key.lstrip("/")


def _status(request: Request, key: str) -> dict[str, Any]:
    services = get_services(request)
    record = services.indexing.ingest_status(key)
    body: dict[str, Any] = {
        "bucket": record.bucket,
        "key": record.key,
        "status": record.status,
        "at": record.at,
        "catalog_id": record.catalog_id,
        "asset_id": record.asset_id,
        "generation": record.generation,
        "error": record.error,
        "links": [],
    }
    if record.catalog_id and record.asset_id:
        try:
            asset = services.adapters.store.get_asset(record.catalog_id, record.asset_id)
        except NotFound:
            body["asset_status"] = "purged"
        else:
            body["asset_status"] = asset.get("status")
            body["links"].append({"rel": "asset", "href": asset_url(request, asset), "type": "application/json"})
    return body
