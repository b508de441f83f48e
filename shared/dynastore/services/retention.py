"""Version retention (seed 004 §9): keep the newest ``versions_hot_max`` versions of each file hot.

A published version is never deleted or overwritten. Versions of one ``<name>`` in an item (records
with ``version`` set or a ``<name>@<stamp><ext>`` file name, grouped as in VERSIONS.md) are ordered
by stamp; those beyond ``DYNASTORE_VERSIONS_HOT_MAX`` (0 = keep all hot, the default) move to the
``versions_archive_tier`` through ``BlobStore.set_storage_class``: same key, same bytes, still
downloadable (gcp ARCHIVE/COLDLINE, aws GLACIER_IR/STANDARD_IA; the local folder has one class and
leaves the file where it is). Their record gets ``metadata.archived`` (when, tier, the backend's
class) and the STAC storage extension's ``storage:tier``, and its ``storage.generation`` follows a
backend that rewrote the object. A record already marked is skipped, so a repeated run is a no-op.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from dynastore.config import Settings
from dynastore.domain import time as dtime
from dynastore.domain.asset import stored_key
from dynastore.domain.audit import audit_doc
from dynastore.domain.search import AssetQuery
from dynastore.errors import Conflict, NotFound
from dynastore.ports import AssetWrite, BlobStore, Doc, MetadataStore
from dynastore.services.catalogs import CatalogStorage, active_catalogs
from dynastore.services.paging import every_asset
from dynastore.services.reports import RunReport
from dynastore.services.stac.embedding import VERSIONED_FILTER
from dynastore.services.stac.rendering import version_of

log = logging.getLogger("dynastore.retention")

ACTOR = "retention"
PAGE = 1000
SeriesKey = tuple[str, str, str, str]  # (collection, item, name, ext)


def stamp_order(version: str) -> str:
    """A sort key of a version stamp in either form (``2025-08-11T1112Z``, ``2025-08-11T11:12Z``,
    with or without seconds): its digits padded to seconds, so a same-minute second publish
    (``...T111230Z``) sorts after ``...T1112Z``."""
    return re.sub(r"\D", "", version).ljust(14, "0")


def version_series(docs: Iterable[Doc]) -> dict[SeriesKey, list[Doc]]:
    """Versioned records grouped by (collection, item, name, ext), newest first (``@latest``
    aliases, never stored records, are left out)."""
    series: dict[SeriesKey, list[tuple[str, bool, Doc]]] = {}
    for doc in docs:
        found = version_of(doc)
        if found is None or found[1] == "latest":
            continue
        (name, ext), version = found
        key = (doc.get("collection_id") or "", doc.get("item_id") or "", name, ext)
        series.setdefault(key, []).append((stamp_order(version), bool(doc.get("latest")), doc))
    return {
        key: [doc for _, _, doc in sorted(entries, key=lambda e: (e[0], e[1]), reverse=True)]
        for key, entries in series.items()
    }


@dataclass
class RetentionReport(RunReport):
    catalogs: int = 0
    versions: int = 0
    archived: int = 0
    already_archived: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(eq=False, repr=False)
class RetentionService:
    store: MetadataStore
    storage: CatalogStorage
    settings: Settings

    def run(self, catalog_id: str | None = None, *, hot_max: int | None = None) -> RetentionReport:
        """Archive the versions beyond ``hot_max`` (default ``versions_hot_max``; 0 keeps all hot)
        in one catalog or every active one. One failure is reported and does not stop the rest."""
        keep = self.settings.versions_hot_max if hot_max is None else hot_max
        report = RetentionReport()
        if keep <= 0:
            return report
        catalogs = [self.store.get_catalog(catalog_id)] if catalog_id else list(active_catalogs(self.store))
        for catalog in catalogs:
            report.catalogs += 1
            blobs = self.storage.for_catalog(catalog)
            for versions in version_series(self._versioned(catalog["id"])).values():
                report.versions += len(versions)
                for doc in versions[keep:]:
                    try:
                        self._archive(blobs, doc, report)
                    except Exception as exc:  # one file's failure must not stop the others
                        log.exception("archiving asset %s of %s failed", doc.get("id"), catalog["id"])
                        report.errors.append(f"{catalog['id']}/{doc.get('id')}: {exc}")
        return report

    def _versioned(self, catalog_id: str) -> Iterator[Doc]:
        query = AssetQuery(catalog_ids=(catalog_id,), level="item", filter=VERSIONED_FILTER, limit=PAGE)
        return every_asset(self.store, query)

    def _archive(self, blobs: BlobStore, doc: Doc, report: RetentionReport) -> None:
        tier = self.settings.versions_archive_tier
        if ((doc.get("metadata") or {}).get("archived") or {}).get("tier") == tier:
            report.already_archived += 1
            return
        key = stored_key(doc, blobs)
        if key is None:
            return  # a reference to bytes elsewhere: not ours to move
        try:
            info = blobs.set_storage_class(key, tier)
        except NotFound:
            return  # the file is gone; reconcile marks the record missing
        now = dtime.now_iso()
        storage = dict(doc.get("storage") or {})
        if storage.get("key") == key and storage.get("generation") not in (None, info.generation):
            storage["generation"] = info.generation  # a rewrite made a new generation of the same bytes
        marker = {"at": now, "tier": tier, "storage_class": info.storage_class}
        updated = {
            **doc,
            "metadata": {**(doc.get("metadata") or {}), "archived": marker},
            "storage:tier": tier,
            "storage": storage or doc.get("storage"),
            "updated": now,
        }
        audit = audit_doc(
            doc["catalog_id"], "asset", doc["id"], "archive", ACTOR, tier=tier, storage_class=info.storage_class
        )
        try:
            self.store.write_assets([AssetWrite(updated, expect_rev=doc.get("rev"))], audits=[audit])
        except Conflict:
            return  # changed meanwhile: the next run looks at it again (the object is archived already)
        report.archived += 1
