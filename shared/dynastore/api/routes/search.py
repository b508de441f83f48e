"""Asset search (GET/POST), bulk upsert, bulk get and the NDJSON export."""

from __future__ import annotations

import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from dynastore.api.budget import run_search
from dynastore.api.deps import (
    Editor,
    JSONResponse,
    Reader,
    get_services,
    next_link,
    page_document,
    read_json,
    read_json_object,
    url_for_path,
    visible_catalogs,
)
from dynastore.api.params import check_query_names, declared_input
from dynastore.api.schemas import BULK_BODY, BULK_GET_BODY, SEARCH_BODY, json_body
from dynastore.api.search_params import ONE_VALUED, SEARCH_PARAMS, asset_filters, parse_count, parse_search
from dynastore.domain.ids import check_id
from dynastore.domain.search import Page
from dynastore.errors import Invalid, http_status
from dynastore.services.asset_bulk import BulkResult
from dynastore.services.auth import Principal

router = APIRouter(tags=["search"])

SEARCH_DESCRIPTION = (
    "`q` is a case-insensitive substring of id, code, title or file name. Without `catalog_id` the search "
    "covers every active catalog the key may read (a catalog outside the key's scope is a 403). "
    "Lists (`roles`, `type`, `tags`, `status`, `catalog_id`, `ids`) are "
    "comma-separated or repeated. `query` is a MongoDB-style JSON object ($eq $ne $gt $gte $lt $lte $in $nin "
    "$exists $and $or $not, dotted paths into `metadata.*`); `filter` is CQL2 (text or JSON). `limit` ≤ 10,000; "
    "follow the `next` link (or pass `token`) for the next page. `count=true` also answers `numberMatched` "
    "(a count of every match; left out by default)."
)


async def _search(request: Request, principal: Principal, params: dict[str, Any]) -> Page[dict[str, Any]]:
    """One asset search (GET parameters or POST body), parsed and run off the loop under the search budget,
    narrowed to the caller's catalogs (``count=true``: with ``numberMatched``)."""
    services = get_services(request)

    def work() -> Page[dict[str, Any]]:
        parsed = parse_search(params, services.settings)
        count = parse_count(params, request.query_params)
        return services.search.run(parsed, visible_catalogs(request, principal, parsed.catalog_ids), count=count)

    return await run_search(request, work)


@router.get("/assets/search", summary="Search assets", description=SEARCH_DESCRIPTION, response_class=JSONResponse)
async def search_get(
    request: Request,
    filters: dict[str, Any] = Depends(asset_filters),
    catalog_id: list[str] | None = Query(default=None, description="one or more (comma-separated); default all active"),
    catalog_ids: list[str] | None = Query(default=None, include_in_schema=False),
    collection_id: str | None = Query(default=None),
    item_id: str | None = Query(default=None),
    level: str | None = Query(default=None, description="catalog, collection or item: where the asset is attached"),
    principal: Principal = Reader,
) -> JSONResponse:
    check_query_names(request.query_params.multi_items(), SEARCH_PARAMS, ONE_VALUED)
    where = {
        "catalog_id": catalog_id,
        "catalog_ids": catalog_ids,
        "collection_id": collection_id,
        "item_id": item_id,
        "level": level,
    }
    page = await _search(request, principal, {**declared_input(where), **filters})
    return JSONResponse(page_document(page, "assets", next_link(request, page.next_token)))


@router.post(
    "/assets/search",
    summary="Search assets (JSON body)",
    description=SEARCH_DESCRIPTION,
    response_class=JSONResponse,
    openapi_extra=json_body(SEARCH_BODY),
)
async def search_post(request: Request, principal: Principal = Reader) -> JSONResponse:
    body = await read_json_object(request, 'the search body is a JSON object such as {"q": "b04", "limit": 100}')
    page = await _search(request, principal, body)
    links: list[dict[str, Any]] = [{"rel": "self", "href": url_for_path(request, request.url.path), "method": "POST"}]
    if page.next_token:
        links.append(
            {
                "rel": "next",
                "href": url_for_path(request, request.url.path),
                "method": "POST",
                "body": {**body, "token": page.next_token},
                "type": "application/json",
            }
        )
    return JSONResponse(page_document(page, "assets", links))


