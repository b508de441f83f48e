"""Zero-touch indexing: storage events in, asset records out (DESIGN §5).

Every event source (local folder watcher, Cloud Storage notifications, S3 notifications, the
reconciler, ``dynastore index``) hands ``StorageEvent``s to ``IndexingService.handle``. The
service places the object with the key convention (``domain.events.parse_key``), creates what is
missing (catalog through the catalog service and the ``Provisioner``, collection and item shells),
and writes one asset per object with its size, SHA2-256 multihash, media type, storage coordinates
and the description found in custom object metadata or a ``<file>.meta.json`` sidecar.

Delivery is at least once and out of order, so the rules are:

- **Duplicates**: an event id seen within ``processed_event_ttl_hours`` is dropped
  (``store.claim_event``); and whatever arrives, a write happens only when the record would
  change, so replays leave one asset and one audit entry.
- **Order**: a *reported* event (a payload describing a past change) is compared with what the
  key's ingest record and asset already hold: an older generation never overwrites a newer one,
  and a finalize of a generation that was already deleted does not resurrect it (the ingest
  record is the tombstone). An *observed* event (built from a ``stat`` of the object right now:
  watcher, reconciler, metadata updates, sidecars) is the truth and is applied as is.
- **Deletes** mark the asset ``missing`` (never a user's soft delete), and only when the object
  is really gone. A delete and a finalize of the same bytes (checksum) in the same catalog within
  ``move_window_seconds`` are a **move**, in either order: the asset keeps its id and history and
  gets the new href and scope.
- **Failures** are recorded per key (``IngestRecord`` status ``failed`` with the error) and the
  event is acknowledged; the reconciler retries them. Nothing is dropped silently.

**Buckets.** A catalog's files live in the bucket of its storage binding (``CatalogStorage``): the
landing bucket, or a dedicated one (gcp ``gcp_bucket_per_catalog``). Keys keep the
``{catalog}/...`` convention in either, so the key names the catalog and the event's bucket must
be the one that catalog is bound to. An object of the landing bucket under an unknown catalog
creates it (zero touch); an object of any other bucket is indexed only for the catalog bound to
that bucket, and is otherwise recorded as ``failed`` with nothing else written (a delete there is
skipped: nothing of it can exist). Reads of the object (stat, bytes, sidecar) go to its bucket.
"""

from __future__ import annotations

import contextlib
import logging
import posixpath
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import orjson
from pydantic import ValidationError

from dynastore.config import Settings
from dynastore.domain import time as dtime
from dynastore.domain.asset import HREF_SCHEMES, Asset, AssetFields
from dynastore.domain.audit import AuditEvent
from dynastore.domain.catalog import Catalog, StorageBinding
from dynastore.domain.events import (
    ASSET_ID_METADATA_KEYS,
    KeyScope,
    StorageEvent,
    compare_generations,
    ignored_reason,
    is_sidecar,
    parse_key,
    sidecar_key,
    sidecar_target,
)
from dynastore.domain.filters import And, Compare
from dynastore.domain.ids import ID_PATTERN, slug
from dynastore.domain.search import AssetQuery
from dynastore.errors import Conflict, DynastoreError, Invalid, NotFound
from dynastore.ports import AssetWrite, BlobStore, Doc, IngestRecord, MetadataStore, Provisioner
from dynastore.services import mediatypes
from dynastore.services.catalogs import CatalogStorage

if TYPE_CHECKING:
    from dynastore.services.catalogs import CatalogService

log = logging.getLogger("dynastore.indexing")

ACTOR = "indexer"
STAC_VERSION = "1.0.0"
MAX_SIDECAR_BYTES = 1024 * 1024
CACHE_SECONDS = 1.0  # how long a catalog's status or a collection/item's existence is trusted without a read
API_UPLOAD_GRACE_SECONDS = 5.0  # how long to wait for the API to record a blob it just wrote
WRITE_ATTEMPTS = 5
BATCH_SIZE = 250  # objects per batch write in bulk indexing and reconcile
READ_THREADS = 4  # bulk indexing plans (stat, read, hash, look up) this many objects at once
# With a blob store of local files (``local_reads``), threads pay off only where hashing dominates:
# batches whose files average this size (hashlib releases the GIL; per-object Python work does not).
LARGE_FILE_BYTES = 1024 * 1024

# Descriptive fields storage may set (custom object metadata or sidecar); absent ones keep their value.
DESCRIPTIVE_FIELDS = ("roles", "title", "description", "code", "tags", "datetime", "start_datetime", "end_datetime")
_LIST_FIELDS = frozenset({"roles", "tags"})
_SIDECAR_ONLY_FIELDS = ("type", "bbox", "alternate")
# Keys that are never copied into `metadata` (the service or storage owns them).
_RESERVED_KEYS = frozenset(
    {
        *ASSET_ID_METADATA_KEYS,
        "id",
        "href",
        "file:size",
        "file:checksum",
        "catalog_id",
        "collection_id",
        "item_id",
        "status",
        "created",
        "updated",
        "deleted_at",
        "storage",
        "rev",
        "version",
        "latest",
    }
)
_STORAGE_METADATA_PREFIXES = ("x-goog-meta-", "x-amz-meta-", "goog-reserved-")
_VOLATILE = frozenset({"updated", "rev"})
_ID_RE = re.compile(ID_PATTERN)

OutcomeStatus = Literal["indexed", "unchanged", "deleted", "skipped", "stale", "duplicate", "failed"]


@dataclass(frozen=True)
class IngestOutcome:
    """What handling one event did (returned to the caller; the ingest record is the durable trace)."""

    key: str
    status: OutcomeStatus
    action: str | None = None  # index, update, move, missing, merge
    catalog_id: str | None = None
    asset_id: str | None = None
    detail: str | None = None

    def to_doc(self) -> Doc:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class Described:
    """What custom object metadata and the sidecar say about a file."""

    fields: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    """What indexing one object decided: the outcome and the writes it needs (none when unchanged)."""

    outcome: IngestOutcome
    record: IngestRecord | None = None
    write: AssetWrite | None = None
    audit: Doc | None = None
    scope: KeyScope | None = None


