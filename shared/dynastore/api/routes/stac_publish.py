"""Publishing immutable timestamped versions to an item, its version history, and one STAC asset of
an item by key (a file name, an asset id, or ``<name>@latest``) (seed 004; VERSIONS.md)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Query, Request
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool

from dynastore.api.deps import Editor, JSONResponse, Reader, get_services, item_scope, next_link, read_json
from dynastore.api.routes._stac_common import _links
from dynastore.api.uploads import MULTIPART_OVERHEAD, MultipartParts, decode_filename, parse_multipart
from dynastore.domain.ids import check_id
from dynastore.domain.versions import MAX_PUBLISH_FILES
from dynastore.errors import Invalid, PayloadTooLarge
from dynastore.services.asset_files import UploadBuffer
from dynastore.services.auth import Principal
from dynastore.services.stac import Links
from dynastore.services.stac.rendering import render_asset
from dynastore.services.versions.publish import PublishedFile, PublishResult

router = APIRouter(tags=["stac"])
ITEM = "/stac/catalogs/{catalog_id}/collections/{collection_id}/items/{item_id}"
PUBLISH_DOC = (
    "Publish new immutable versions of the item's files: multipart/form-data with one or more file parts "
    "(`file`, the main file and companions such as a thumbnail) and an optional `metadata` JSON part "
    '(`{"sys:state": ..., "sys:quality:completeness": ..., "sys:security:classification": ..., '
    '"files": {"track.geojson": {"roles": ["data", "track"], "title": "...", "description": "..."}}}`), or JSON '
    'naming objects already uploaded (`{"files": [{"key": "...", "name": "track.geojson"}], "metadata": {...}}`; '
    "each upload is moved into its version). Each changed file is stored as "
    "`<name>@<stamp><ext>` with one server UTC stamp (seconds, then milliseconds for rapid publishes); a file "
    "equal to the newest version of its name is not stored again. 201: new versions; 200: nothing changed; "
    "202: stored, records pending (the reconciler indexes them); 409: every stamp was taken by concurrent "
    "publishes (versions are never overwritten)."
)


class _PublishParts(MultipartParts):
    """Every part with a file name is a file of the publish (spooled, hashed, bounded)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__()
        self.max_bytes = max_bytes
        self.files: list[PublishedFile] = []

    def open_file(self, name: str, raw_filename: bytes | None, content_type: str | None) -> UploadBuffer | None:
        if raw_filename is None:
            return None
        if len(self.files) >= MAX_PUBLISH_FILES:
            raise Invalid(f"a publish has at most {MAX_PUBLISH_FILES} files")
        published = PublishedFile(
            decode_filename(raw_filename, "a file name"), UploadBuffer(self.max_bytes), content_type
        )
        self.files.append(published)
        return published.data

    def close(self) -> None:
        for published in self.files:
            published.data.close()


async def _read_multipart(request: Request, boundary: bytes, max_bytes: int) -> tuple[list[PublishedFile], Any]:
    parts = _PublishParts(max_bytes)
    await parse_multipart(request, boundary, parts)
    try:
        unknown = sorted(set(parts.fields) - {"metadata"})
        if unknown:
            raise Invalid(
                f"unknown form field(s) {', '.join(unknown)}: send file parts and optionally `metadata` (JSON)"
            )
        if not parts.files:
            raise Invalid("the publish has no file part: send each file as a part with a filename")
        raw = parts.fields.get("metadata")
        metadata = None
        if raw is not None and raw.strip():
            try:
                metadata = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise Invalid(f"the `metadata` part is not valid JSON: {exc}") from None
    except Invalid:
        parts.close()
        raise
    return parts.files, metadata


def _result_doc(result: PublishResult, links: Links) -> dict[str, Any]:
    return {
        "created": result.created,
        "pending": result.pending,
        "stamp": result.stamp,
        "prov:bundle": result.bundle,
        "written": result.written,
        "unchanged": result.unchanged,
        "versions": [_entry(doc, links) for doc in result.versions],
    }


def _entry(doc: dict[str, Any], links: Links) -> dict[str, Any]:
    """A version as a STAC Asset Object with a link to its record in the asset API."""
    entry = render_asset(doc, links)
    entry["links"] = [{"rel": "asset", "href": links.asset_api(doc), "type": "application/json"}]
    return entry


@router.post(
    f"{ITEM}/publish",
    summary="Publish new immutable, timestamped versions of the item's files",
    description=PUBLISH_DOC,
    response_class=JSONResponse,
    responses={201: {"description": "new versions"}, 202: {"description": "stored; records pending"}},
)
async def publish(
    request: Request, catalog_id: str, collection_id: str, item_id: str, principal: Principal = Editor
) -> JSONResponse:
    services = get_services(request)
    scope = item_scope(catalog_id, collection_id, item_id)
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    max_bytes = services.settings.max_upload_bytes
    if ctype == b"multipart/form-data" and params.get(b"boundary"):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_PUBLISH_FILES * max_bytes + MULTIPART_OVERHEAD:
            raise PayloadTooLarge(f"the publish exceeds {MAX_PUBLISH_FILES} x DYNASTORE_MAX_UPLOAD_BYTES")
        files, metadata = await _read_multipart(request, params[b"boundary"], max_bytes)
    else:
        body = await read_json(request)
        files, metadata = await run_in_threadpool(services.publish.spool_keys, scope.catalog_id, body)
    try:
        result = await run_in_threadpool(
            services.publish.publish,
            scope.catalog_id,
            collection_id,
            item_id,
            files,
            metadata,
            actor=principal.key_id,
        )
    finally:
        for published in files:
            published.data.close()
    links = _links(request)
    status = 202 if result.pending else 201 if result.created else 200
    main = result.versions[0] if result.versions else None
    location = links.asset_api(main) if main is not None else links.item(catalog_id, collection_id, item_id)
    return JSONResponse(_result_doc(result, links), status_code=status, headers={"Location": location})


@router.get(
    f"{ITEM}/versions",
    summary="Every version of one file of the item, newest first (paged)",
    response_class=JSONResponse,
)
def versions(
    request: Request,
    catalog_id: str,
    collection_id: str,
    item_id: str,
    name: str = Query(description="the file's name before '@', e.g. track"),
    limit: int = Query(default=100, description="versions per page, 1-1000"),
    token: str | None = Query(default=None, description="the `next` link's token"),
    principal: Principal = Reader,
) -> JSONResponse:
    services = get_services(request)
    scope = item_scope(catalog_id, collection_id, item_id)
    services.stac.store.get_item(scope.catalog_id, collection_id, item_id)  # 404 for a missing item
    page = services.versions.history(scope.catalog_id, collection_id, item_id, name, limit=limit, token=token)
    links = _links(request)
    entries = [_entry(doc, links) for doc in page.items]
    return JSONResponse(
        {"name": name, "versions": entries, "numberMatched": page.matched, "links": next_link(request, page.next_token)}
    )


@router.get(
    f"{ITEM}/assets/{{asset_id}}",
    summary="One asset of the item as a STAC Asset Object: by file name, asset id, or <name>@latest",
    response_class=JSONResponse,
)
def item_asset(
    request: Request, catalog_id: str, collection_id: str, item_id: str, asset_id: str, principal: Principal = Reader
) -> JSONResponse:
    services = get_services(request)
    scope = item_scope(catalog_id, collection_id, item_id)
    asset_id = services.versions.resolve(scope.catalog_id, collection_id, item_id, asset_id)
    doc = services.assets.get(scope, check_id(asset_id, "asset id"))
    return JSONResponse(render_asset(doc, _links(request)))
