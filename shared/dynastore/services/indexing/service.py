"""Zero-touch indexing: storage events in, asset records out (DESIGN §5).

Every event source (local folder watcher, Cloud Storage notifications, S3 notifications, the
reconciler, ``dynastore index``) hands ``StorageEvent``s to ``IndexingService.handle``. The
service places the object with the key convention (``domain.storage.parse_key``), creates what is
missing (catalog through the catalog service and the ``Provisioner``, collection and item shells),
and writes one asset per object with its size, SHA2-256 multihash, media type, storage coordinates
and the description found in custom object metadata or a ``<file>.meta.json`` sidecar.

Each event is read → decide → write: ``Facts`` reads what the store and storage hold about the key,
``domain.indexing`` decides (pure: the ordering, idempotency, delete and move rules are documented
there), ``Writer`` writes. In short: duplicates (an event id seen within
``processed_event_ttl_hours``) are dropped and replays change nothing; an older generation never
overwrites a newer one; deletes mark the asset ``missing`` only when the object is really gone; a
delete and a finalize of the same bytes within ``move_window_seconds`` are a move. Failures are
recorded per key (``IngestRecord`` status ``failed``) and the event is acknowledged; the reconciler
retries them. Nothing is dropped silently.

**Buckets.** A catalog's files live in the bucket of its storage binding (``CatalogStorage``): the
landing bucket, or a dedicated one (gcp ``gcp_bucket_per_catalog``). Keys keep the
``{catalog}/...`` convention in either, so the key names the catalog and the event's bucket must
be the one that catalog is bound to. An object of the landing bucket under an unknown catalog
creates it (zero touch); an object of any other bucket is indexed only for the catalog bound to
that bucket, and is otherwise recorded as ``failed`` with nothing else written (a delete there is
skipped: nothing of it can exist). The bucket is checked once per event (again only after the
event created its catalog, whose binding may name another bucket). Reads of the object go to its bucket.

**Bulk** (``index_batch``): the new or changed assets of a batch land in one atomic
``write_assets``. When that write fails (a concurrent writer, two keys resolving to one asset),
each event is applied on its own: logged at WARNING and counted in ``IndexingService.stats``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

from dynastore.config import Settings
from dynastore.domain import time as dtime
from dynastore.domain.audit import audit_doc
from dynastore.domain.events import StorageEvent
from dynastore.domain.indexing import (
    decide_delete,
    decide_present,
    delete_precheck,
    index_action,
    order_against_object,
    order_against_record,
    same_content,
    tombstone,
)
from dynastore.domain.search import Page
from dynastore.domain.storage import (
    BlobInfo,
    KeyScope,
    catalog_of_key,
    ignored_reason,
    is_sidecar,
    parse_key,
    sidecar_key,
    sidecar_target,
)
from dynastore.errors import Conflict, DynastoreError, Invalid, NotFound
from dynastore.ports import INGEST_STATUSES, AssetWrite, BlobStore, Doc, IngestRecord, MetadataStore, Provisioner
from dynastore.services.catalogs import CatalogStorage
from dynastore.services.indexing.documents import (
    ACTOR,
    Described,
    describe,
    descriptive_update,
    full_doc,
    trusted_shape,
    validated,
)
from dynastore.services.indexing.facts import Cache, Facts, Prefetched
from dynastore.services.indexing.outcome import IndexingStats, IngestOutcome, IngestStatus, OutcomeStatus
from dynastore.services.indexing.writer import Plan, Writer, record_for, retry
from dynastore.services.versions.index import VersionIndex

if TYPE_CHECKING:
    from dynastore.services.catalogs import CatalogService

log = logging.getLogger("dynastore.indexing")

# Outcomes after which the versions of the key's item are refreshed (a redelivery repairs too).
VERSION_REFRESH = frozenset({"indexed", "unchanged", "deleted"})

BATCH_SIZE = 250  # objects per batch write in bulk indexing and reconcile
READ_THREADS = 4  # bulk indexing plans (stat, read, hash, look up) this many objects at once
# With a blob store of local files (``local_reads``), threads pay off only where hashing dominates:
# batches whose files average this size (hashlib releases the GIL; per-object Python work does not).
LARGE_FILE_BYTES = 1024 * 1024


class IndexingService:
    def __init__(
        self,
        store: MetadataStore,
        blobs: BlobStore,
        provisioner: Provisioner,
        settings: Settings,
        *,
        catalogs: CatalogService | None = None,
        read_threads: int = READ_THREADS,
    ) -> None:
        self.store = store
        self.blobs = blobs  # the landing bucket
        self.provisioner = provisioner
        self.settings = settings
        self.catalogs = catalogs
        self.storage = CatalogStorage.reuse(catalogs.storage if catalogs is not None else None, blobs)
        self.read_threads = read_threads
        self.stats = IndexingStats()
        self._cache = Cache()
        self.facts = Facts(store, blobs, self.storage, settings, self._cache)
        self.writer = Writer(store, blobs, provisioner, self.facts, self._cache, catalogs)
        self.versions = VersionIndex(store)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    # ------------------------------------------------------------------------------ entry points

    def handle(self, event: StorageEvent, *, observed: bool = False) -> IngestOutcome:
        """Apply one delivered event, at most once per event id; failures become ingest records."""
        reason = ignored_reason(event.key)
        if reason is not None:
            return IngestOutcome(event.key, "skipped", detail=reason)
        ttl = self.settings.processed_event_ttl_hours * 3600
        if not self.store.claim_event(event.event_id, ttl_seconds=ttl):
            return IngestOutcome(event.key, "duplicate", detail=f"event {event.event_id} was already processed")
        return self.apply(event, observed=observed)

    def handle_many(
        self,
        events: Iterable[StorageEvent],
        *,
        observed: bool = False,
        progress: Callable[[IngestOutcome], None] | None = None,
    ) -> list[IngestOutcome]:
        outcomes = []
        for event in events:
            outcome = self.handle(event, observed=observed)
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
        return outcomes

    def index_key(self, key: str) -> IngestOutcome:
        """Index an object as it is now (reconciler, ``dynastore index``): stat, then apply."""
        described = self._stat_event(key)
        if isinstance(described, Exception):
            return self.writer.failed(key, described, catalog_of_key(key))
        return self.apply(described, observed=True)

    def index_keys(
        self,
        keys: Iterable[str],
        *,
        listed: bool = False,
        chunk_size: int = BATCH_SIZE,
        progress: Callable[[IngestOutcome], None] | None = None,
    ) -> list[IngestOutcome]:
        """Index many objects as they are now (``dynastore index``), in batches.

        ``listed``: ``keys`` is a complete listing (sidecars included), so a file without
        ``<file>.meta.json`` among them has no sidecar and nobody needs to look for one.
        """
        all_keys = list(keys)
        known = set(all_keys) if listed else None
        outcomes: list[IngestOutcome] = []
        for start in range(0, len(all_keys), chunk_size):
            events: list[StorageEvent] = []
            chunk = all_keys[start : start + chunk_size]
            for key, described in zip(
                chunk, self._map(self._stat_event, chunk, threads=self._stat_threads()), strict=True
            ):
                if isinstance(described, StorageEvent):
                    events.append(described)
                else:
                    outcomes.append(self.writer.failed(key, described, catalog_of_key(key)))
            for outcome in self.index_batch(events, observed=True, listed_keys=known):
                outcomes.append(outcome)
                if progress is not None:
                    progress(outcome)
        return outcomes

    def index_batch(
        self, events: Sequence[StorageEvent], *, observed: bool = False, listed_keys: set[str] | None = None
    ) -> list[IngestOutcome]:
        """Apply many events with few writes: every new or changed asset of the batch lands in one
        atomic ``write_assets`` call. Plain finalizes go first, together; deletes, sidecars and
        anything unusual follow one by one, in order. If the batch write fails (e.g. it meets a
        concurrent writer), each event is applied on its own (the rules are the same, only slower),
        with a WARNING, counted in ``stats.batch_fallbacks``.
        """
        outcomes: dict[int, IngestOutcome] = {}
        planned: list[tuple[int, StorageEvent, Plan]] = []
        batch_written = False
        one_by_one: list[int] = []
        plain: list[int] = []
        for index, event in enumerate(events):
            if event.kind != "finalized" or is_sidecar(event.key) or ignored_reason(event.key) is not None:
                one_by_one.append(index)
            else:
                plain.append(index)

        scopes: dict[int, KeyScope | Exception] = {}
        for index in plain:
            try:
                scopes[index] = parse_key(events[index].key)
            except Invalid as exc:  # recorded by plan_one
                scopes[index] = exc
        reads = self.facts.prefetch(
            [(events[index], scope) for index, scope in scopes.items() if isinstance(scope, KeyScope)]
        )

        def plan_one(index: int) -> Plan | Exception:
            event, scope = events[index], scopes[index]
            if isinstance(scope, Exception):
                return scope
            try:
                hint = None if listed_keys is None else sidecar_key(event.key) in listed_keys
                return self._plan_present(scope, event, observed=observed, sidecar_listed=hint, reads=reads)
            except Exception as exc:  # recorded per key, like single events
                return exc

        threads = self._plan_threads([events[index] for index in plain])
        for index, result in zip(plain, self._map(plan_one, plain, threads=threads), strict=True):
            key = events[index].key
            if isinstance(result, Exception):
                outcomes[index] = self.writer.failed(key, result, catalog_of_key(key), bucket=events[index].bucket)
            else:
                planned.append((index, events[index], result))
        ids = [plan.write.doc["id"] for _, _, plan in planned if plan.write is not None]
        try:
            if len(ids) != len(set(ids)):
                raise Conflict("two objects of the batch resolve to one asset")
            self.writer.execute([plan for _, _, plan in planned])
            for index, _, plan in planned:
                outcomes[index] = plan.outcome
            if planned:
                self.stats.count(fell_back=False)
            batch_written = True
        except Exception as exc:
            log.warning("the batch write of %d objects failed, writing them one by one: %s", len(planned), exc)
            self.stats.count(fell_back=True, objects=len(planned))
            for index, event, _ in planned:
                outcomes[index] = self.apply(event, observed=observed)
        if batch_written:
            self._refresh_versions(events, outcomes, [index for index, _, _ in planned])
        for index in one_by_one:
            outcomes[index] = self.apply(events[index], observed=observed)
        return [outcomes[i] for i in range(len(events))]

    # ------------------------------------------------------------------------------ versions (seed 004)

    def _with_versions(self, scope: KeyScope, outcome: IngestOutcome) -> IngestOutcome:
        """After a version file of an item (``name@<stamp>.ext``) was applied: bring the item's version
        fields and mirrored properties in line (raises: ``apply`` records the key as failed)."""
        if outcome.status in VERSION_REFRESH:
            for error in self.versions.refresh_for_keys([scope.key]).values():
                raise error
        return outcome

    def _refresh_versions(
        self, events: Sequence[StorageEvent], outcomes: dict[int, IngestOutcome], indexes: Sequence[int]
    ) -> None:
        """``_with_versions`` for a batch (once per item); a failed refresh fails its keys' outcomes."""
        applied = {events[i].key: i for i in indexes if outcomes[i].status in VERSION_REFRESH}
        for key, error in self.versions.refresh_for_keys(list(applied)).items():
            event = events[applied[key]]
            outcomes[applied[key]] = self.writer.failed(key, error, catalog_of_key(key), bucket=event.bucket)

    def _stat_event(self, key: str) -> StorageEvent | Exception:
        try:
            return StorageEvent.from_blob(self.blobs.stat(key))
        except NotFound:
            return StorageEvent(kind="deleted", bucket=self.blobs.bucket, key=key, event_time=dtime.now_iso())
        except DynastoreError as exc:
            return exc

    def _stat_threads(self) -> int:
        """Threads for stat-ing a batch: one where a stat is a local system call."""
        return 1 if self.blobs.local_reads else self.read_threads

    def _plan_threads(self, events: Sequence[StorageEvent]) -> int:
        """Threads for planning a batch. Remote reads overlap on threads; local reads of small files
        do not gain (the work is Python, threads only take turns on the GIL), large files do (hashing)."""
        if not self.blobs.local_reads or not events:
            return self.read_threads
        size = sum(event.size or 0 for event in events)
        return self.read_threads if size >= LARGE_FILE_BYTES * len(events) else 1

    def _map(self, work: Callable[[Any], Any], values: Sequence[Any], *, threads: int | None = None) -> list[Any]:
        """``work`` over ``values`` on ``threads`` threads (default ``read_threads``), results in order.

        Each thread takes one contiguous share of ``values``: one task per thread, not per value
        (a task costs more than the work for a small file)."""
        threads = self.read_threads if threads is None else threads
        if threads <= 1 or len(values) < 8:
            return [work(value) for value in values]
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.read_threads, thread_name_prefix="dynastore-index")
        share = -(-len(values) // threads)
        parts = [values[start : start + share] for start in range(0, len(values), share)]
        return [result for part in self._pool.map(lambda part: [work(v) for v in part], parts) for result in part]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def apply(self, event: StorageEvent, *, observed: bool = False) -> IngestOutcome:
        """Apply an event (no duplicate check). Never raises for a problem with this object."""
        key = event.key
        reason = ignored_reason(key)
        if reason is not None:
            return IngestOutcome(key, "skipped", detail=reason)
        catalog_id = catalog_of_key(key)
        try:
            if event.kind == "deleted" and not self.facts.bucket_known(event.bucket, catalog_id):
                return IngestOutcome(
                    key, "skipped", catalog_id=catalog_id, detail=f"no catalog is bound to bucket {event.bucket!r}"
                )
            self.facts.check_bucket(event.bucket, catalog_id)
            if is_sidecar(key):
                return retry(lambda: self._apply_sidecar(event))
            scope = parse_key(key)
            if event.kind == "deleted":
                return self._with_versions(scope, retry(lambda: self._apply_deleted(scope, event, observed=observed)))
            if event.kind == "metadata-updated":
                # The payload may be older than the object's current metadata: read what holds now.
                try:
                    info = self.facts.blobs_of(event.bucket).stat(key)
                except NotFound:
                    return IngestOutcome(key, "skipped", catalog_id=scope.catalog_id, detail="object no longer exists")
                event = StorageEvent.from_blob(info, event_id=event.event_id)
                observed = True
            present = event
            return self._with_versions(scope, retry(lambda: self._apply_present(scope, present, observed=observed)))
        except Exception as exc:  # every failure is recorded, never dropped
            return self.writer.failed(key, exc, catalog_id, bucket=event.bucket)

    # ------------------------------------------------------------------------------ present objects

    def _apply_present(self, scope: KeyScope, event: StorageEvent, *, observed: bool) -> IngestOutcome:
        """An object present in storage, its bucket already checked (``apply``)."""
        plan = self._plan_present(scope, event, observed=observed, bucket_checked=True)
        self.writer.execute([plan])
        return plan.outcome

    def _plan_present(
        self,
        scope: KeyScope,
        event: StorageEvent,
        *,
        observed: bool,
        sidecar_listed: bool | None = None,
        reads: Prefetched | None = None,
        bucket_checked: bool = False,
    ) -> Plan:
        """Read the facts and decide what an object present in storage means for its record (reads
        only, except that a first object of the landing bucket creates its catalog). ``reads``: what
        the batch read up front."""
        key, catalog_id = scope.key, scope.catalog_id
        if not bucket_checked:
            self.facts.check_bucket(event.bucket, catalog_id)  # before: another bucket creates no catalog
        active, created = self.writer.ensure_catalog(catalog_id)
        if not active:
            return Plan(IngestOutcome(key, "skipped", catalog_id=catalog_id, detail="catalog is retired"))
        if created:
            self.facts.check_bucket(event.bucket, catalog_id)  # a catalog just made may have its own bucket
        record = self.facts.record_of(event, reads)
        early = order_against_record(event, record, observed=observed)
        if early is not None:
            return Plan(
                IngestOutcome(key, "stale", catalog_id=catalog_id, asset_id=early.asset_id, detail=early.detail)
            )
        existing, asset_id = self.facts.resolve(scope, event, record, reads)
        decision = decide_present(event, record, existing, observed=observed)
        if decision.action == "stale":
            return Plan(IngestOutcome(key, "stale", catalog_id=catalog_id, asset_id=asset_id, detail=decision.detail))
        if decision.action in ("soft-deleted", "unchanged"):
            # A soft-deleted asset stays deleted; a report about the bytes the record already
            # describes (a redelivery, a finalize overtaken by a metadata update) changes nothing.
            return Plan(
                IngestOutcome(key, "unchanged", catalog_id=catalog_id, asset_id=asset_id, detail=decision.detail),
                record=record_for(record, "indexed", event, catalog_id, asset_id, decision.detail),
            )

        blobs = self.facts.blobs_of(event.bucket)
        sidecar, sidecar_error = self.facts.read_sidecar(blobs, key) if sidecar_listed is not False else (None, None)
        described = describe(event.metadata, sidecar)
        if sidecar_error:
            described.warnings.append(sidecar_error)
        if decision.action == "describe" and existing is not None:
            # Observed now: only what storage says about these bytes may have changed.
            doc = descriptive_update(existing, described, event)
            return self._plan_write(scope, event, record, existing, doc, "update", described.warnings, moved_from=None)

        inspection = self.facts.inspect(key, existing, event)
        if inspection is None:
            return Plan(IngestOutcome(key, "skipped", catalog_id=catalog_id, detail="object vanished while reading it"))
        size, checksum, media_type = inspection
        move_source = (
            self.facts.move_source(catalog_id, checksum, key, event.bucket) if existing is None and size > 0 else None
        )
        action = index_action(existing, move_source)
        if move_source is not None:
            existing, asset_id = move_source, move_source["id"]
        doc = full_doc(scope, event, existing, asset_id, blobs.href(key), described, size, checksum, media_type)
        return self._plan_write(
            scope,
            event,
            record,
            existing,
            doc,
            action,
            described.warnings,
            moved_from=move_source,
            trusted=existing is None and not _describes(described),
        )

    def _plan_write(
        self,
        scope: KeyScope,
        event: StorageEvent,
        record: IngestRecord | None,
        existing: Doc | None,
        doc: Doc,
        action: str,
        warnings: list[str],
        *,
        moved_from: Doc | None,
        trusted: bool = False,
    ) -> Plan:
        """``trusted``: ``doc`` is a new record of the stored shape built from the service's own
        values (``full_doc`` without anything described); it skips the validation pass, as does a
        record identical to the stored one (whose validation would give it back unchanged)."""
        if not (trusted and trusted_shape(doc)) and not (existing is not None and same_content(doc, existing)):
            doc = validated(doc)
        note = "; ".join(warnings) or None
        new_record = record_for(record, "indexed", event, scope.catalog_id, doc["id"], note)
        if existing is not None and same_content(doc, existing):
            unchanged = IngestOutcome(
                scope.key, "unchanged", catalog_id=scope.catalog_id, asset_id=doc["id"], detail=note
            )
            return Plan(unchanged, record=new_record)
        details: dict[str, Any] = {"key": scope.key, "generation": event.generation, "event_id": event.event_id}
        if moved_from is not None:
            details["from"] = (moved_from.get("storage") or {}).get("key")
        if existing is not None and existing.get("status") != "active":
            details["previous_status"] = existing.get("status")
        audit = audit_doc(scope.catalog_id, "asset", doc["id"], action, ACTOR, **details)
        outcome = IngestOutcome(
            scope.key, "indexed", action=action, catalog_id=scope.catalog_id, asset_id=doc["id"], detail=note
        )
        write = AssetWrite(doc, existing.get("rev", 0) if existing else 0)
        return Plan(outcome, record=new_record, write=write, audit=audit, scope=scope)

    # ------------------------------------------------------------------------------ deletes

    def _apply_deleted(self, scope: KeyScope, event: StorageEvent, *, observed: bool) -> IngestOutcome:
        key, catalog_id = scope.key, scope.catalog_id
        # Read, not cached: the deletes of a cleanup must not leave records of a purged catalog.
        active = self.facts.catalog_status(catalog_id, fresh=True) == "active"
        early = delete_precheck(event, catalog_active=active)
        if early is not None:
            return IngestOutcome(key, "skipped", catalog_id=catalog_id, detail=early.detail)
        record = self.facts.ingest_record(event.bucket, key)
        early = order_against_record(event, record, observed=observed, deleting=True)
        if early is not None:
            return IngestOutcome(key, "stale", catalog_id=catalog_id, asset_id=early.asset_id, detail=early.detail)
        current: BlobInfo | None
        try:
            current = self.facts.blobs_of(event.bucket).stat(key)
        except NotFound:
            current = None
        early = order_against_object(current)
        if early is not None:
            return IngestOutcome(key, "stale", catalog_id=catalog_id, detail=early.detail)
        existing, asset_id = self.facts.resolve(scope, event, record)
        generation = tombstone(event, existing)
        decision = decide_delete(event, record, existing, observed=observed, current=current)
        if decision.action == "tombstone":
            self.writer.put_record(
                record_for(
                    record,
                    "deleted",
                    event,
                    catalog_id,
                    existing["id"] if existing else None,
                    None,
                    generation=generation,
                )
            )
            return IngestOutcome(
                key, "deleted", catalog_id=catalog_id, asset_id=asset_id if existing else None, detail=decision.detail
            )
        if decision.action == "stale" or existing is None:
            return IngestOutcome(key, "stale", catalog_id=catalog_id, asset_id=asset_id, detail=decision.detail)
        twin = self.facts.move_target(existing)
        if decide_delete(event, record, existing, observed=observed, current=current, twin=twin).action == "move":
            assert twin is not None
            return self.writer.merge_move(scope, event, record, existing, twin, generation)
        return self.writer.mark_missing(scope, event, record, existing, asset_id, generation)

    # ------------------------------------------------------------------------------ sidecars

    def _apply_sidecar(self, event: StorageEvent) -> IngestOutcome:
        key = event.key
        target = sidecar_target(key)
        scope = parse_key(target)
        if self.facts.catalog_status(scope.catalog_id) == "retired":
            return IngestOutcome(key, "skipped", catalog_id=scope.catalog_id, detail="catalog is retired")
        record = self.facts.ingest_record(event.bucket, key)
        blobs = self.facts.blobs_of(event.bucket)
        try:
            info = blobs.stat(target)
        except NotFound:
            if event.kind == "deleted":
                self.writer.put_record(record_for(record, "deleted", event, scope.catalog_id, None, None))
                return IngestOutcome(key, "deleted", catalog_id=scope.catalog_id, detail=f"sidecar of absent {target}")
            self.writer.put_record(
                record_for(
                    record,
                    "skipped",
                    event,
                    scope.catalog_id,
                    None,
                    f"waiting for {target}: a sidecar is applied when its file arrives",
                )
            )
            return IngestOutcome(key, "skipped", catalog_id=scope.catalog_id, detail=f"waiting for {target}")
        outcome = self._apply_present(scope, StorageEvent.from_blob(info), observed=True)
        _, error = self.facts.read_sidecar(blobs, target) if event.kind != "deleted" else (None, None)
        status: Literal["indexed", "failed", "deleted", "skipped"]
        if event.kind == "deleted":
            status = "deleted"
        elif error:
            status = "failed"
        elif outcome.status in ("indexed", "unchanged"):
            status = "indexed"
        else:
            status = "skipped"
        self.writer.put_record(record_for(record, status, event, scope.catalog_id, outcome.asset_id, error or None))
        reported: OutcomeStatus = "failed" if status == "failed" else outcome.status
        return IngestOutcome(
            key, reported, action="sidecar", catalog_id=scope.catalog_id, asset_id=outcome.asset_id, detail=error
        )

    # ------------------------------------------------------------------------------ catalogs and records

    def forget_catalog(self, catalog_id: str) -> None:
        """Drop what this process remembers of a catalog (after a retire or a purge)."""
        self._cache.forget(("catalog", catalog_id))
        self._cache.forget(("bucket", catalog_id))

    def _ingest_record(self, bucket: str, key: str) -> IngestRecord | None:
        return self.facts.ingest_record(bucket, key)

    def ingest_status(self, key: str, *, bucket: str | None = None) -> IngestRecord:
        """The ingest record of an object key (``NotFound`` when no event for it was ever seen).

        Without ``bucket``: the bucket the key's catalog is bound to (the landing bucket when that
        catalog does not exist)."""
        if bucket is None:
            bucket = self.facts.catalog_bucket(catalog_of_key(key)) or self.blobs.bucket
        try:
            return self.store.get_ingest_record(bucket, key)
        except NotFound:
            raise NotFound(f"no ingest record for {key!r}: no storage event for this key has been seen") from None

    def key_status(self, key: str) -> IngestStatus:
        """``ingest_status`` of any key of the bucket, with the asset its record names (any status)."""
        record = self.ingest_status(key)
        if not (record.catalog_id and record.asset_id):
            return IngestStatus(record)
        asset = self.facts.get_asset(record.catalog_id, record.asset_id)
        return IngestStatus(record, asset, purged=asset is None)

    def catalog_key_status(self, catalog_id: str, key: str) -> IngestStatus:
        """``key_status`` of a key of an active catalog (``NotFound`` otherwise), the key given in full
        (``demo/s2/scene-1/B04.tif``) or below the catalog (``s2/scene-1/B04.tif``)."""
        self._require_active(catalog_id)
        return self.key_status(key if key.startswith(f"{catalog_id}/") else f"{catalog_id}/{key}")

    def recent_records(
        self, catalog_id: str, *, status: str | None = None, limit: int = 100, token: str | None = None
    ) -> Page[IngestRecord]:
        """The ingest records of an active catalog's keys, failures first, then newest first."""
        self._require_active(catalog_id)
        if status is not None and status not in INGEST_STATUSES:
            raise Invalid(f"status must be one of {', '.join(INGEST_STATUSES)}, got {status!r}")
        return self.store.list_ingest_records(catalog_id, status=status, limit=limit, token=token)

    def _require_active(self, catalog_id: str) -> None:
        if self.catalogs is not None:
            self.catalogs.require_active(catalog_id)
        elif self.facts.catalog_status(catalog_id, fresh=True) != "active":
            raise NotFound(f"catalog {catalog_id!r} does not exist or is retired")


def _describes(described: Described) -> bool:
    return bool(described.fields or described.metadata or described.extensions)
