"""The writes of indexing: catalogs and collection/item shells created on a first file, asset
records (one atomic ``write_assets`` per plan or batch), ingest records and failures."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from dynastore.domain import time as dtime
from dynastore.domain.audit import audit_doc
from dynastore.domain.catalog import Catalog, StorageBinding
from dynastore.domain.events import StorageEvent
from dynastore.domain.indexing import storage_of
from dynastore.domain.storage import KeyScope
from dynastore.errors import Conflict, DynastoreError, NotFound
from dynastore.ports import AssetWrite, BlobStore, Doc, IngestRecord, MetadataStore, Provisioner
from dynastore.services import alternates
from dynastore.services.indexing.documents import (
    ACTOR,
    collection_shell,
    item_shell,
    merged_docs,
    missing_doc,
)
from dynastore.services.indexing.facts import Cache, Facts
from dynastore.services.indexing.outcome import IngestOutcome

if TYPE_CHECKING:
    from dynastore.services.catalogs import CatalogService

log = logging.getLogger("dynastore.indexing")

WRITE_ATTEMPTS = 5
RecordStatus = Literal["indexed", "failed", "deleted", "skipped"]


@dataclass
class Plan:
    """What indexing one object decided: the outcome and the writes it needs (none when unchanged)."""

    outcome: IngestOutcome
    record: IngestRecord | None = None
    write: AssetWrite | None = None
    audit: Doc | None = None
    scope: KeyScope | None = None


def record_for(
    current: IngestRecord | None,
    status: RecordStatus,
    event: StorageEvent,
    catalog_id: str | None,
    asset_id: str | None,
    error: str | None,
    *,
    generation: str | None = None,
) -> IngestRecord | None:
    """The ingest record to write, or None when the current one says the same already."""
    generation = generation if generation is not None else event.generation
    if (
        current is not None
        and current.status == status
        and current.asset_id == asset_id
        and current.generation == generation
        and current.error == error
        and current.catalog_id == catalog_id
    ):
        return None
    return IngestRecord(
        bucket=event.bucket,
        key=event.key,
        status=status,
        at=dtime.now_iso(),
        catalog_id=catalog_id,
        asset_id=asset_id,
        generation=generation,
        error=error,
    )


def retry(step: Callable[[], IngestOutcome]) -> IngestOutcome:
    """Re-run a read-decide-write step when a concurrent writer got in between (``Conflict``)."""
    for attempt in range(WRITE_ATTEMPTS):
        try:
            return step()
        except Conflict:
            if attempt == WRITE_ATTEMPTS - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


@dataclass(eq=False, repr=False)
class Writer:
    """The writes of the indexing pipeline: records, shells, ingest records; batched, with a counted fallback."""

    store: MetadataStore
    blobs: BlobStore  # the landing bucket
    provisioner: Provisioner
    facts: Facts
    cache: Cache
    catalogs: CatalogService | None = None

    # ------------------------------------------------------------------------------ records

    def execute(self, plans: Sequence[Plan]) -> None:
        """Write what the plans decided: shells, then every asset in one atomic call, then ingest records."""
        writes = [plan for plan in plans if plan.write is not None]
        for plan in writes:
            if plan.scope is not None and plan.write is not None:
                self.ensure_shells(plan.scope, plan.write.doc)
        if writes:
            self.store.write_assets([p.write for p in writes if p.write], audits=[p.audit for p in writes if p.audit])
        records = [plan.record for plan in plans if plan.record is not None]
        if not records:
            return
        if len(records) > 1:
            self.store.put_ingest_records(records)  # one transaction where the backend has them
        else:
            self.store.put_ingest_record(records[0])

    def put_record(self, record: IngestRecord | None) -> None:
        """Write an ingest record built by ``record_for`` (None: the stored one says the same already)."""
        if record is not None:
            self.store.put_ingest_record(record)

    def failed(self, key: str, exc: Exception, catalog_id: str | None, *, bucket: str | None = None) -> IngestOutcome:
        detail = exc.detail if isinstance(exc, DynastoreError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, DynastoreError):
            log.exception("indexing %s failed", key)
        else:
            log.warning("indexing %s failed: %s", key, detail)
        try:
            self.store.put_ingest_record(
                IngestRecord(
                    bucket=bucket or self.blobs.bucket,
                    key=key,
                    status="failed",
                    at=dtime.now_iso(),
                    catalog_id=catalog_id,
                    error=detail,
                )
            )
        except Exception:  # the store is down: the reconciler catches up
            log.exception("cannot record the failure of %s", key)
        return IngestOutcome(key, "failed", catalog_id=catalog_id, detail=detail)

    # ------------------------------------------------------------------------------ deletes

    def mark_missing(
        self,
        scope: KeyScope,
        event: StorageEvent,
        record: IngestRecord | None,
        existing: Doc,
        asset_id: str,
        tombstone: str | None,
    ) -> IngestOutcome:
        self.cache.forget(("no-missing", scope.catalog_id))
        promotion = alternates.promoted(existing, f"object {scope.key} deleted")
        if promotion is not None:  # a mirror stands in: the asset stays active under its id
            doc, details = promotion
            audit = audit_doc(
                scope.catalog_id, "asset", asset_id, "promote", ACTOR, key=scope.key, event_id=event.event_id, **details
            )
            self.store.write_assets([AssetWrite(doc, existing.get("rev", 0))], audits=[audit])
            done = record_for(record, "deleted", event, scope.catalog_id, asset_id, None, generation=tombstone)
            self.put_record(done)
            return IngestOutcome(scope.key, "deleted", action="promote", catalog_id=scope.catalog_id, asset_id=asset_id)
        audit = audit_doc(
            scope.catalog_id,
            "asset",
            asset_id,
            "missing",
            ACTOR,
            key=scope.key,
            generation=tombstone,
            event_id=event.event_id,
        )
        self.store.write_assets([AssetWrite(missing_doc(existing), existing.get("rev", 0))], audits=[audit])
        self.put_record(record_for(record, "deleted", event, scope.catalog_id, asset_id, None, generation=tombstone))
        return IngestOutcome(scope.key, "deleted", action="missing", catalog_id=scope.catalog_id, asset_id=asset_id)

    def merge_move(
        self,
        scope: KeyScope,
        event: StorageEvent,
        record: IngestRecord | None,
        source: Doc,
        twin: Doc,
        tombstone: str | None,
    ) -> IngestOutcome:
        """The source asset takes over its fresh twin's location; the twin record is retired.

        Both records change in one atomic write (the twin is soft-deleted with ``merged_into``),
        then the twin is removed for good; a crash in between leaves one active asset.
        """
        moved, retired = merged_docs(source, twin)
        to_key = storage_of(twin).get("key")
        audits = [
            audit_doc(
                scope.catalog_id,
                "asset",
                source["id"],
                "move",
                ACTOR,
                key=to_key,
                **{"from": scope.key},
                event_id=event.event_id,
            ),
            audit_doc(scope.catalog_id, "asset", twin["id"], "merge", ACTOR, into=source["id"], key=to_key),
        ]
        self.store.write_assets(
            [AssetWrite(moved, source.get("rev", 0)), AssetWrite(retired, twin.get("rev", 0))], audits=audits
        )
        self.put_record(
            record_for(record, "deleted", event, scope.catalog_id, source["id"], None, generation=tombstone)
        )
        if to_key:
            to_bucket = storage_of(twin).get("bucket") or event.bucket
            target_event = StorageEvent(
                kind="finalized", bucket=to_bucket, key=to_key, generation=storage_of(twin).get("generation")
            )
            self.put_record(
                record_for(
                    self.facts.ingest_record(to_bucket, to_key),
                    "indexed",
                    target_event,
                    scope.catalog_id,
                    source["id"],
                    None,
                )
            )
        with contextlib.suppress(NotFound):
            audit = audit_doc(scope.catalog_id, "asset", twin["id"], "hard_delete", ACTOR, merged_into=source["id"])
            self.store.delete_asset(scope.catalog_id, twin["id"], audit=audit)
        return IngestOutcome(
            scope.key,
            "indexed",
            action="move",
            catalog_id=scope.catalog_id,
            asset_id=source["id"],
            detail=f"moved to {to_key}",
        )

    # ------------------------------------------------------------------------------ catalogs and shells

    def ensure_catalog(self, catalog_id: str) -> tuple[bool, bool]:
        """(active, created): the catalog is active (created now if missing), or retired."""
        status = self.facts.catalog_status(catalog_id)
        created = status is None
        if created:
            self._create_catalog(catalog_id)
            self.cache.forget(("catalog", catalog_id))
            status = self.facts.catalog_status(catalog_id)
        return status == "active", created

    def _create_catalog(self, catalog_id: str) -> None:
        body: dict[str, Any] = {
            "id": catalog_id,
            "title": catalog_id,
            "description": f"Created by zero-touch indexing when the first file arrived under {catalog_id}/",
        }
        try:
            if self.catalogs is not None:
                self.catalogs.create(body, actor=ACTOR)
                log.info("created catalog %s for its first file", catalog_id)
                return
            binding = StorageBinding.model_validate(self.provisioner.provision_catalog(catalog_id))
            catalog = Catalog(id=catalog_id, title=body["title"], description=body["description"], storage=binding)
            audit = audit_doc(catalog_id, "catalog", catalog_id, "create", ACTOR, source="indexing")
            self.store.put_catalog(catalog.to_doc(), expect_rev=0, audit=audit)
            log.info("created catalog %s for its first file", catalog_id)
        except Conflict:
            pass  # created concurrently (or retired): the caller re-reads its status

    def ensure_shells(self, scope: KeyScope, doc: Doc) -> None:
        if scope.collection_id is None:
            return
        catalog_id, collection_id = scope.catalog_id, scope.collection_id
        collection_key = ("collection", catalog_id, collection_id)
        if self.cache.get(collection_key) is None:
            self._put_shell(
                collection_key,
                lambda: self.store.get_collection(catalog_id, collection_id),
                lambda: self.store.put_collection(
                    catalog_id,
                    collection_shell(scope),
                    expect_rev=0,
                    audit=audit_doc(catalog_id, "collection", collection_id, "create", ACTOR, source="indexing"),
                ),
            )
        if scope.item_id is None:
            return
        item_id = scope.item_id
        item_key = ("item", catalog_id, collection_id, item_id)
        if self.cache.get(item_key) is None:
            self._put_shell(
                item_key,
                lambda: self.store.get_item(catalog_id, collection_id, item_id),
                lambda: self.store.put_item(
                    catalog_id,
                    item_shell(scope, doc),
                    expect_rev=0,
                    audit=audit_doc(
                        catalog_id, "item", item_id, "create", ACTOR, source="indexing", collection_id=collection_id
                    ),
                ),
            )

    def _put_shell(self, cache_key: tuple[str, ...], read: Callable[[], Doc], create: Callable[[], Any]) -> None:
        try:
            read()
        except NotFound:
            with contextlib.suppress(Conflict):  # created concurrently
                create()
        self.cache.put(cache_key, "present")