@router.post(
    "/assets/bulk",
    summary="Create or replace up to 10,000 assets (per-record results)",
    description=(
        "Per-record semantics: each record is validated on its own and reported as `created`, `updated`, "
        "`unchanged` or `error` (with status and detail); all valid records are written in one atomic batch. "
        'Body: `{"catalog_id": default, "assets": [{"id", "href", "collection_id"?, "item_id"?, ...}]}`.'
    ),
    response_class=JSONResponse,
    openapi_extra=json_body(BULK_BODY),
)
async def bulk_upsert(request: Request, principal: Principal = Editor) -> JSONResponse:
    body = await read_json(request)
    principal.require_catalogs(bulk_catalogs(body))  # every record's catalog, before anything is written
    results = await run_in_threadpool(get_services(request).assets.bulk_upsert, body, actor=principal.key_id)
    counts = {"created": 0, "updated": 0, "unchanged": 0, "error": 0}
    for result in results:
        counts[result.status] += 1
    return JSONResponse({**counts, "results": [_bulk_result(r) for r in results]})


def _bulk_result(result: BulkResult) -> dict[str, Any]:
    """One record's outcome; a failed one carries its error as ``{status, detail}`` (the problem status)."""
    doc: dict[str, Any] = {"index": result.index, "id": result.id, "catalog_id": result.catalog_id}
    doc["status"] = result.status
    if result.error is not None:
        doc["error"] = {"status": http_status(result.error), "detail": result.error.detail}
    return doc


@router.post(
    "/assets/bulk-get",
    summary="Up to 10,000 assets of one catalog by id",
    description="`{catalog_id, ids}` → `{assets: [...], missing: [...]}`; deleted assets count as missing.",
    response_class=JSONResponse,
    openapi_extra=json_body(BULK_GET_BODY),
)
async def bulk_get(request: Request, principal: Principal = Reader) -> JSONResponse:
    body = await read_json_object(request, 'the body is {"catalog_id": "...", "ids": ["...", ...]}')
    catalog_id, ids = body.get("catalog_id"), body.get("ids")
    if not isinstance(catalog_id, str) or not catalog_id:
        raise Invalid("catalog_id is required and must be a string")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise Invalid("ids must be an array of strings")
    unknown = sorted(set(body) - {"catalog_id", "ids"})
    if unknown:
        raise Invalid(f"unknown field(s) {', '.join(unknown)}; the body has catalog_id and ids")
    principal.require_catalog(catalog_id)
    services = get_services(request)
    body_bytes = await run_in_threadpool(services.assets.bulk_get_json, check_id(catalog_id, "catalog_id"), ids)
    return JSONResponse(body_bytes)


def bulk_catalogs(body: Any) -> set[str]:
    """The catalogs a bulk body writes to: each record's ``catalog_id``, else the body's default."""
    records = body if isinstance(body, list) else body.get("assets") if isinstance(body, dict) else None
    default = body.get("catalog_id") if isinstance(body, dict) else None
    found = set()
    for record in records if isinstance(records, list) else ():
        catalog_id = (record.get("catalog_id") if isinstance(record, dict) else None) or default
        if catalog_id:
            found.add(str(catalog_id))
    return found


async def stream_from_thread(produce: Callable[[], Iterator[bytes]]) -> AsyncIterator[bytes]:
    """Run a blocking iterator in ONE worker thread (a store cursor may be bound to its thread)."""
    chunks: queue.Queue[Any] = queue.Queue(maxsize=16)
    stop = threading.Event()
    done = object()

    def worker() -> None:
        try:
            for chunk in produce():
                while not stop.is_set():
                    try:
                        chunks.put(chunk, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            chunks.put(done)
        except BaseException as exc:  # handed to the consumer
            chunks.put(exc)

    thread = threading.Thread(target=worker, name="dynastore-export", daemon=True)
    thread.start()
    try:
        while True:
            item = await anyio.to_thread.run_sync(chunks.get)
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


@router.get(
    "/assets/catalogs/{catalog_id}/export",
    summary="Every active asset of a catalog as NDJSON (`?since=` for incremental sync)",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export_catalog(
    request: Request,
    catalog_id: str,
    since: str | None = Query(default=None, description="only assets updated at or after this RFC 3339 time"),
    include_deleted: bool = Query(default=False, description="also deleted and missing assets (for sync)"),
    principal: Principal = Reader,
) -> StreamingResponse:
    services = get_services(request)
    # Validates before the first byte (a bad request is a 4xx problem, not a broken stream).
    chunks = services.assets.export_ndjson(
        check_id(catalog_id, "catalog_id"), since=since, include_deleted=include_deleted
    )
    return StreamingResponse(stream_from_thread(lambda: chunks), media_type="application/x-ndjson")
