"""Asset use cases: CRUD at the three levels, soft/hard delete, upload/download, bulk, export.

Scopes: an asset hangs off a catalog, a collection or an item. A request addresses it through the
path of its scope; a path whose scope differs from the record's answers 404 (the record is not
there). Every write lands together with its audit event in one atomic store call.

Bulk upsert (``POST /assets/bulk``) is per-record: every record is validated on its own and
reported (``created``/``updated``/``unchanged``/``error``); all valid records are then written in
one atomic store call (retried record by record only when a concurrent writer got in between).

Uploads are stored at ``{prefix}{collection}/{item}/{filename}`` under the catalog's storage binding
(in the bucket it names: the landing bucket, or the catalog's own), create-only, and
``file:checksum`` is the SHA2-256 multihash (``1220`` + hex digest) computed while the bytes stream
in. An asset's file is "stored by the service" when its href points into its catalog's storage
(the bucket and prefix of its binding): only then do downloads stream or sign it, tasks read it and
hard deletes remove it. Which hrefs may be registered, and where downloads redirect: services.hrefs.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import IO, Any, BinaryIO, Literal

import orjson
from pydantic import ValidationError

from dynastore.config import Settings
from dynastore.domain import time as dtime
from dynastore.domain.asset import AssetFields, asset_level, key_in_catalog
from dynastore.domain.audit import audit_doc
from dynastore.domain.events import asset_id_for_key
from dynastore.domain.ids import check_id
from dynastore.domain.search import AssetQuery, Page
from dynastore.errors import Conflict, Invalid, NotFound, PayloadTooLarge
from dynastore.ports import AssetWrite, BlobStore, Doc, MetadataStore
from dynastore.services import mediatypes
from dynastore.services.asset_records import AssetRecordBuilder
from dynastore.services.catalogs import CatalogService, CatalogStorage
from dynastore.services.patching import merge_patch, validation_detail
from dynastore.services.revisions import expected_rev, precondition

# Stored fields the service owns; a client body may not set them.
SYSTEM_FIELDS = frozenset(
    {"catalog_id", "collection_id", "item_id", "status", "created", "updated", "deleted_at", "storage", "rev"}
)
MAX_BULK = 10_000
_CREATED: Literal["created"] = "created"
_UPDATED: Literal["updated"] = "updated"
SHA2_256_MULTIHASH_PREFIX = "1220"
HEAD_BYTES = 8192
_BAD_FILE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class Scope:
    """Where an asset hangs: a catalog, one of its collections, or one of that collection's items."""

    catalog_id: str
    collection_id: str | None = None
    item_id: str | None = None

    @property
    def level(self) -> Literal["catalog", "collection", "item"]:
        return asset_level(self.collection_id, self.item_id)

    def holds(self, doc: Doc) -> bool:
        return (
            doc.get("catalog_id") == self.catalog_id
            and (doc.get("collection_id") or None) == self.collection_id
            and (doc.get("item_id") or None) == self.item_id
        )

    def describe(self) -> str:
        if self.item_id:
            return f"item {self.collection_id}/{self.item_id} of catalog {self.catalog_id!r}"
        if self.collection_id:
            return f"collection {self.collection_id!r} of catalog {self.catalog_id!r}"
        return f"catalog {self.catalog_id!r} (catalog level)"

    def relative_dir(self) -> str:
        """The key folder of this scope below the catalog prefix (``col/item/``, ``col/`` or empty)."""
        parts = [p for p in (self.collection_id, self.item_id) if p]
        return "".join(f"{p}/" for p in parts)


def sha256_multihash(hex_digest: str) -> str:
    return SHA2_256_MULTIHASH_PREFIX + hex_digest


def check_file_name(name: Any) -> str:
    """A plain file name: no folders, no ``..``, no control characters; else ``Invalid``."""
    if name is not None and not isinstance(name, str):
        raise Invalid('filename must be a string such as "B04.tif"')
    if not name or not name.strip():
        raise Invalid("the upload needs a file name (multipart part `file` with a filename)")
    if _BAD_FILE_NAME.search(name) or name in (".", "..") or name.startswith("..") or name.startswith("."):
        raise Invalid(f"file name {name!r} is not allowed: use a plain name without folders, `..` or a leading dot")
    if len(name.encode()) > 255:
        raise Invalid("file name is longer than 255 bytes")
    return name