@dataclass
class _Prefetched:
    """What planning a batch read up front: ingest records by (bucket, key), asset documents by
    (catalog, id); None means "read, and absent". What is not in these maps is read on demand."""

    records: dict[tuple[str, str], IngestRecord | None] = field(default_factory=dict)
    assets: dict[tuple[str, str], Doc | None] = field(default_factory=dict)


@dataclass
class _Cache:
    """Existence facts about catalogs, collections and items, trusted for a few seconds."""

    seen: dict[tuple[str, ...], tuple[float, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: tuple[str, ...]) -> str | None:
        with self.lock:
            entry = self.seen.get(key)
        if entry is None or time.monotonic() - entry[0] > CACHE_SECONDS:
            return None
        return entry[1]

    def put(self, key: tuple[str, ...], value: str) -> None:
        with self.lock:
            if len(self.seen) > 100_000:
                self.seen.clear()
            self.seen[key] = (time.monotonic(), value)

    def forget(self, key: tuple[str, ...]) -> None:
        with self.lock:
            self.seen.pop(key, None)


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
        self._cache = _Cache()
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
        try:
            info = self.blobs.stat(key)
        except NotFound:
            event = StorageEvent(kind="deleted", bucket=self.blobs.bucket, key=key, event_time=dtime.now_iso())
            return self.apply(event, observed=True)
        except DynastoreError as exc:
            return self._failed(key, exc, None)
        return self.apply(StorageEvent.from_blob(info), observed=True)

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
            for key, described in zip(
                all_keys[start : start + chunk_size],
                self._map(self._stat_event, all_keys[start : start + chunk_size], threads=self._stat_threads()),
                strict=True,
            ):
                if isinstance(described, StorageEvent):
                    events.append(described)
                else:
                    outcomes.append(self._failed(key, described, key.split("/", 1)[0] if "/" in key else None))
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
        anything unusual follow one by one, in order. If the batch write meets a concurrent writer,
        each event is applied on its own (the rules are the same, only slower).
        """
        outcomes: dict[int, IngestOutcome] = {}
        planned: list[tuple[int, StorageEvent, _Plan]] = []
        one_by_one: list[int] = []
        plain: list[int] = []
        for index, event in enumerate(events):
            key = event.key
            if event.kind != "finalized" or is_sidecar(key) or ignored_reason(key) is not None:
                one_by_one.append(index)
            else:
                plain.append(index)

        scopes: dict[int, KeyScope | Exception] = {}
        for index in plain:
            try:
                scopes[index] = parse_key(events[index].key)
            except Invalid as exc:  # recorded by plan_one
                scopes[index] = exc
        reads = self._prefetch(
            [(events[index], scope) for index, scope in scopes.items() if isinstance(scope, KeyScope)]
        )

        def plan_one(index: int) -> _Plan | Exception:
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
                catalog_id = key.split("/", 1)[0] if "/" in key else None
                outcomes[index] = self._failed(key, result, catalog_id, bucket=events[index].bucket)
            else:
                planned.append((index, events[index], result))
        ids = [plan.write.doc["id"] for _, _, plan in planned if plan.write is not None]
        try:
            if len(ids) != len(set(ids)):
                raise Conflict("two objects of the batch resolve to one asset")
            self._execute([plan for _, _, plan in planned])
            for index, _, plan in planned:
                outcomes[index] = plan.outcome
        except Exception as exc:
            log.info("batch of %d fell back to one by one: %s", len(planned), exc)
            for index, event, _ in planned:
                outcomes[index] = self.apply(event, observed=observed)
        for index in one_by_one:
            outcomes[index] = self.apply(events[index], observed=observed)
        return [outcomes[i] for i in range(len(events))]

    def _stat_event(self, key: str) -> StorageEvent | Exception:
        try:
            return StorageEvent.from_blob(self.blobs.stat(key))
        except NotFound:
            return StorageEvent(kind="deleted", bucket=self.blobs.bucket, key=key, event_time=dtime.now_iso())
        except DynastoreError as exc:
            return exc

    def _prefetch(self, events: Sequence[tuple[StorageEvent, KeyScope]]) -> _Prefetched:
        """Read in a few calls what planning these events looks up per object: their ingest records
        (when the store reads them in bulk, ``get_ingest_records``) and the assets their keys may
        already have (``get_assets``). A failed read leaves planning to read one by one."""
        reads = _Prefetched()
        if not events:
            return reads
        try:
            get_records = getattr(self.store, "get_ingest_records", None)
            if callable(get_records):
                keys_by_bucket: dict[str, list[str]] = {}
                for event, _ in events:
                    keys_by_bucket.setdefault(event.bucket, []).append(event.key)
                for bucket, keys in keys_by_bucket.items():
                    found = {record.key: record for record in get_records(bucket, keys)}
                    for key in keys:
                        reads.records[(bucket, key)] = found.get(key)
            ids_by_catalog: dict[str, dict[str, None]] = {}
            for event, scope in events:
                ids = ids_by_catalog.setdefault(scope.catalog_id, {})
                tagged = _tagged_id(event.metadata)
                if tagged:
                    ids[tagged] = None
                record = reads.records.get((event.bucket, event.key))
                if record is not None and record.asset_id and record.catalog_id in (None, scope.catalog_id):
                    ids[record.asset_id] = None
                ids[scope.asset_id] = None
            for catalog_id, wanted in ids_by_catalog.items():
                docs = {doc["id"]: doc for doc in self.store.get_assets(catalog_id, list(wanted))}
                for asset_id in wanted:
                    reads.assets[(catalog_id, asset_id)] = docs.get(asset_id)
        except DynastoreError as exc:
            log.info("bulk reads of a batch failed, planning reads one by one: %s", exc)
            return _Prefetched()
        return reads

    def _stat_threads(self) -> int:
        """Threads for stat-ing a batch: one where a stat is a local system call."""
        return 1 if getattr(self.blobs, "local_reads", False) else self.read_threads

    def _plan_threads(self, events: Sequence[StorageEvent]) -> int:
        """Threads for planning a batch. Remote reads overlap on threads; local reads of small files
        do not gain (the work is Python, threads only take turns on the GIL), large files do (hashing)."""
        if not getattr(self.blobs, "local_reads", False) or not events:
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
        catalog_id = key.split("/", 1)[0] if "/" in key else None
        try:
            if event.kind == "deleted" and not self._bucket_known(event.bucket, catalog_id):
                return IngestOutcome(
                    key, "skipped", catalog_id=catalog_id, detail=f"no catalog is bound to bucket {event.bucket!r}"
                )
            self._check_bucket(event.bucket, catalog_id)
            if is_sidecar(key):
                return self._retry(lambda: self._apply_sidecar(event))
            scope = parse_key(key)
            if event.kind == "deleted":
                return self._retry(lambda: self._apply_deleted(scope, event, observed=observed))
            if event.kind == "metadata-updated":
                # The payload may be older than the object's current metadata: read what holds now.
                try:
                    info = self._blobs(event.bucket).stat(key)
                except NotFound:
                    return IngestOutcome(key, "skipped", catalog_id=scope.catalog_id, detail="object no longer exists")
                event = StorageEvent.from_blob(info, event_id=event.event_id)
                observed = True
            present = event
            return self._retry(lambda: self._apply_present(scope, present, observed=observed))
        except Exception as exc:  # every failure is recorded, never dropped
            return self._failed(key, exc, catalog_id, bucket=event.bucket)

    # ------------------------------------------------------------------------------ present objects

    def _apply_present(
        self, scope: KeyScope, event: StorageEvent, *, observed: bool, sidecar_listed: bool | None = None
    ) -> IngestOutcome:
        plan = self._plan_present(scope, event, observed=observed, sidecar_listed=sidecar_listed)
        self._execute([plan])
        return plan.outcome

    def _plan_present(
        self,
        scope: KeyScope,
        event: StorageEvent,
        *,
        observed: bool,
        sidecar_listed: bool | None = None,
        reads: _Prefetched | None = None,
    ) -> _Plan:
        """Decide what an object present in storage means for its record (reads only, except that a
        first object of the landing bucket creates its catalog). ``reads``: what the batch read up front."""
        key = scope.key
        self._check_bucket(event.bucket, scope.catalog_id)  # before: another bucket creates no catalog
        if not self._ensure_catalog(scope.catalog_id):
            return _Plan(IngestOutcome(key, "skipped", catalog_id=scope.catalog_id, detail="catalog is retired"))
        self._check_bucket(event.bucket, scope.catalog_id)  # after: a catalog just made may have its own bucket
        if reads is not None and (event.bucket, key) in reads.records:
            record = reads.records[(event.bucket, key)]
        else:
            record = self._ingest_record(event.bucket, key)
        if not observed and record is not None:
            order = compare_generations(event.generation, record.generation)
            if order is not None and order < 0:
                return _Plan(
                    IngestOutcome(
                        key,
                        "stale",
                        catalog_id=scope.catalog_id,
                        asset_id=record.asset_id,
                        detail=f"generation {event.generation} is older than {record.generation}",
                    )
                )
            if record.status == "deleted" and order == 0:
                return _Plan(
                    IngestOutcome(
                        key,
                        "stale",
                        catalog_id=scope.catalog_id,
                        asset_id=record.asset_id,
                        detail=f"generation {event.generation} was deleted",
                    )
                )

        existing, asset_id = self._resolve(scope, event, record, reads)
        if existing is not None and not observed:
            order = compare_generations(event.generation, _storage(existing).get("generation"))
            if order is not None and order < 0:
                newer = _storage(existing).get("generation")
                return _Plan(
                    IngestOutcome(
                        key,
                        "stale",
                        catalog_id=scope.catalog_id,
                        asset_id=asset_id,
                        detail=f"the asset holds a newer generation {newer}",
                    )
                )
        if existing is not None and existing.get("status") == "deleted" and _same_bytes(existing, event):
            # A user soft-deleted this asset: the same bytes do not bring it back.
            note = "the asset is soft-deleted"
            return _Plan(
                IngestOutcome(key, "unchanged", catalog_id=scope.catalog_id, asset_id=asset_id, detail=note),
                record=self._record_for(record, "indexed", event, scope.catalog_id, asset_id, note),
            )
        unchanged_bytes = existing is not None and existing.get("status") == "active" and _same_bytes(existing, event)
        if unchanged_bytes and not observed:
            # A report about the bytes this record already describes (a redelivery, or a finalize
            # overtaken by a metadata update): nothing new, and never older metadata over newer.
            return _Plan(
                IngestOutcome(key, "unchanged", catalog_id=scope.catalog_id, asset_id=asset_id),
                record=self._record_for(record, "indexed", event, scope.catalog_id, asset_id, None),
            )

        blobs = self._blobs(event.bucket)
        sidecar, sidecar_error = self._read_sidecar(blobs, key) if sidecar_listed is not False else (None, None)
        described = describe(event.metadata, sidecar)
        if sidecar_error:
            described.warnings.append(sidecar_error)
        if existing is not None and unchanged_bytes:
            # Observed now: only what storage says about these bytes may have changed.
            doc = self._descriptive_update(existing, described, event)
            return self._plan_write(scope, event, record, existing, doc, "update", described.warnings, moved_from=None)

        inspection = self._inspect(key, existing, event)
        if inspection is None:
            return _Plan(
                IngestOutcome(key, "skipped", catalog_id=scope.catalog_id, detail="object vanished while reading it")
            )
        size, checksum, media_type = inspection
        moved_from: Doc | None = None
        action = "update" if existing is not None else "index"
        if existing is None and size > 0:
            moved_from = self._move_source(scope.catalog_id, checksum, key, event.bucket)
            if moved_from is not None:
                existing, asset_id, action = moved_from, moved_from["id"], "move"
        doc = self._full_doc(scope, event, existing, asset_id, described, size, checksum, media_type)
        # A new record built only from the service's own values has the stored shape already.
        trusted = existing is None and not (described.fields or described.metadata or described.extensions)
        return self._plan_write(
            scope, event, record, existing, doc, action, described.warnings, moved_from=moved_from, trusted=trusted
        )

    def _resolve(
        self, scope: KeyScope, event: StorageEvent, record: IngestRecord | None, reads: _Prefetched | None = None
    ) -> tuple[Doc | None, str]:
        """The asset this key already has (any status), or None and the id a new one gets."""
        tagged = _tagged_id(event.metadata)
        candidates: list[str] = []
        if tagged:
            candidates.append(tagged)
        if record is not None and record.asset_id and record.catalog_id in (None, scope.catalog_id):
            candidates.append(record.asset_id)
        derived = scope.asset_id
        candidates.append(derived)
        taken: set[str] = set()
        for candidate in dict.fromkeys(candidates):
            if reads is not None and (scope.catalog_id, candidate) in reads.assets:
                doc = reads.assets[(scope.catalog_id, candidate)]
            else:
                doc = self._get_asset(scope.catalog_id, candidate)
            if doc is None and candidate == tagged and _fresh(event):
                doc = self._await_api_record(scope.catalog_id, candidate)
            if doc is None:
                continue
            if _storage(doc).get("key") == scope.key and _storage(doc).get("bucket", event.bucket) == event.bucket:
                return doc, candidate
            taken.add(candidate)
        for fresh_id in (tagged, derived):
            if fresh_id and fresh_id not in taken:
                return None, fresh_id
        # The derived id belongs to another object (an asset moved away from this key): a second id.
        return None, slug(f"{scope.relative}@{event.generation or dtime.now_iso()}")

    def _await_api_record(self, catalog_id: str, asset_id: str) -> Doc | None:
        """The API's upload writes the blob, then the record: give it a moment rather than racing it."""
        deadline = time.monotonic() + API_UPLOAD_GRACE_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.05)
            doc = self._get_asset(catalog_id, asset_id)
            if doc is not None:
                return doc
        return None

    def _inspect(self, key: str, existing: Doc | None, event: StorageEvent) -> tuple[int, str, str] | None:
        """(size, checksum, media type): reused when the record holds these very bytes, else streamed once."""
        if existing is not None and _same_bytes(existing, event) and existing.get("file:checksum"):
            size = int(existing.get("file:size") or event.size or 0)
            return size, existing["file:checksum"], existing.get("type") or mediatypes.OCTET_STREAM
        try:
            with self._blobs(event.bucket).open(key) as reader:
                inspection = mediatypes.inspect_stream(reader)
        except NotFound:
            return None
        media_type = mediatypes.detect(key, inspection.head, event.content_type)
        return inspection.size, inspection.checksum, media_type

    def _full_doc(
        self,
        scope: KeyScope,
        event: StorageEvent,
        existing: Doc | None,
        asset_id: str,
        described: Described,
        size: int,
        checksum: str,
        media_type: str,
    ) -> Doc:
        now = dtime.now_iso()
        href = self._blobs(event.bucket).href(scope.key)
        if existing is None:
            # every field of ``Asset.to_doc()``, in its order, with its defaults
            doc: Doc = {
                "id": asset_id,
                "href": href,
                "type": media_type,
                "roles": mediatypes.default_roles(scope.key, media_type),
                "title": None,
                "description": None,
                "code": None,
                "tags": [],
                "metadata": {},
                "file:size": size,
                "file:checksum": checksum,
                "datetime": None,
                "start_datetime": None,
                "end_datetime": None,
                "version": None,
                "latest": None,
                "alternate": {},
                "bbox": None,
                "catalog_id": scope.catalog_id,
                "collection_id": scope.collection_id,
                "item_id": scope.item_id,
                "status": "active",
                "created": now,
                "updated": now,
                "deleted_at": None,
                "storage": _storage_doc(event),
                "rev": 0,
            }
            return _apply_described(doc, described)
        doc = dict(existing)
        doc.update(
            {
                "id": asset_id,
                "catalog_id": scope.catalog_id,
                "collection_id": scope.collection_id,
                "item_id": scope.item_id,
                "href": href,
                "type": media_type,
                "file:size": size,
                "file:checksum": checksum,
                "storage": _storage_doc(event),
                "status": "active",
                "deleted_at": None,
                "created": existing.get("created") or now,
                "updated": now,
            }
        )
        return _apply_described(doc, described)

    def _descriptive_update(self, existing: Doc, described: Described, event: StorageEvent) -> Doc:
        doc = _apply_described(dict(existing), described)
        storage = {**_storage(existing), **{k: v for k, v in _storage_doc(event).items() if v is not None}}
        doc["storage"] = storage
        # A metadata-only change is a change: `export ?since=` must see it.
        doc["updated"] = dtime.now_iso()
        return doc

    def _move_source(self, catalog_id: str, checksum: str, key: str, bucket: str) -> Doc | None:
        """A ``missing`` asset of the same bytes in this catalog and bucket, gone within the move window."""
        window = self.settings.move_window_seconds
        if window <= 0 or self._cache.get(("no-missing", catalog_id)) is not None:
            return None
        since = dtime.isoformat(dtime.utcnow() - _seconds(window))
        query = AssetQuery(
            catalog_ids=(catalog_id,),
            status=("missing",),
            filter=And((Compare("eq", "file:checksum", checksum), Compare("gte", "deleted_at", since))),
            limit=50,
        )
        if self.store.count_assets(query) == 0:  # cheap (status index); searching is not
            self._cache.put(("no-missing", catalog_id), "none")
            return None
        candidates = [
            doc
            for doc in self.store.search_assets(query).items
            if _storage(doc).get("key") != key and _storage(doc).get("bucket") in (None, bucket)
        ]
        if not candidates:
            return None
        return max(candidates, key=lambda d: (d.get("deleted_at") or "", d["id"]))

    # ------------------------------------------------------------------------------ writes

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
    ) -> _Plan:
        """``trusted``: ``doc`` is a new record of the stored shape built from the service's own
        values (``_full_doc`` without anything described); it skips the validation pass, as does a
        record identical to the stored one (whose validation would give it back unchanged)."""
        if not (trusted and _trusted_shape(doc)) and not (existing is not None and _same_content(doc, existing)):
            doc = _validated(doc)
        note = "; ".join(warnings) or None
        new_record = self._record_for(record, "indexed", event, scope.catalog_id, doc["id"], note)
        if existing is not None and _same_content(doc, existing):
            unchanged = IngestOutcome(
                scope.key, "unchanged", catalog_id=scope.catalog_id, asset_id=doc["id"], detail=note
            )
            return _Plan(unchanged, record=new_record)
        details: dict[str, Any] = {"key": scope.key, "generation": event.generation, "event_id": event.event_id}
        if moved_from is not None:
            details["from"] = _storage(moved_from).get("key")
        if existing is not None and existing.get("status") != "active":
            details["previous_status"] = existing.get("status")
        audit = _audit(scope.catalog_id, doc["id"], action, **details)
        outcome = IngestOutcome(
            scope.key, "indexed", action=action, catalog_id=scope.catalog_id, asset_id=doc["id"], detail=note
        )
        write = AssetWrite(doc, existing.get("rev", 0) if existing else 0)
        return _Plan(outcome, record=new_record, write=write, audit=audit, scope=scope)

    def _execute(self, plans: Sequence[_Plan]) -> None:
        """Write what the plans decided: shells, then every asset in one atomic call, then ingest records."""
        writes = [plan for plan in plans if plan.write is not None]
        for plan in writes:
            if plan.scope is not None and plan.write is not None:
                self._ensure_shells(plan.scope, plan.write.doc)
        if writes:
            self.store.write_assets([p.write for p in writes if p.write], audits=[p.audit for p in writes if p.audit])
        records = [plan.record for plan in plans if plan.record is not None]
        if not records:
            return
        put_records = getattr(self.store, "put_ingest_records", None)
        if callable(put_records) and len(records) > 1:
            put_records(records)
            return
        batch = getattr(self.store, "batch", None)
        with batch() if callable(batch) and len(records) > 1 else contextlib.nullcontext():
            for new_record in records:
                self.store.put_ingest_record(new_record)

    def _record_for(
        self,
        current: IngestRecord | None,
        status: Literal["indexed", "failed", "deleted", "skipped"],
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

    def _put_record(
        self,
        current: IngestRecord | None,
        status: Literal["indexed", "failed", "deleted", "skipped"],
        event: StorageEvent,
        catalog_id: str | None,
        asset_id: str | None,
        error: str | None,
        *,
        generation: str | None = None,
    ) -> None:
        new_record = self._record_for(current, status, event, catalog_id, asset_id, error, generation=generation)
        if new_record is not None:
            self.store.put_ingest_record(new_record)

    def _failed(self, key: str, exc: Exception, catalog_id: str | None, *, bucket: str | None = None) -> IngestOutcome:
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

    @staticmethod
    def _retry(step: Callable[[], IngestOutcome]) -> IngestOutcome:
        """Re-run a read-decide-write step when a concurrent writer got in between (``Conflict``)."""
        for attempt in range(WRITE_ATTEMPTS):
            try:
                return step()
            except Conflict:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------------------ deletes

    def _apply_deleted(self, scope: KeyScope, event: StorageEvent, *, observed: bool) -> IngestOutcome:
        key = scope.key
        # Read, not cached: the deletes of a cleanup must not leave records of a purged catalog.
        if self._catalog_status(scope.catalog_id, fresh=True) != "active":
            return IngestOutcome(key, "skipped", catalog_id=scope.catalog_id, detail="no active catalog")
        if event.replaced:
            return IngestOutcome(
                key,
                "skipped",
                catalog_id=scope.catalog_id,
                detail="overwritten: the new generation's finalize updates the asset",
            )
        record = self._ingest_record(event.bucket, key)
        if not observed and record is not None:
            order = compare_generations(event.generation, record.generation)
            if order is not None and order < 0:
                return IngestOutcome(
                    key,
                    "stale",
                    catalog_id=scope.catalog_id,
                    asset_id=record.asset_id,
                    detail=f"generation {event.generation} is older than {record.generation}",
                )
        try:
            current = self._blobs(event.bucket).stat(key)
        except NotFound:
            current = None
        if current is not None:
            return IngestOutcome(
                key, "stale", catalog_id=scope.catalog_id, detail=f"the object exists (generation {current.generation})"
            )
        existing, asset_id = self._resolve(scope, event, record)
        tombstone = event.generation or (_storage(existing).get("generation") if existing else None)
        if existing is None or existing.get("status") != "active":
            self._put_record(
                record,
                "deleted",
                event,
                scope.catalog_id,
                existing["id"] if existing else None,
                None,
                generation=tombstone,
            )
            return IngestOutcome(
                key,
                "deleted",
                catalog_id=scope.catalog_id,
                asset_id=asset_id if existing else None,
                detail=None if existing else "no asset",
            )
        order = compare_generations(event.generation, _storage(existing).get("generation"))
        if not observed and order is not None and order < 0:
            return IngestOutcome(
                key,
                "stale",
                catalog_id=scope.catalog_id,
                asset_id=asset_id,
                detail="the asset holds a newer generation",
            )
        twin = self._move_target(existing)
        now = dtime.now_iso()
        if twin is not None:
            return self._merge_move(scope, event, record, existing, twin, tombstone)
        doc = {**existing, "status": "missing", "deleted_at": now, "updated": now}
        self._cache.forget(("no-missing", scope.catalog_id))
        audit = _audit(scope.catalog_id, asset_id, "missing", key=key, generation=tombstone, event_id=event.event_id)
        self.store.write_assets([AssetWrite(doc, existing.get("rev", 0))], audits=[audit])
        self._put_record(record, "deleted", event, scope.catalog_id, asset_id, None, generation=tombstone)
        return IngestOutcome(key, "deleted", action="missing", catalog_id=scope.catalog_id, asset_id=asset_id)

    def _move_target(self, source: Doc) -> Doc | None:
        """A copy of ``source``'s bytes indexed moments ago under another key (copy, then delete = move)."""
        window = self.settings.move_window_seconds
        checksum = source.get("file:checksum")
        if window <= 0 or not checksum or not source.get("file:size"):
            return None
        since = dtime.isoformat(dtime.utcnow() - _seconds(window))
        query = AssetQuery(
            catalog_ids=(source["catalog_id"],),
            status=("active",),
            filter=And((Compare("eq", "file:checksum", checksum), Compare("gte", "created", since))),
            limit=50,
        )
        source_key = _storage(source).get("key")
        bucket = _storage(source).get("bucket") or self.blobs.bucket
        candidates = []
        for doc in self.store.search_assets(query).items:
            storage = _storage(doc)
            if doc["id"] == source["id"] or storage.get("key") == source_key:
                continue
            if doc.get("created", "") < source.get("created", ""):
                continue
            if storage.get("bucket") not in (None, bucket) or not storage.get("key"):
                continue
            if self._exists(bucket, storage["key"]):
                candidates.append(doc)
        if not candidates:
            return None
        return max(candidates, key=lambda d: (d.get("created") or "", d["id"]))

    def _merge_move(
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
        now = dtime.now_iso()
        moved = {
            **source,
            **{k: twin.get(k) for k in ("href", "collection_id", "item_id", "storage", "type", "file:size")},
            "status": "active",
            "deleted_at": None,
            "updated": now,
        }
        for name in (*DESCRIPTIVE_FIELDS, "metadata"):
            if twin.get(name) not in (None, [], {}) and name not in ("roles",):
                moved[name] = twin[name]
        retired = {
            **twin,
            "status": "deleted",
            "deleted_at": now,
            "updated": now,
            "metadata": {**(twin.get("metadata") or {}), "merged_into": source["id"]},
        }
        to_key = _storage(twin).get("key")
        audits = [
            _audit(scope.catalog_id, source["id"], "move", key=to_key, **{"from": scope.key}, event_id=event.event_id),
            _audit(scope.catalog_id, twin["id"], "merge", into=source["id"], key=to_key),
        ]
        self.store.write_assets(
            [AssetWrite(_validated(moved), source.get("rev", 0)), AssetWrite(_validated(retired), twin.get("rev", 0))],
            audits=audits,
        )
        self._put_record(record, "deleted", event, scope.catalog_id, source["id"], None, generation=tombstone)
        if to_key:
            to_bucket = _storage(twin).get("bucket") or event.bucket
            target_event = StorageEvent(
                kind="finalized", bucket=to_bucket, key=to_key, generation=_storage(twin).get("generation")
            )
            self._put_record(
                self._ingest_record(to_bucket, to_key),
                "indexed",
                target_event,
                scope.catalog_id,
                source["id"],
                None,
            )
        with contextlib.suppress(NotFound):
            audit = _audit(scope.catalog_id, twin["id"], "hard_delete", merged_into=source["id"])
            self.store.delete_asset(scope.catalog_id, twin["id"], audit=audit)
        return IngestOutcome(
            scope.key,
            "indexed",
            action="move",
            catalog_id=scope.catalog_id,
            asset_id=source["id"],
            detail=f"moved to {to_key}",
        )

    # ------------------------------------------------------------------------------ sidecars

    def _apply_sidecar(self, event: StorageEvent) -> IngestOutcome:
        key = event.key
        target = sidecar_target(key)
        scope = parse_key(target)
        if self._catalog_status(scope.catalog_id) == "retired":
            return IngestOutcome(key, "skipped", catalog_id=scope.catalog_id, detail="catalog is retired")
        record = self._ingest_record(event.bucket, key)
        blobs = self._blobs(event.bucket)
        try:
            info = blobs.stat(target)
        except NotFound:
            if event.kind == "deleted":
                self._put_record(record, "deleted", event, scope.catalog_id, None, None)
                return IngestOutcome(key, "deleted", catalog_id=scope.catalog_id, detail=f"sidecar of absent {target}")
            self._put_record(
                record,
                "skipped",
                event,
                scope.catalog_id,
                None,
                f"waiting for {target}: a sidecar is applied when its file arrives",
            )
            return IngestOutcome(key, "skipped", catalog_id=scope.catalog_id, detail=f"waiting for {target}")
        outcome = self._apply_present(scope, StorageEvent.from_blob(info), observed=True)
        _, error = self._read_sidecar(blobs, target) if event.kind != "deleted" else (None, None)
        if event.kind == "deleted":
            status: Literal["indexed", "failed", "deleted", "skipped"] = "deleted"
        elif error:
            status = "failed"
        elif outcome.status in ("indexed", "unchanged"):
            status = "indexed"
        else:
            status = "skipped"
        self._put_record(record, status, event, scope.catalog_id, outcome.asset_id, error or None)
        reported: OutcomeStatus = "failed" if status == "failed" else outcome.status
        return IngestOutcome(
            key,
            reported,
            action="sidecar",
            catalog_id=scope.catalog_id,
            asset_id=outcome.asset_id,
            detail=error,
        )

    @staticmethod
    def _read_sidecar(blobs: BlobStore, key: str) -> tuple[Doc | None, str | None]:
        """The sidecar of ``key`` as a JSON object (None when there is none) and a parse error, if any."""
        name = sidecar_key(key)
        try:
            with blobs.open(name) as reader:
                raw = reader.read(MAX_SIDECAR_BYTES + 1)
        except NotFound:
            return None, None
        if len(raw) > MAX_SIDECAR_BYTES:
            return None, f"sidecar {name} is larger than {MAX_SIDECAR_BYTES} bytes; ignored"
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            return None, f"sidecar {name} is not valid JSON ({exc}); ignored"
        if not isinstance(value, dict):
            return None, f"sidecar {name} must hold a JSON object; ignored"
        return value, None

    # ------------------------------------------------------------------------------ catalogs and shells

    def forget_catalog(self, catalog_id: str) -> None:
        """Drop what this process remembers of a catalog (after a retire or a purge)."""
        self._cache.forget(("catalog", catalog_id))
        self._cache.forget(("bucket", catalog_id))

    def _catalog_status(self, catalog_id: str, *, fresh: bool = False) -> str | None:
        cached = None if fresh else self._cache.get(("catalog", catalog_id))
        if cached is not None:
            return cached
        doc = self._read_catalog(catalog_id)
        return None if doc is None else str(doc.get("status") or "active")

    def _read_catalog(self, catalog_id: str) -> Doc | None:
        """The catalog record (None when absent); remembers its status and bucket for a moment."""
        try:
            doc = self.store.get_catalog(catalog_id)
        except (NotFound, Invalid):
            return None
        self._cache.put(("catalog", catalog_id), str(doc.get("status") or "active"))
        self._cache.put(("bucket", catalog_id), self.storage.bucket_of(doc))
        return doc

    def _catalog_bucket(self, catalog_id: str | None) -> str | None:
        """The bucket a catalog's binding names (None: no such catalog)."""
        if not catalog_id:
            return None
        cached = self._cache.get(("bucket", catalog_id))
        if cached is not None:
            return cached
        doc = self._read_catalog(catalog_id)
        return None if doc is None else self.storage.bucket_of(doc)

    def _bucket_known(self, bucket: str, catalog_id: str | None) -> bool:
        """The landing bucket, or the bucket the key's catalog is bound to."""
        return self.storage.is_landing(bucket) or self._catalog_bucket(catalog_id) == bucket

    def _check_bucket(self, bucket: str, catalog_id: str | None) -> None:
        """``Invalid`` unless ``bucket`` may hold the key's catalog: the bucket it is bound to, or
        the landing bucket for a catalog that does not exist yet (the key convention creates it)."""
        bound = self._catalog_bucket(catalog_id)
        if bound is None:
            if self.storage.is_landing(bucket):
                return
            whose = f"catalog {catalog_id!r}, which does not exist" if catalog_id else "any catalog"
            raise Invalid(
                f"bucket {bucket!r} is not the landing bucket {self.blobs.bucket!r} nor the bucket of {whose}; "
                "nothing was indexed"
            )
        if bucket != bound:
            prefix = f"{catalog_id}/"
            raise Invalid(
                f"catalog {catalog_id!r} keeps its files in bucket {bound!r} (under {prefix}), not in {bucket!r}; "
                f"this object was not indexed: put it under {prefix} in {bound!r}"
            )

    def _blobs(self, bucket: str) -> BlobStore:
        """The store of an event's bucket (checked by ``_check_bucket`` first)."""
        return self.storage.for_bucket(bucket)

    def _ensure_catalog(self, catalog_id: str) -> bool:
        """True when the catalog is active (created now if missing), False when it is retired."""
        status = self._catalog_status(catalog_id)
        if status is None:
            self._create_catalog(catalog_id)
            self._cache.forget(("catalog", catalog_id))
            status = self._catalog_status(catalog_id)
        return status == "active"

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
            audit = AuditEvent(
                catalog_id=catalog_id,
                record_type="catalog",
                record_id=catalog_id,
                action="create",
                actor=ACTOR,
                details={"source": "indexing"},
            ).to_doc()
            self.store.put_catalog(catalog.to_doc(), expect_rev=0, audit=audit)
            log.info("created catalog %s for its first file", catalog_id)
        except Conflict:
            pass  # created concurrently (or retired): the caller re-reads its status

    def _ensure_shells(self, scope: KeyScope, doc: Doc) -> None:
        if scope.collection_id is None:
            return
        collection_key = ("collection", scope.catalog_id, scope.collection_id)
        if self._cache.get(collection_key) is None:
            self._put_shell(
                collection_key,
                lambda: self.store.get_collection(scope.catalog_id, scope.collection_id or ""),
                lambda: self._create_collection(scope),
            )
        if scope.item_id is None:
            return
        item_key = ("item", scope.catalog_id, scope.collection_id, scope.item_id)
        if self._cache.get(item_key) is None:
            self._put_shell(
                item_key,
                lambda: self.store.get_item(scope.catalog_id, scope.collection_id or "", scope.item_id or ""),
                lambda: self._create_item(scope, doc),
            )

    def _put_shell(self, cache_key: tuple[str, ...], read: Callable[[], Doc], create: Callable[[], None]) -> None:
        try:
            read()
        except NotFound:
            with contextlib.suppress(Conflict):  # created concurrently
                create()
        self._cache.put(cache_key, "present")

    def _create_collection(self, scope: KeyScope) -> None:
        collection_id = scope.collection_id or ""
        now = dtime.now_iso()
        doc = {
            "type": "Collection",
            "stac_version": STAC_VERSION,
            "stac_extensions": [],
            "id": collection_id,
            "title": collection_id,
            "description": f"Collection {collection_id}, created by zero-touch indexing from folder "
            f"{scope.catalog_id}/{scope.key.split('/')[1]}/",
            "license": "other",
            "extent": {"spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]}, "temporal": {"interval": [[None, None]]}},
            "links": [],
            "created": now,
            "updated": now,
            "catalog_id": scope.catalog_id,
        }
        audit = _audit(scope.catalog_id, collection_id, "create", record_type="collection", source="indexing")
        self.store.put_collection(scope.catalog_id, doc, expect_rev=0, audit=audit)

    def _create_item(self, scope: KeyScope, asset: Doc) -> None:
        item_id = scope.item_id or ""
        now = dtime.now_iso()
        properties: Doc = {"created": now, "updated": now}
        if asset.get("start_datetime") and asset.get("end_datetime") and not asset.get("datetime"):
            properties.update(datetime=None, start_datetime=asset["start_datetime"], end_datetime=asset["end_datetime"])
        else:
            properties["datetime"] = asset.get("datetime") or asset.get("created") or now
        doc: Doc = {
            "type": "Feature",
            "stac_version": STAC_VERSION,
            "stac_extensions": [],
            "id": item_id,
            "collection": scope.collection_id,
            "geometry": None,
            "properties": properties,
            "links": [],
            "catalog_id": scope.catalog_id,
        }
        audit = _audit(
            scope.catalog_id,
            item_id,
            "create",
            record_type="item",
            source="indexing",
            collection_id=scope.collection_id,
        )
        self.store.put_item(scope.catalog_id, doc, expect_rev=0, audit=audit)

    # ------------------------------------------------------------------------------ small reads

    def _get_asset(self, catalog_id: str, asset_id: str) -> Doc | None:
        try:
            return self.store.get_asset(catalog_id, asset_id)
        except NotFound:
            return None

    def _ingest_record(self, bucket: str, key: str) -> IngestRecord | None:
        try:
            return self.store.get_ingest_record(bucket, key)
        except NotFound:
            return None

    def _exists(self, bucket: str, key: str) -> bool:
        try:
            self._blobs(bucket).stat(key)
        except NotFound:
            return False
        return True

    def ingest_status(self, key: str, *, bucket: str | None = None) -> IngestRecord:
        """The ingest record of an object key (``NotFound`` when no event for it was ever seen).

        Without ``bucket``: the bucket the key's catalog is bound to (the landing bucket when that
        catalog does not exist)."""
        if bucket is None:
            bucket = self._catalog_bucket(key.split("/", 1)[0] if "/" in key else None) or self.blobs.bucket
        try:
            return self.store.get_ingest_record(bucket, key)
        except NotFound:
            raise NotFound(f"no ingest record for {key!r}: no storage event for this key has been seen") from None


# ------------------------------------------------------------------------------------ pure helpers


def describe(metadata: dict[str, str], sidecar: Doc | None) -> Described:
    """Fields, free-form metadata and STAC extension fields from object metadata, then the sidecar.

    Object metadata values are strings: ``roles``/``tags`` may be a JSON array or comma-separated;
    other values that read as JSON numbers, booleans, arrays or objects are decoded. The sidecar
    wins where both speak. A value that fails validation is dropped with a warning.
    """
    out = Described()
    for raw_key, raw_value in (metadata or {}).items():
        name = _metadata_name(raw_key)
        if name is None or name in _RESERVED_KEYS:
            continue
        if name in DESCRIPTIVE_FIELDS:
            value: Any = _split_list(raw_value) if name in _LIST_FIELDS else raw_value
            _set_field(out, name, value, f"object metadata {raw_key!r}")
        else:
            out.metadata[name] = _decode_scalar(raw_value)
    if sidecar:
        for name, value in sidecar.items():
            if name in _RESERVED_KEYS:
                continue
            if name in DESCRIPTIVE_FIELDS or name in _SIDECAR_ONLY_FIELDS:
                if name in _LIST_FIELDS and isinstance(value, str):
                    value = _split_list(value)
                _set_field(out, name, value, f"sidecar field {name!r}")
            elif name in ("metadata", "properties") and isinstance(value, dict):
                out.metadata.update(value)
            elif ":" in name and not name.startswith("file:"):
                out.extensions[name] = value
            else:
                out.metadata[name] = value
    return out


def _set_field(out: Described, name: str, value: Any, where: str) -> None:
    try:
        checked = AssetFields.model_validate({name: value})
    except ValidationError as exc:
        problem = exc.errors()[0].get("msg", "invalid") if exc.errors() else "invalid"
        out.warnings.append(f"{where} ignored: {problem}")
        return
    except DynastoreError as exc:
        out.warnings.append(f"{where} ignored: {exc.detail}")
        return
    out.fields[name] = checked.model_dump(mode="json", by_alias=False)[name]


def _apply_described(doc: Doc, described: Described) -> Doc:
    for name, value in described.fields.items():
        doc[name] = value
    if described.metadata:
        doc["metadata"] = {**(doc.get("metadata") or {}), **described.metadata}
    for name, value in described.extensions.items():
        doc[name] = value
    if (
        doc.get("datetime")
        and (doc.get("start_datetime") or doc.get("end_datetime"))
        and ("datetime" not in described.fields)
    ):
        doc["datetime"] = None  # an interval from storage replaces an instant set earlier
    return doc


def _metadata_name(raw_key: str) -> str | None:
    name = raw_key.strip()
    lowered = name.lower()
    for prefix in _STORAGE_METADATA_PREFIXES:
        if lowered.startswith(prefix):
            if prefix == "goog-reserved-":
                return None
            name, lowered = name[len(prefix) :], lowered[len(prefix) :]
    if lowered in DESCRIPTIVE_FIELDS or lowered in ASSET_ID_METADATA_KEYS:
        return lowered
    return name or None


def _split_list(value: str) -> Any:
    text = value.strip()
    if text.startswith("["):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return [part.strip() for part in text.split(",") if part.strip()]


def _decode_scalar(value: str) -> Any:
    text = value.strip()
    if text in ("true", "false", "null") or text[:1] in ("{", "[", "-") or text[:1].isdigit():
        try:
            decoded = orjson.loads(text)
        except orjson.JSONDecodeError:
            return value
        return value if decoded is None else decoded
    return value


def _tagged_id(metadata: dict[str, str]) -> str | None:
    for name in ASSET_ID_METADATA_KEYS:
        value = metadata.get(name)
        if value and _ID_RE.match(value):
            return value
    return None


def _fresh(event: StorageEvent) -> bool:
    """Written in the last minute (then the API may still be about to record it)."""
    if not event.event_time:
        return False
    try:
        written = dtime.parse_datetime(event.event_time)
    except Invalid:
        return False
    return (dtime.utcnow() - written).total_seconds() < 60


def _storage(doc: Doc | None) -> Doc:
    return dict((doc or {}).get("storage") or {})


def _storage_doc(event: StorageEvent) -> Doc:
    return {
        "bucket": event.bucket,
        "key": event.key,
        "generation": event.generation,
        "etag": event.etag,
        "md5": event.md5,
    }


def _same_bytes(doc: Doc, event: StorageEvent) -> bool:
    """Does the record describe exactly the bytes of this event (same key, generation, size and md5)?"""
    storage = _storage(doc)
    if storage.get("key") != event.key or not event.generation or storage.get("generation") != event.generation:
        return False
    if event.size is not None and doc.get("file:size") is not None and int(doc["file:size"]) != event.size:
        return False
    known_md5 = storage.get("md5")
    return not (event.md5 and known_md5 and str(known_md5).lower() != event.md5)


def _same_content(new: Doc, current: Doc) -> bool:
    keys = (set(new) | set(current)) - _VOLATILE
    return all(new.get(k) == current.get(k) for k in keys)


def _validated(doc: Doc) -> Doc:
    try:
        return Asset.from_doc(doc).to_doc()
    except ValidationError as exc:
        raise Invalid(f"the indexed asset is not valid: {exc.errors()[0].get('msg')}") from None


def _trusted_shape(doc: Doc) -> bool:
    """The checks validation would make of a record ``_full_doc`` built from trusted values."""
    return bool(_ID_RE.match(doc["id"])) and str(doc["href"]).startswith(HREF_SCHEMES)


def _audit(catalog_id: str, record_id: str, action: str, *, record_type: str = "asset", **details: Any) -> Doc:
    """An audit event document: ``AuditEvent.to_doc()``'s shape, built without a validation pass
    (every value here is the service's own: ids, keys, generations, actions)."""
    return {
        "id": uuid.uuid4().hex,
        "catalog_id": catalog_id,
        "record_type": record_type,
        "record_id": record_id,
        "action": action,
        "actor": ACTOR,
        "at": dtime.now_iso(),
        "details": {k: v for k, v in details.items() if v is not None},
    }


def _seconds(value: float) -> Any:
    from datetime import timedelta

    return timedelta(seconds=value)


def keys_under(blobs: BlobStore, prefix: str) -> Iterable[str]:
    """Every object key under ``prefix`` (cheap on the local backend: no stat, no hashing)."""
    list_keys = getattr(blobs, "list_keys", None)
    if callable(list_keys):
        return list(list_keys(prefix))
    return (info.key for info in blobs.list(prefix))


def file_name(key: str) -> str:
    return posixpath.basename(key)


def summarize(outcomes: Sequence[IngestOutcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return counts
