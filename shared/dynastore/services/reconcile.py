"""The reconciler: compare bucket and store, repair the drift (DESIGN §5).

It lists the objects of each catalog prefix, in the bucket the catalog's storage binding names
(the landing bucket, or the catalog's own), and the catalog's asset records, then:

- indexes every object without an up-to-date record (never seen, failed before, or changed while
  no event arrived: a service killed mid-indexing catches up here);
- marks ``missing`` every active asset whose object is gone.

It goes through the same ``IndexingService`` rules as the events, as *reported* (not observed)
changes: an older generation never overwrites a newer one, a deleted generation is not brought
back, and a delete is applied only after a fresh ``stat`` shows the object gone. So it is safe
to run while events flow, and running it twice changes nothing the second time.

A folder of the landing bucket named after a catalog bound to another bucket is not that
catalog's: its objects are recorded as failed (once per generation), like files at the root.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from dynastore.domain.events import StorageEvent, ignored_reason, is_sidecar
from dynastore.errors import DynastoreError, Invalid, NotFound
from dynastore.ports import BlobInfo, BlobStore, Doc, MetadataStore
from dynastore.services.catalogs import active_catalogs
from dynastore.services.indexing import BATCH_SIZE, IndexingService, IngestOutcome

log = logging.getLogger("dynastore.reconcile")

ALL_STATUSES = ("active", "missing", "deleted")


@dataclass
class ReconcileReport:
    catalogs: list[str] = field(default_factory=list)
    scanned: int = 0  # objects listed
    indexed: int = 0  # asset records created or updated
    unchanged: int = 0
    missing: int = 0  # assets marked missing
    skipped: int = 0
    failed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)  # the first few, for the report

    def count(self, outcome: IngestOutcome) -> None:
        if outcome.status == "indexed":
            self.indexed += 1
        elif outcome.status in ("unchanged", "stale", "duplicate"):
            self.unchanged += 1
        elif outcome.status == "deleted":
            self.missing += 1 if outcome.action == "missing" else 0
            self.unchanged += 0 if outcome.action == "missing" else 1
        elif outcome.status == "failed":
            self.failed += 1
            if len(self.failures) < 20:
                self.failures.append({"key": outcome.key, "error": outcome.detail or ""})
        else:
            self.skipped += 1

    def to_doc(self) -> Doc:
        return dict(self.__dict__)


class Reconciler:
    def __init__(self, indexing: IndexingService) -> None:
        self.indexing = indexing
        self.store: MetadataStore = indexing.store
        self.blobs: BlobStore = indexing.blobs  # the landing bucket
        self.storage = indexing.storage

    def run(
        self, catalog_id: str | None = None, *, progress: Callable[[IngestOutcome], None] | None = None
    ) -> ReconcileReport:
        """Reconcile one catalog, or every catalog (in its bucket) and every top-level folder of the
        landing bucket."""
        report = ReconcileReport()
        if catalog_id is not None:
            catalog = self._catalog_doc(catalog_id)
            if catalog is None:  # not a catalog yet: what the landing bucket holds for it (indexing creates it)
                self._catalog(catalog_id, self.blobs.list(f"{catalog_id}/"), self.blobs.bucket, report, progress)
            else:
                self._bound_catalog(catalog, report, progress)
            return report
        active = {doc["id"]: doc for doc in active_catalogs(self.store)}
        seen: set[str] = set()
        listing = self.blobs.list("")
        for folder, infos in itertools.groupby(listing, key=lambda info: info.key.split("/", 1)[0]):
            inside: list[BlobInfo] = []
            for info in infos:
                if "/" in info.key:
                    inside.append(info)
                else:
                    self._stray_object(info, report, progress)
            owner = active.get(folder)
            if owner is not None and not self.storage.is_landing(self.storage.bucket_of(owner)):
                for info in inside:  # the catalog's files are in its own bucket; these are not indexed
                    self._stray_object(info, report, progress)
            elif inside:
                seen.add(folder)
                self._catalog(folder, iter(inside), self.blobs.bucket, report, progress)
        for catalog_id, catalog in active.items():
            if catalog_id in seen:
                continue
            # A catalog in its own bucket, or one whose landing prefix holds no object (its assets are all gone).
            self._bound_catalog(catalog, report, progress)
        return report

    def _bound_catalog(
        self, catalog: Doc, report: ReconcileReport, progress: Callable[[IngestOutcome], None] | None
    ) -> None:
        """Reconcile a catalog against the objects under its prefix in the bucket its binding names."""
        if catalog.get("status") == "retired":
            return  # hidden, and the cleanup removes it: nothing to repair
        bucket = self.storage.bucket_of(catalog)
        try:
            blobs = self.storage.for_bucket(bucket)
            infos = list(blobs.list(self.storage.prefix_of(catalog)))
        except DynastoreError as exc:  # its bucket is unreachable: report it, mark nothing missing
            report.failed += 1
            if len(report.failures) < 20:
                report.failures.append({"key": f"{bucket}/{self.storage.prefix_of(catalog)}", "error": exc.detail})
            return
        self._catalog(catalog["id"], iter(infos), bucket, report, progress)

    # ------------------------------------------------------------------------------ one catalog

    def _catalog(
        self,
        catalog_id: str,
        infos: Iterator[BlobInfo],
        bucket: str,
        report: ReconcileReport,
        progress: Callable[[IngestOutcome], None] | None,
    ) -> None:
        """``infos``: the objects under the catalog's prefix in ``bucket``, the bucket it is bound to."""
        status = self._status(catalog_id)
        if status == "retired":
            return  # hidden, and the cleanup removes it: nothing to repair
        report.catalogs.append(catalog_id)
        by_key = self._assets_by_key(catalog_id, bucket) if status == "active" else {}
        infos_list = [info for info in infos if ignored_reason(info.key) is None]
        listed = {info.key for info in infos_list}
        report.scanned += len(infos_list)
        stale: list[StorageEvent] = []
        sidecars: list[BlobInfo] = []
        for info in infos_list:
            if is_sidecar(info.key):
                sidecars.append(info)
                continue
            doc = by_key.get(info.key)
            if doc is not None and self._up_to_date(doc, info):
                report.unchanged += 1
                continue
            stale.append(StorageEvent.from_blob(info))
        for start in range(0, len(stale), BATCH_SIZE):
            batch = stale[start : start + BATCH_SIZE]
            for outcome in self.indexing.index_batch(batch, observed=False, listed_keys=listed):
                self._count(outcome, report, progress)
        for info in sidecars:
            record = self.indexing._ingest_record(info.bucket, info.key)
            if record is not None and record.status == "indexed" and record.generation == info.generation:
                report.unchanged += 1
                continue
            self._apply(StorageEvent.from_blob(info), report, progress)
        for key, doc in by_key.items():
            if key in listed or doc.get("status") != "active":
                continue
            storage = doc.get("storage") or {}
            gone = StorageEvent(kind="deleted", bucket=bucket, key=key, generation=storage.get("generation"))
            self._apply(gone, report, progress)

    def _stray_object(
        self, info: BlobInfo, report: ReconcileReport, progress: Callable[[IngestOutcome], None] | None
    ) -> None:
        """An object no catalog holds (at the root, or in a folder of a catalog bound elsewhere):
        applied once per generation, so its failure is on record."""
        if ignored_reason(info.key) is not None:
            return
        report.scanned += 1
        record = self.indexing._ingest_record(info.bucket, info.key)
        if record is not None and record.status == "failed" and record.generation in (None, info.generation):
            report.skipped += 1  # already recorded as not indexable
            return
        self._apply(StorageEvent.from_blob(info), report, progress)

    def _apply(
        self, event: StorageEvent, report: ReconcileReport, progress: Callable[[IngestOutcome], None] | None
    ) -> None:
        self._count(self.indexing.apply(event, observed=False), report, progress)

    @staticmethod
    def _count(
        outcome: IngestOutcome, report: ReconcileReport, progress: Callable[[IngestOutcome], None] | None
    ) -> None:
        report.count(outcome)
        if progress is not None:
            progress(outcome)

    def _up_to_date(self, doc: Doc, info: BlobInfo) -> bool:
        """The record describes these bytes and the key's ingest record says so."""
        storage = doc.get("storage") or {}
        if doc.get("status") == "missing" or storage.get("generation") != info.generation:
            return False
        if doc.get("status") == "deleted":
            return True  # a user's soft delete stays until they restore it or the cleanup purges it
        record = self.indexing._ingest_record(info.bucket, info.key)
        return record is not None and record.status == "indexed" and record.asset_id == doc.get("id")

    def _assets_by_key(self, catalog_id: str, bucket: str) -> dict[str, Doc]:
        """The catalog's asset records of objects in ``bucket``, by key."""
        by_key: dict[str, Doc] = {}
        for doc in self.store.export_assets(catalog_id, statuses=ALL_STATUSES):
            storage = doc.get("storage") or {}
            key = storage.get("key")
            if not key or storage.get("bucket") not in (None, bucket):
                continue
            current = by_key.get(key)
            # Two records for one key (a merge interrupted by a crash): the active one speaks for it.
            if current is None or (current.get("status") != "active" and doc.get("status") == "active"):
                by_key[key] = doc
        return by_key

    def _status(self, catalog_id: str) -> str | None:
        try:
            return str(self.store.get_catalog(catalog_id).get("status") or "active")
        except (NotFound, Invalid):
            return None

    def _catalog_doc(self, catalog_id: str) -> Doc | None:
        try:
            return self.store.get_catalog(catalog_id)
        except (NotFound, Invalid):
            return None