class UploadBuffer:
    """Spools upload bytes to a temporary file while counting and hashing them.

    Raises ``PayloadTooLarge`` as soon as the limit is passed, so nothing larger is ever buffered.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.head = b""  # the first bytes, for media type sniffing
        self._sha256 = hashlib.sha256()
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise PayloadTooLarge(f"the upload exceeds DYNASTORE_MAX_UPLOAD_BYTES ({self.max_bytes} bytes)")
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        self._sha256.update(chunk)
        self.file.write(chunk)

    @property
    def checksum(self) -> str:
        return sha256_multihash(self._sha256.hexdigest())

    def rewind(self) -> BinaryIO:
        self.file.seek(0)
        return self.file  # type: ignore[return-value]

    def close(self) -> None:
        self.file.close()


@dataclass(frozen=True)
class BulkResult:
    id: str | None
    status: Literal["created", "updated", "unchanged", "error"]
    index: int
    catalog_id: str | None = None
    error: str | None = None
    error_status: int | None = None

    def to_doc(self) -> Doc:
        doc: Doc = {"index": self.index, "id": self.id, "catalog_id": self.catalog_id, "status": self.status}
        if self.error is not None:
            doc["error"] = {"status": self.error_status, "detail": self.error}
        return doc


class AssetService:
    def __init__(self, store: MetadataStore, blobs: BlobStore, catalogs: CatalogService, settings: Settings) -> None:
        self.store = store
        self.blobs = blobs  # the landing bucket; a catalog's files are in `self.storage.for_catalog(catalog)`
        self.catalogs = catalogs
        self.settings = settings
        self.storage = CatalogStorage.reuse(catalogs.storage, blobs)
        self.records = AssetRecordBuilder(settings, catalogs, self.storage)  # href rules, stored shape, size cap
        self.hrefs = self.records.hrefs

    # ------------------------------------------------------------------------------ scope

    def check_scope(self, scope: Scope) -> Doc:
        """The active catalog of a scope, after checking its collection/item exist (``NotFound`` else)."""
        catalog = self.catalogs.require_active(scope.catalog_id)
        if scope.item_id:
            try:
                self.store.get_item(scope.catalog_id, scope.collection_id or "", scope.item_id)
            except NotFound:
                raise NotFound(
                    f"item {scope.item_id!r} does not exist in collection {scope.collection_id!r} "
                    f"of catalog {scope.catalog_id!r}"
                ) from None
        elif scope.collection_id:
            try:
                self.store.get_collection(scope.catalog_id, scope.collection_id)
            except NotFound:
                raise NotFound(
                    f"collection {scope.collection_id!r} does not exist in catalog {scope.catalog_id!r}"
                ) from None
        return catalog

    def _get_in_scope(self, scope: Scope, asset_id: str) -> Doc:
        """The record at this scope, any status (``NotFound`` when absent or elsewhere)."""
        return self._scoped(scope, asset_id)[1]

    def _scoped(self, scope: Scope, asset_id: str) -> tuple[Doc, Doc]:
        """(active catalog, record at this scope, any status); ``NotFound`` when absent or elsewhere."""
        catalog = self.catalogs.require_active(scope.catalog_id)
        try:
            doc = self.store.get_asset(scope.catalog_id, asset_id)
        except NotFound:
            raise NotFound(f"asset {asset_id!r} does not exist in {scope.describe()}") from None
        if not scope.holds(doc):
            raise NotFound(f"asset {asset_id!r} does not exist in {scope.describe()}")
        return catalog, doc

    # ------------------------------------------------------------------------------ reads

    def get(self, scope: Scope, asset_id: str) -> Doc:
        return self._get_active(scope, asset_id)[1]

    def _get_active(self, scope: Scope, asset_id: str) -> tuple[Doc, Doc]:
        catalog, doc = self._scoped(scope, asset_id)
        if doc.get("status") == "deleted":
            raise NotFound(f"asset {asset_id!r} was deleted (an editor can restore it)")
        return catalog, doc

    def list_in_scope(self, scope: Scope, query: AssetQuery | None = None) -> Page[Doc]:
        """The assets of exactly this scope; ``query`` may narrow further (q, roles, ...)."""
        self.check_scope(scope)
        base = query or AssetQuery(catalog_ids=(scope.catalog_id,))
        return self.store.search_assets(
            replace(
                base,
                catalog_ids=(scope.catalog_id,),
                collection_id=scope.collection_id,
                item_id=scope.item_id,
                level=scope.level,
            )
        )

    def history(self, scope: Scope, asset_id: str, *, limit: int = 100, token: str | None = None) -> Page[Doc]:
        """The audit trail of an asset, newest first; still there after a hard delete."""
        self.catalogs.require_active(scope.catalog_id)
        try:
            doc = self.store.get_asset(scope.catalog_id, asset_id)
        except NotFound:
            doc = None
        if doc is not None and not scope.holds(doc):
            raise NotFound(f"asset {asset_id!r} does not exist in {scope.describe()}")
        page = self.store.list_audit(
            scope.catalog_id, record_type="asset", record_id=asset_id, limit=limit, token=token
        )
        if doc is None and not page.items and token is None:
            raise NotFound(f"asset {asset_id!r} does not exist in {scope.describe()} and has no history")
        return page

    def bulk_get(self, catalog_id: str, ids: Sequence[str]) -> tuple[list[Doc], list[str]]:
        """The active assets among ``ids`` (in request order, duplicates once) and the ids not found."""
        wanted = self._bulk_ids(catalog_id, ids)
        found = {
            doc["id"]: doc for doc in self.store.get_assets(catalog_id, sorted(wanted)) if doc.get("status") == "active"
        }
        assets = [found[i] for i in wanted if i in found]
        missing = [i for i in wanted if i not in found]
        return assets, missing

    def bulk_get_json(self, catalog_id: str, ids: Sequence[str]) -> bytes:
        """``{"assets": [...], "missing": [...]}`` as JSON bytes: the hot path of ``POST /assets/bulk-get``.

        Splices the stored JSON of the store's ``get_assets_json`` without parsing it.
        """
        wanted = self._bulk_ids(catalog_id, ids)
        # Sorted ids read the store's index in key order (measurably faster on SQLite); the answer keeps request order.
        found = {row[0]: row[2] for row in self.store.get_assets_json(catalog_id, sorted(wanted)) if row[1] == "active"}
        parts = [found[i] for i in wanted if i in found]
        missing = [i for i in wanted if i not in found]
        return b"".join((b'{"assets":[', ",".join(parts).encode(), b'],"missing":', orjson.dumps(missing), b"}"))

    def _bulk_ids(self, catalog_id: str, ids: Sequence[str]) -> list[str]:
        """The distinct ids of a bulk-get, in request order, once its catalog and size are checked."""
        self.catalogs.require_active(catalog_id)
        if len(ids) > MAX_BULK:
            raise Invalid(f"bulk-get takes at most {MAX_BULK} ids, got {len(ids)}")
        return list(dict.fromkeys(ids))

    def export_ndjson(
        self, catalog_id: str, *, since: str | None = None, include_deleted: bool = False, chunk_bytes: int = 256 * 1024
    ) -> Iterator[bytes]:
        """The export as NDJSON chunks; validates first (errors before the first byte), streams lazily."""
        self.catalogs.require_active(catalog_id)
        since_norm = dtime.normalize(since, "since") if since else None
        statuses = ("active", "missing", "deleted") if include_deleted else ("active",)

        def lines() -> Iterator[bytes]:
            for text in self.store.export_assets_json(catalog_id, since=since_norm, statuses=statuses):
                yield text.encode()

        def chunks() -> Iterator[bytes]:
            buffer: list[bytes] = []
            size = 0
            for line in lines():
                buffer.append(line)
                size += len(line) + 1
                if size >= chunk_bytes:
                    yield b"\n".join(buffer) + b"\n"
                    buffer, size = [], 0
            if buffer:
                yield b"\n".join(buffer) + b"\n"

        return chunks()

    # ------------------------------------------------------------------------------ writes

    def create(self, scope: Scope, body: Any, *, actor: str) -> Doc:
        catalog = self.check_scope(scope)
        fields = parse_fields(body)
        if not fields.href:
            raise Invalid(
                "an asset needs an `href` (gs://, s3://, https://, file://); to send the bytes use .../upload"
            )
        doc = self.records.new(scope, fields, blobs=self.storage.for_catalog(catalog))
        audit = audit_doc(scope.catalog_id, "asset", doc["id"], "create", actor)
        try:
            return self._write_one(doc, 0, audit)
        except Conflict:
            raise Conflict(
                f"asset {doc['id']!r} exists already in catalog {scope.catalog_id!r}; "
                "use PUT to replace it or PATCH to change it"
            ) from None

    def put(
        self, scope: Scope, asset_id: str, body: Any, *, actor: str, if_rev: int | None = None
    ) -> tuple[Doc, bool]:
        """Replace the client fields of an asset, or create it. Returns (doc, created).

        ``if_rev`` (If-Match): the revision the client read; any other is ``PreconditionFailed``."""
        check_id(asset_id, "asset id")
        blobs = self.storage.for_catalog(self.check_scope(scope))
        fields = parse_fields(body)
        if fields.id is not None and fields.id != asset_id:
            raise Invalid(f"body id {fields.id!r} differs from the path id {asset_id!r}")
        fields = fields.model_copy(update={"id": asset_id})
        try:
            current = self.store.get_asset(scope.catalog_id, asset_id)
        except NotFound:
            current = None
        if current is None:
            expected_rev(None, if_rev, f"asset {asset_id!r}")
            if not fields.href:
                raise Invalid("an asset needs an `href` (gs://, s3://, https://, file://)")
            doc = self.records.new(scope, fields, blobs=blobs)
            audit = audit_doc(scope.catalog_id, "asset", asset_id, "create", actor)
            return self._write_one(doc, 0, audit), True
        self._check_writable(scope, current, asset_id)
        expect = expected_rev(current, if_rev, f"asset {asset_id!r}")
        if not fields.href:
            fields = fields.model_copy(update={"href": current["href"]})
        doc = self.records.replaced(current, fields, blobs=blobs)
        audit = audit_doc(scope.catalog_id, "asset", asset_id, "replace", actor)
        return self._write_one(doc, expect, audit, if_rev), False

    def patch(self, scope: Scope, asset_id: str, patch: Any, *, actor: str, if_rev: int | None = None) -> Doc:
        if not isinstance(patch, dict):
            raise Invalid("a PATCH body is a JSON object (RFC 7386 merge patch)")
        owned = sorted(k for k in patch if k in SYSTEM_FIELDS)
        if owned:
            raise Invalid(f"cannot change {', '.join(owned)}: the service owns these fields")
        if "id" in patch and patch["id"] != asset_id:
            raise Invalid("an asset id cannot be changed")
        catalog, current = self._scoped(scope, asset_id)
        self._check_writable(scope, current, asset_id)
        expect = expected_rev(current, if_rev, f"asset {asset_id!r}")
        merged = merge_patch(client_view(current), patch)
        fields = parse_fields(merged)
        if not fields.href:
            raise Invalid("href cannot be removed")
        doc = self.records.replaced(current, fields, blobs=self.storage.for_catalog(catalog))
        audit = audit_doc(scope.catalog_id, "asset", asset_id, "update", actor, patch=patch)
        return self._write_one(doc, expect, audit, if_rev)

    def delete(self, scope: Scope, asset_id: str, *, actor: str, if_rev: int | None = None) -> Doc:
        """Soft delete: hidden from reads, search and export; ``restore`` brings it back."""
        current = self.get(scope, asset_id)
        expect = expected_rev(current, if_rev, f"asset {asset_id!r}")
        now = dtime.now_iso()
        doc = {**current, "status": "deleted", "deleted_at": now, "updated": now}
        audit = audit_doc(scope.catalog_id, "asset", asset_id, "delete", actor, previous_status=current.get("status"))
        return self._write_one(doc, expect, audit, if_rev)

    def restore(self, scope: Scope, asset_id: str, *, actor: str, if_rev: int | None = None) -> Doc:
        """Undo a soft delete; the asset's collection/item must exist (re-create a deleted item first)."""
        current = self._get_in_scope(scope, asset_id)
        expect = expected_rev(current, if_rev, f"asset {asset_id!r}")
        if current.get("status") != "deleted":
            raise Conflict(f"asset {asset_id!r} is not deleted (status {current.get('status')!r}); nothing to restore")
        self.check_scope(scope)
        doc = {**current, "status": "active", "deleted_at": None, "updated": dtime.now_iso()}
        audit = audit_doc(scope.catalog_id, "asset", asset_id, "restore", actor)
        return self._write_one(doc, expect, audit, if_rev)

    def hard_delete(self, scope: Scope, asset_id: str, *, actor: str, if_rev: int | None = None) -> Doc:
        """Remove the record for good, and its file when its catalog's bucket holds it."""
        catalog, current = self._scoped(scope, asset_id)
        expect = expected_rev(current, if_rev, f"asset {asset_id!r}")
        location = self.stored_location(current, catalog)
        key = location[1] if location else None
        audit = audit_doc(
            scope.catalog_id,
            "asset",
            asset_id,
            "hard_delete",
            actor,
            href=current.get("href"),
            deleted_file=key is not None,
        )
        with precondition(if_rev, f"asset {asset_id!r}"):
            self.store.delete_asset(scope.catalog_id, asset_id, audit=audit, expect_rev=expect)
        if location is not None:
            blobs, key = location
            blobs.delete(key, missing_ok=True)
        return current

    # ------------------------------------------------------------------------------ bytes

    def stored_location(self, doc: Doc, catalog: Doc | None = None) -> tuple[BlobStore, str] | None:
        """(store, key) of the asset's bytes when its href points into its catalog's storage (the
        bucket and prefix of its binding), else None: nothing else is ever served or deleted.

        ``catalog`` is the asset's catalog record when the caller has it (else it is read)."""
        href = doc.get("href")
        if not href:
            return None
        catalog = catalog if catalog is not None else self.catalogs.get(doc["catalog_id"], include_retired=True)
        blobs = self.storage.for_catalog(catalog)
        key = key_in_catalog(blobs.key_for_href(href), self.storage.prefix_of(catalog))
        return (blobs, key) if key is not None else None

    def blobs_of(self, doc: Doc) -> BlobStore:
        """The store of the bucket an asset's catalog is bound to (retired catalogs included)."""
        return self.storage.for_catalog(self.catalogs.get(doc["catalog_id"], include_retired=True))

    def upload(
        self,
        scope: Scope,
        *,
        filename: str | None,
        data: UploadBuffer,
        content_type: str | None,
        metadata: Any,
        actor: str,
    ) -> Doc:
        """Store spooled bytes at ``{prefix}{collection}/{item}/{filename}`` (create-only) and record the asset."""
        name = check_file_name(filename)
        catalog = self.check_scope(scope)
        fields = parse_fields(metadata if metadata is not None else {})
        if fields.href:
            raise Invalid("an upload sets `href` itself; leave it out of the metadata")
        blobs = self.storage.for_catalog(catalog)
        relative = scope.relative_dir() + name
        key = self.storage.prefix_of(catalog) + relative
        # The id indexing derives from the same key, so the upload's storage event meets this record.
        asset_id = fields.id or asset_id_for_key(f"{scope.catalog_id}/{relative}")
        try:
            self.store.get_asset(scope.catalog_id, asset_id)
        except NotFound:
            pass
        else:
            raise Conflict(
                f"asset {asset_id!r} exists already in catalog {scope.catalog_id!r}; give the upload another "
                "`id` in its metadata, or delete that asset first"
            )
        try:
            blobs.stat(key)
        except NotFound:
            pass
        else:
            raise Conflict(f"a file exists already at {key!r}; upload under another file name")
        media_type = fields.type or mediatypes.detect(name, data.head, content_type)
        info = blobs.put(
            key,
            data.rewind(),
            content_type=media_type,
            metadata={"asset_id": asset_id},
            if_generation_match=0,
        )
        updates: dict[str, Any] = {
            "id": asset_id,
            "href": blobs.href(key),
            "type": media_type,
            "file_size": data.size,
            "file_checksum": data.checksum,
        }
        if not fields.roles:
            updates["roles"] = mediatypes.default_roles(name, media_type)
        audit = audit_doc(scope.catalog_id, "asset", asset_id, "create", actor, upload=True, key=key, size=data.size)
        try:
            doc = self.records.new(scope, fields.model_copy(update=updates), info, blobs=blobs)
            return self._write_one(doc, 0, audit)
        except Exception:
            # The record did not land: leave no orphan blob behind.
            blobs.delete(key, missing_ok=True)
            raise

    def upload_target(self, catalog_id: str, body: Any, *, content_type: str | None = None) -> Doc:
        """Where a client sends bytes directly: a signed PUT URL in the cloud, else the multipart endpoint."""
        if not isinstance(body, dict):
            raise Invalid('the body is a JSON object such as {"collection_id": "s2", "filename": "B04.tif"}')
        scope = Scope(
            catalog_id, _opt_id(body.get("collection_id"), "collection_id"), _opt_id(body.get("item_id"), "item_id")
        )
        if scope.item_id and not scope.collection_id:
            raise Invalid("item_id needs collection_id")
        name = check_file_name(body.get("filename"))
        catalog = self.check_scope(scope)
        blobs = self.storage.for_catalog(catalog)
        key = self.storage.prefix_of(catalog) + scope.relative_dir() + name
        declared = body.get("type") or content_type
        if declared is not None and not isinstance(declared, str):
            raise Invalid("type must be a media type string")
        media_type = declared or mediatypes.from_name(name)
        ttl = self.settings.signed_url_ttl_seconds
        url = blobs.signed_url(key, method="PUT", expires_seconds=ttl, content_type=media_type)
        target: Doc = {"key": key, "href": blobs.href(key), "type": media_type}
        if url is not None:
            target.update(
                {
                    "method": "PUT",
                    "url": url,
                    "signed": True,
                    "expires_in": ttl,
                    "headers": {"Content-Type": media_type} if media_type else {},
                }
            )
        else:
            target.update({"method": "POST", "signed": False, "multipart": {"file": name, "metadata": "JSON object"}})
        target["scope"] = {"catalog_id": catalog_id, "collection_id": scope.collection_id, "item_id": scope.item_id}
        return target

    def download_target(self, scope: Scope, asset_id: str) -> tuple[Doc, str | None, str | None]:
        """(asset, key in its catalog's bucket or None, redirect URL or None) for a download.

        Without a URL the caller streams ``key`` from ``blobs_of(asset)``."""
        catalog, doc = self._get_active(scope, asset_id)
        location = self.stored_location(doc, catalog)
        if location is None:
            href = doc.get("href") or ""
            if href.startswith(("http://", "https://")):
                if self.hrefs.may_redirect(href):
                    return doc, None, href
                raise NotFound(
                    f"asset {asset_id!r} points at {href!r}, which /download does not redirect to: only https URLs "
                    "of public hosts and hosts in DYNASTORE_DOWNLOAD_ALLOWED_HOSTS; read the href from the asset"
                )
            raise NotFound(f"asset {asset_id!r} points at {href!r}, which this service cannot serve")
        blobs, key = location
        url = blobs.signed_url(key, method="GET", expires_seconds=self.settings.signed_url_ttl_seconds)
        return doc, key, url

    # ------------------------------------------------------------------------------ bulk

    def bulk_upsert(self, body: Any, *, actor: str) -> list[BulkResult]:
        """Create or replace up to 10,000 assets; per-record results (see the module docstring)."""
        records, default_catalog = _bulk_records(body)
        now = dtime.now_iso()  # one timestamp for the whole batch
        results: list[BulkResult | None] = [None] * len(records)
        prepared: dict[int, tuple[Scope, AssetFields]] = {}
        scope_ok: dict[Scope, str | None] = {}
        catalog_blobs: dict[str, BlobStore] = {}
        for index, record in enumerate(records):
            try:
                scope, fields = self._bulk_parse(record, default_catalog)
                if scope not in scope_ok:
                    try:
                        catalog_blobs[scope.catalog_id] = self.storage.for_catalog(self.check_scope(scope))
                        scope_ok[scope] = None
                    except NotFound as exc:
                        scope_ok[scope] = exc.detail
                if scope_ok[scope] is not None:
                    raise NotFound(scope_ok[scope] or "")
                prepared[index] = (scope, fields)
            except (Invalid, NotFound) as exc:
                results[index] = BulkResult(
                    _record_id(record),
                    "error",
                    index,
                    _record_catalog(record, default_catalog),
                    exc.detail,
                    404 if isinstance(exc, NotFound) else 400,
                )
        seen: set[tuple[str, str]] = set()
        for index, (scope, fields) in list(prepared.items()):
            ident = (scope.catalog_id, fields.id or "")
            if ident in seen:
                results[index] = BulkResult(
                    fields.id,
                    "error",
                    index,
                    scope.catalog_id,
                    f"asset {fields.id!r} appears twice in this request",
                    400,
                )
                del prepared[index]
            seen.add(ident)
        existing: dict[tuple[str, str], Doc] = {}
        by_catalog: dict[str, list[str]] = {}
        for scope, fields in prepared.values():
            by_catalog.setdefault(scope.catalog_id, []).append(fields.id or "")
        for catalog_id, ids in by_catalog.items():
            for doc in self.store.get_assets(catalog_id, ids):
                existing[(catalog_id, doc["id"])] = doc
        writes: list[tuple[int, AssetWrite, Doc, Literal["created", "updated"]]] = []
        outcome: Literal["created", "updated"]
        for index, (scope, fields) in prepared.items():
            asset_id = fields.id or ""
            current = existing.get((scope.catalog_id, asset_id))
            try:
                if current is None:
                    if not fields.href:
                        raise Invalid("an asset needs an `href`")
                    doc = self.records.new(scope, fields, now=now, blobs=catalog_blobs[scope.catalog_id])
                    write, action, outcome = AssetWrite(doc, 0), "create", _CREATED
                else:
                    self._check_writable(scope, current, asset_id)
                    if not fields.href:
                        fields = fields.model_copy(update={"href": current["href"]})
                    doc = self.records.replaced(current, fields, now=now, blobs=catalog_blobs[scope.catalog_id])
                    if _same_content(doc, current):
                        results[index] = BulkResult(asset_id, "unchanged", index, scope.catalog_id)
                        continue
                    write, action, outcome = AssetWrite(doc, current.get("rev")), "replace", _UPDATED
            except (Invalid, NotFound, Conflict) as exc:
                status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 400
                status = 413 if isinstance(exc, PayloadTooLarge) else status
                results[index] = BulkResult(asset_id, "error", index, scope.catalog_id, exc.detail, status)
                continue
            audit = audit_doc(scope.catalog_id, "asset", asset_id, action, actor, at=now, bulk=True)
            writes.append((index, write, audit, outcome))
        if writes:
            try:
                self.store.write_assets([w for _, w, _, _ in writes], audits=[a for _, _, a, _ in writes])
                for index, write, _, outcome in writes:
                    results[index] = BulkResult(write.doc["id"], outcome, index, write.doc["catalog_id"])
            except Conflict:
                # Someone wrote one of these records meanwhile: fall back to one atomic write per record.
                for index, write, audit, outcome in writes:
                    try:
                        self._write_one(write.doc, write.expect_rev, audit)
                        results[index] = BulkResult(write.doc["id"], outcome, index, write.doc["catalog_id"])
                    except Conflict as exc:
                        results[index] = BulkResult(
                            write.doc["id"],
                            "error",
                            index,
                            write.doc["catalog_id"],
                            f"changed concurrently, retry: {exc.detail}",
                            409,
                        )
        return [r for r in results if r is not None]

    def _bulk_parse(self, record: Any, default_catalog: str | None) -> tuple[Scope, AssetFields]:
        if not isinstance(record, dict):
            raise Invalid("each record is a JSON object")
        body = dict(record)
        catalog_id = body.pop("catalog_id", None) or default_catalog
        if not catalog_id:
            raise Invalid("the record has no catalog_id (set it on the record or at the top of the request)")
        scope = Scope(
            check_id(str(catalog_id), "catalog_id"),
            _opt_id(body.pop("collection_id", None), "collection_id"),
            _opt_id(body.pop("item_id", None), "item_id"),
        )
        if scope.item_id and not scope.collection_id:
            raise Invalid("item_id needs collection_id")
        fields = parse_fields(body)
        if not fields.id:
            raise Invalid("each bulk record needs an `id` (upserts are keyed by it)")
        return scope, fields

    # ------------------------------------------------------------------------------ helpers

    def _check_writable(self, scope: Scope, current: Doc, asset_id: str) -> None:
        if not scope.holds(current):
            raise Conflict(
                f"asset {asset_id!r} exists in catalog {scope.catalog_id!r} at another level "
                f"(collection {current.get('collection_id')!r}, item {current.get('item_id')!r})"
            )
        if current.get("status") == "deleted":
            raise NotFound(f"asset {asset_id!r} was deleted; restore it before changing it")

    def _write_one(self, doc: Doc, expect_rev: int | None, audit: Doc, if_rev: int | None = None) -> Doc:
        """One atomic asset write; with ``if_rev`` (If-Match) a concurrent writer is a 412."""
        with precondition(if_rev, f"asset {doc['id']!r}"):
            return self.store.write_assets([AssetWrite(doc, expect_rev)], audits=[audit])[0]


