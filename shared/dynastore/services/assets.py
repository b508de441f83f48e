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

from dataclasses import replace
from typing import Any

from dynastore.domain import time as dtime
from dynastore.domain.audit import audit_doc
from dynastore.domain.ids import check_id
from dynastore.domain.search import AssetQuery, Page
from dynastore.errors import Conflict, Invalid, NotFound
from dynastore.ports import Doc
from dynastore.services.asset_base import SYSTEM_FIELDS, Scope, client_view, parse_fields
from dynastore.services.asset_bulk import MAX_BULK, AssetBulk, BulkResult
from dynastore.services.asset_files import AssetFiles, UploadBuffer, check_file_name, sha256_multihash
from dynastore.services.patching import merge_patch
from dynastore.services.revisions import expected_rev, precondition
from dynastore.services.search import counted_page

__all__ = [
    "MAX_BULK",
    "SYSTEM_FIELDS",
    "AssetService",
    "BulkResult",
    "Scope",
    "UploadBuffer",
    "check_file_name",
    "client_view",
    "parse_fields",
    "sha256_multihash",
]


class AssetService(AssetFiles, AssetBulk):
    """CRUD of assets at their three levels, soft and hard delete, restore and history; bytes
    (``AssetFiles``) and bulk reads and writes (``AssetBulk``) come from the parts it is built from."""

    # ------------------------------------------------------------------------------ reads

    def list_in_scope(self, scope: Scope, query: AssetQuery | None = None, *, count: bool = False) -> Page[Doc]:
        """The assets of exactly this scope; ``query`` may narrow further (q, roles, ...); ``count``:
        with ``matched``."""
        self.check_scope(scope)
        base = query or AssetQuery(catalog_ids=(scope.catalog_id,))
        scoped = replace(
            base,
            catalog_ids=(scope.catalog_id,),
            collection_id=scope.collection_id,
            item_id=scope.item_id,
            level=scope.level,
        )
        return counted_page(scoped, self.store.search_assets, self.store.count_assets, count)

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

    def put(self, scope: Scope, asset_id: str, body: Any, *, actor: str, if_rev: int | None = None) -> tuple[Doc, bool]:
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
        written = self._write_one(doc, expect, audit, if_rev)
        self._rerank_versions(written)
        return written

    def restore(self, scope: Scope, asset_id: str, *, actor: str, if_rev: int | None = None) -> Doc:
        """Undo a soft delete; the asset's collection/item must exist (re-create a deleted item first)."""
        current = self._get_in_scope(scope, asset_id)
        expect = expected_rev(current, if_rev, f"asset {asset_id!r}")
        if current.get("status") != "deleted":
            raise Conflict(f"asset {asset_id!r} is not deleted (status {current.get('status')!r}); nothing to restore")
        self.check_scope(scope)
        doc = {**current, "status": "active", "deleted_at": None, "updated": dtime.now_iso()}
        audit = audit_doc(scope.catalog_id, "asset", asset_id, "restore", actor)
        written = self._write_one(doc, expect, audit, if_rev)
        if self._rerank_versions(written):
            written = self.store.get_asset(scope.catalog_id, asset_id)
        return written

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
        self._rerank_versions(current)
        return current
