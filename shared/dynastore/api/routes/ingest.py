"""Ingest status: what zero-touch indexing did with an object key, or why it did not.

- ``GET /assets/catalogs/{catalog_id}/ingest?key=...``: a key of that catalog, given in full
  (``demo/s2/scene-1/B04.tif``) or below the catalog (``s2/scene-1/B04.tif``).
- ``GET /assets/ingest?key=...``: any key of the bucket, including keys that belong to no catalog
  (a file at the bucket root, a folder name that is not a valid catalog id).
- ``GET /assets/catalogs/{catalog_id}/ingest/records?status=&limit=&token=``: the catalog's recent
  keys, failures first, then newest first (a file that failed to index has no asset to find it by).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from dynastore.api.deps import JSONResponse, Reader, asset_url, get_services, next_link, page_document
from dynastore.api.params import check_query_names, parse_limit
from dynastore.errors import Invalid
from dynastore.ports import INGEST_STATUSES, IngestRecord
from dynastore.services.auth import Principal
from dynastore.services.indexing import IngestStatus

router = APIRouter(tags=["ingest"])

RECORDS_PARAMS = frozenset({"status", "limit", "token"})
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
    status = get_services(request).indexing.catalog_key_status(catalog_id, _required_key(key))
    return JSONResponse(_document(request, status))


@router.get(
    "/assets/catalogs/{catalog_id}/ingest/records",
    summary="Recent ingest records of a catalog, failures first",
    description="What indexing did with the catalog's object keys: failed ones first, then newest first "
    "(`at`). `status` keeps one status (`indexed`, `failed`, `deleted`, `skipped`); `limit` and `token` page.",
    response_class=JSONResponse,
    responses={404: {"description": "the catalog does not exist or is retired"}},
)
def catalog_ingest_records(
    request: Request,
    catalog_id: str,
    status: str | None = Query(default=None, description="one of " + ", ".join(INGEST_STATUSES)),
    limit: str | None = Query(default=None, description="records per page"),
    token: str | None = Query(default=None, description="the `next` token of the previous page"),
    principal: Principal = Reader,
) -> JSONResponse:
    check_query_names(request.query_params.multi_items(), RECORDS_PARAMS, RECORDS_PARAMS)
    services = get_services(request)
    page = services.indexing.recent_records(
        catalog_id, status=status or None, limit=parse_limit(limit, services.settings), token=token or None
    )
    records = [_record(record) for record in page.items]
    return JSONResponse(page_document(page, "records", next_link(request, page.next_token), records))


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
    return JSONResponse(_document(request, get_services(request).indexing.key_status(full_key)))


def _required_key(key: str | None) -> str:
    """The ``key`` parameter without leading slashes; it is required."""
    if not key or not key.strip("/"):
        raise Invalid("query parameter `key` is required: the object key whose ingest status you want")
    return key.lstrip("/")


def _record(record: IngestRecord) -> dict[str, Any]:
    return {
        "bucket": record.bucket,
        "key": record.key,
        "status": record.status,
        "at": record.at,
        "catalog_id": record.catalog_id,
        "asset_id": record.asset_id,
        "generation": record.generation,
        "error": record.error,
    }


def _document(request: Request, status: IngestStatus) -> dict[str, Any]:
    body: dict[str, Any] = {**_record(status.record), "links": []}
    if status.purged:
        body["asset_status"] = "purged"
    elif status.asset is not None:
        body["asset_status"] = status.asset.get("status")
        body["links"].append({"rel": "asset", "href": asset_url(request, status.asset), "type": "application/json"})
    return body
