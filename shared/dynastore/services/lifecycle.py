"""Lifecycle: the scheduled cleanup of retired catalogs and soft-deleted assets (DESIGN §6).

Retiring a catalog (``CatalogService.retire``) hides it and its assets at once. After
``retention_days`` the cleanup removes, in this order:

1. every object under the catalog's prefix, in the bucket its storage binding names (so no
   orphan file is left),
2. its queue and other infrastructure (``Provisioner.deprovision_catalog``: a dedicated bucket,
   with whatever else it holds, goes here),
3. its records, batch by batch (``MetadataStore.purge_catalog``), the catalog record last.

Each step is idempotent and the catalog record goes last, so an interrupted cleanup is found
again by the next run and resumes where it stopped. Storage events caused by the cleanup's own
deletes are ignored by indexing (the catalog is retired, then gone).

Soft-deleted assets of active catalogs past retention are purged too: their file (when the
catalog's bucket holds it and no other record owns that key) and then their record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from dynastore.config import Settings
from dynastore.domain import time as dtime
from dynastore.domain.asset import stored_key
from dynastore.domain.audit import audit_doc
from dynastore.domain.filters import Compare
from dynastore.domain.search import AssetQuery
from dynastore.errors import Invalid, NotFound
from dynastore.ports import BlobStore, Doc, MetadataStore, Provisioner
from dynastore.services.catalogs import CatalogStorage
from dynastore.services.reports import RunReport

if TYPE_CHECKING:
    from dynastore.services.indexing import IndexingService
    from dynastore.services.reconcile import Reconciler, ReconcileReport
    from dynastore.services.retention import RetentionReport

log = logging.getLogger("dynastore.lifecycle")

ACTOR = "cleanup"
PURGE_BATCH = 500


@dataclass
class CleanupReport(RunReport):
    catalogs_purged: list[str] = field(default_factory=list)
    catalogs_waiting: list[str] = field(default_factory=list)  # retired, retention not over yet
    blobs_deleted: int = 0
    records_deleted: int = 0
    assets_purged: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(eq=False, repr=False)
class LifecycleService:
    store: MetadataStore
    blobs: BlobStore  # the landing bucket
    provisioner: Provisioner
    settings: Settings
    _: KW_ONLY
    indexing: IndexingService | None = None

    def __post_init__(self) -> None:
        self.storage = CatalogStorage.reuse(self.indexing.storage if self.indexing is not None else None, self.blobs)
        self._reconciler: Reconciler | None = None

    # ------------------------------------------------------------------------------ reconcile

    @property
    def reconciler(self) -> Reconciler:
        if self.indexing is None:
            raise Invalid("reconcile needs the indexing service")
        if self._reconciler is None:
            from dynastore.services.reconcile import Reconciler

            self._reconciler = Reconciler(self.indexing)
        return self._reconciler

    def reconcile(self, catalog_id: str | None = None, **kwargs: Any) -> ReconcileReport:
        return self.reconciler.run(catalog_id, **kwargs)

    def scheduled(self) -> Doc:
        """What the scheduler runs (GCP ``scheduled`` target, cron): reconcile, then cleanup."""
        reconcile = self.reconcile() if self.indexing is not None else None
        cleanup = self.cleanup()
        retention = self.retention()
        return {
            "reconcile": reconcile.to_doc() if reconcile else None,
            "cleanup": cleanup.to_doc(),
            "retention": retention.to_doc(),
        }

    def retention(self, catalog_id: str | None = None) -> RetentionReport:
        """Archive versions beyond ``DYNASTORE_VERSIONS_HOT_MAX`` (``services/retention.py``; 0: nothing)."""
        from dynastore.services.retention import RetentionService

        return RetentionService(self.store, self.storage, self.settings).run(catalog_id)

    # ------------------------------------------------------------------------------ cleanup

    def cleanup(self, *, now: datetime | None = None, progress: Callable[[str], None] | None = None) -> CleanupReport:
        """Purge retired catalogs and soft-deleted assets older than ``retention_days``."""
        report = CleanupReport()
        cutoff = dtime.isoformat((now or dtime.utcnow()) - timedelta(days=self.settings.retention_days))
        for catalog in self._all_catalogs():
            catalog_id = catalog["id"]
            try:
                if catalog.get("status") == "retired":
                    retired_at = catalog.get("retired_at") or catalog.get("updated") or ""
                    if retired_at <= cutoff:
                        self.purge_catalog(catalog, report)
                        if progress:
                            progress(f"purged catalog {catalog_id}")
                    else:
                        report.catalogs_waiting.append(catalog_id)
                else:
                    purged = self.purge_deleted_assets(catalog_id, cutoff, catalog=catalog)
                    report.assets_purged += purged
                    if progress and purged:
                        progress(f"purged {purged} soft-deleted assets of {catalog_id}")
            except Exception as exc:  # one catalog's failure must not stop the others
                log.exception("cleanup of catalog %s failed", catalog_id)
                report.errors.append(f"{catalog_id}: {exc}")
        return report

    def purge_catalog(self, catalog: Doc, report: CleanupReport | None = None) -> CleanupReport:
        """Remove a retired catalog's files, infrastructure and records (idempotent, resumable)."""
        report = report or CleanupReport()
        catalog_id = catalog["id"]
        if catalog.get("status") != "retired":
            raise Invalid(f"catalog {catalog_id!r} is not retired; retire it before purging")
        binding = dict(catalog.get("storage") or {})
        bucket = self.storage.bucket_of(catalog)
        prefix = self.storage.prefix_of(catalog)
        if self.storage.is_landing(bucket) and (not prefix or not prefix.endswith("/")):
            raise Invalid(f"catalog {catalog_id!r} has prefix {prefix!r} in the shared bucket; not deleting it")
        report.blobs_deleted += self._delete_objects(bucket, prefix)
        self.provisioner.deprovision_catalog(catalog_id, {**binding, "bucket": bucket, "prefix": prefix})
        while True:
            deleted = self.store.purge_catalog(catalog_id, batch_size=PURGE_BATCH)
            report.records_deleted += deleted
            if deleted == 0:
                break
        if self.indexing is not None:
            self.indexing.forget_catalog(catalog_id)
        report.catalogs_purged.append(catalog_id)
        log.info("purged retired catalog %s", catalog_id)
        return report

    def _delete_objects(self, bucket: str, prefix: str) -> int:
        """Delete every object under ``prefix`` of ``bucket``; returns how many."""
        deleted = 0
        try:
            blobs = self.storage.for_bucket(bucket)
            for info in blobs.list(prefix):
                blobs.delete(info.key, missing_ok=True)
                deleted += 1
        except NotFound:
            if self.storage.is_landing(bucket):
                raise
            # The catalog's own bucket is gone already (an earlier, interrupted cleanup removed it).
        return deleted

    def purge_deleted_assets(self, catalog_id: str, cutoff: str, *, catalog: Doc | None = None) -> int:
        """Hard-delete the assets soft-deleted before ``cutoff`` (their file first, then the record).

        ``catalog``: the catalog record, when the caller has it (its binding names the bucket)."""
        if catalog is None:
            catalog = self.store.get_catalog(catalog_id)
        blobs = self.storage.for_catalog(catalog)
        purged = 0
        token: str | None = None
        while True:
            query = AssetQuery(
                catalog_ids=(catalog_id,),
                status=("deleted",),
                filter=Compare("lte", "deleted_at", cutoff),
                limit=PURGE_BATCH,
                token=token,
            )
            page = self.store.search_assets(query)
            for doc in page.items:
                self._delete_file_of(blobs, doc)
                audit = audit_doc(
                    catalog_id,
                    "asset",
                    doc["id"],
                    "purge",
                    ACTOR,
                    deleted_at=doc.get("deleted_at"),
                    retention_days=self.settings.retention_days,
                )
                try:
                    self.store.delete_asset(catalog_id, doc["id"], audit=audit)
                except NotFound:
                    continue
                purged += 1
            token = page.next_token
            if not token:
                return purged

    def _delete_file_of(self, blobs: BlobStore, doc: Doc) -> None:
        """Delete the asset's object when it is in its catalog's bucket (``blobs``), unchanged, and no
        other record owns it."""
        storage = doc.get("storage") or {}
        key = stored_key(doc, blobs)  # only inside the asset's own catalog prefix (never another catalog's file)
        if not key:
            return
        if (doc.get("metadata") or {}).get("merged_into"):
            return  # a record merged into another asset: the file is that asset's
        try:
            record = self.store.get_ingest_record(blobs.bucket, key)
        except NotFound:
            record = None
        if record is not None and record.status == "indexed" and record.asset_id not in (None, doc["id"]):
            return
        try:
            info = blobs.stat(key)
        except NotFound:
            return
        if storage.get("generation") and info.generation != storage.get("generation"):
            return  # newer bytes were written there since: they are not this asset's
        blobs.delete(key, missing_ok=True)

    def _all_catalogs(self) -> list[Doc]:
        catalogs: list[Doc] = []
        token: str | None = None
        while True:
            page = self.store.list_catalogs(status=None, limit=1000, token=token)
            catalogs.extend(page.items)
            token = page.next_token
            if not token:
                return catalogs