def client_view(doc: Doc) -> Doc:
    """The fields of a stored asset a client may set (what PATCH merges into)."""
    return {k: v for k, v in doc.items() if k not in SYSTEM_FIELDS and v is not None}


def parse_fields(body: Any) -> AssetFields:
    if not isinstance(body, dict):
        raise Invalid('an asset is a JSON object such as {"id": "b04", "href": "https://..."}')
    owned = sorted(k for k in body if k in SYSTEM_FIELDS)
    if owned:
        raise Invalid(f"{', '.join(owned)} cannot be set in the body: the path and the service set them")
    try:
        return AssetFields.model_validate(body)
    except ValidationError as exc:
        raise Invalid(validation_detail(exc, "asset")) from None


_VOLATILE = frozenset({"updated", "rev"})


def _same_content(new: Doc, current: Doc) -> bool:
    keys = (set(new) | set(current)) - _VOLATILE
    return all(new.get(k) == current.get(k) for k in keys)


def _opt_id(value: Any, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Invalid(f"{what} must be a string")
    return check_id(value, what)


def _bulk_records(body: Any) -> tuple[list[Any], str | None]:
    records: Any
    if isinstance(body, list):
        records, default_catalog = body, None
    elif isinstance(body, dict):
        records = body.get("assets")
        default_catalog = body.get("catalog_id")
        if not isinstance(records, list):
            raise Invalid('the body is {"catalog_id": "...", "assets": [ ... ]} (or a JSON array of assets)')
        if default_catalog is not None and not isinstance(default_catalog, str):
            raise Invalid("catalog_id must be a string")
    else:
        raise Invalid('the body is {"catalog_id": "...", "assets": [ ... ]} (or a JSON array of assets)')
    if len(records) > MAX_BULK:
        raise Invalid(f"a bulk request takes at most {MAX_BULK} assets, got {len(records)}; split it")
    return records, default_catalog


def _record_id(record: Any) -> str | None:
    value = record.get("id") if isinstance(record, dict) else None
    return value if isinstance(value, str) else None


def _record_catalog(record: Any, default: str | None) -> str | None:
    value = record.get("catalog_id") if isinstance(record, dict) else None
    return value if isinstance(value, str) else default
