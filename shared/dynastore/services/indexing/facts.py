"""The reads of indexing: what the store and storage hold about a key, its asset and its catalog.

``Facts`` answers the questions the decisions of ``domain.indexing`` need (the ingest record, the
asset a key already has, the object's bytes, description and sidecar, a move's other side) and
which bucket a catalog keeps its files in. Catalog status and bucket, and the existence of
collections and items, are trusted for ``CACHE_SECONDS`` without a read (``Cache``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import orjson

from dynastore.config import Settings
from dynastore.domain import time as dtime
from dynastore.domain.events import StorageEvent
from dynastore.domain.filters import And, Compare
from dynastore.domain.ids import slug
from dynastore.domain.indexing import same_bytes, storage_of, tagged_id
from dynastore.domain.search import AssetQuery
from dynastore.domain.storage import KeyScope, sidecar_key
from dynastore.errors import DynastoreError, Invalid, NotFound
from dynastore.ports import BlobStore, Doc, IngestRecord, MetadataStore
from dynastore.services import mediatypes
from dynastore.services.catalogs import CatalogStorage

log = logging.getLogger("dynastore.indexing")

MAX_SIDECAR_BYTES = 1024 * 1024
CACHE_SECONDS = 1.0  # how long a catalog's status or a collection/item's existence is trusted without a read
API_UPLOAD_GRACE_SECONDS = 5.0  # how long to wait for the API to record a blob it just wrote


@dataclass
class Cache:
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


@dataclass
class Prefetched:
    """What planning a batch read up front: ingest records by (bucket, key), asset documents by
    (catalog, id); None means "read, and absent". What is not in these maps is read on demand."""

    records: dict[tuple[str, str], IngestRecord | None] = field(default_factory=dict)
    assets: dict[tuple[str, str], Doc | None] = field(default_factory=dict)


@dataclass(eq=False, repr=False)
class Facts:
    """The reads of the indexing pipeline (catalogs, buckets, ingest records, stored assets), cached."""

    store: MetadataStore
    blobs: BlobStore  # the landing bucket
    storage: CatalogStorage
    settings: Settings
    cache: Cache

    # ------------------------------------------------------------------------------ catalogs and buckets

    def catalog_status(self, catalog_id: str, *, fresh: bool = False) -> str | None:
        cached = None if fresh else self.cache.get(("catalog", catalog_id))
        if cached is not None:
            return cached
        doc = self.read_catalog(catalog_id)
        return None if doc is None else str(doc.get("status") or "active")

    def read_catalog(self, catalog_id: str) -> Doc | None:
        """The catalog record (None when absent); remembers its status and bucket for a moment."""
        try:
            doc = self.store.get_catalog(catalog_id)
        except (NotFound, Invalid):
            return None
        self.cache.put(("catalog", catalog_id), str(doc.get("status") or "active"))
        self.cache.put(("bucket", catalog_id), self.storage.bucket_of(doc))
        return doc

    def catalog_bucket(self, catalog_id: str | None) -> str | None:
        """The bucket a catalog's binding names (None: no such catalog)."""
        if not catalog_id:
            return None
        cached = self.cache.get(("bucket", catalog_id))
        if cached is not None:
            return cached
        doc = self.read_catalog(catalog_id)
        return None if doc is None else self.storage.bucket_of(doc)

    def bucket_known(self, bucket: str, catalog_id: str | None) -> bool:
        """The landing bucket, or the bucket the key's catalog is bound to."""
        return self.storage.is_landing(bucket) or self.catalog_bucket(catalog_id) == bucket

    def check_bucket(self, bucket: str, catalog_id: str | None) -> None:
        """``Invalid`` unless ``bucket`` may hold the key's catalog: the bucket it is bound to, or
        the landing bucket for a catalog that does not exist yet (the key convention creates it)."""
        bound = self.catalog_bucket(catalog_id)
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

    def blobs_of(self, bucket: str) -> BlobStore:
        """The store of an event's bucket (checked by ``check_bucket`` first)."""
        return self.storage.for_bucket(bucket)

    # ------------------------------------------------------------------------------ records and assets

    def get_asset(self, catalog_id: str, asset_id: str) -> Doc | None:
        try:
            return self.store.get_asset(catalog_id, asset_id)
        except NotFound:
            return None

    def ingest_record(self, bucket: str, key: str) -> IngestRecord | None:
        try:
            return self.store.get_ingest_record(bucket, key)
        except NotFound:
            return None

    def exists(self, bucket: str, key: str) -> bool:
        try:
            self.blobs_of(bucket).stat(key)
        except NotFound:
            return False
        return True

    def prefetch(self, events: Sequence[tuple[StorageEvent, KeyScope]]) -> Prefetched:
        """Read in a few calls what planning these events looks up per object: their ingest records
        (``get_ingest_records``) and the assets their keys may
        already have (``get_assets``). A failed read leaves planning to read one by one."""
        reads = Prefetched()
        if not events:
            return reads
        try:
            keys_by_bucket: dict[str, list[str]] = {}
            for event, _ in events:
                keys_by_bucket.setdefault(event.bucket, []).append(event.key)
            for bucket, keys in keys_by_bucket.items():
                found = {record.key: record for record in self.store.get_ingest_records(bucket, keys)}
                for key in keys:
                    reads.records[(bucket, key)] = found.get(key)
            ids_by_catalog: dict[str, dict[str, None]] = {}
            for event, scope in events:
                ids = ids_by_catalog.setdefault(scope.catalog_id, {})
                tagged = tagged_id(event.metadata)
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
            return Prefetched()
        return reads

    def record_of(self, event: StorageEvent, reads: Prefetched | None) -> IngestRecord | None:
        if reads is not None and (event.bucket, event.key) in reads.records:
            return reads.records[(event.bucket, event.key)]
        return self.ingest_record(event.bucket, event.key)

    def resolve(
        self, scope: KeyScope, event: StorageEvent, record: IngestRecord | None, reads: Prefetched | None = None
    ) -> tuple[Doc | None, str]:
        """The asset this key already has (any status), or None and the id a new one gets."""
        tagged = tagged_id(event.metadata)
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
                doc = self.get_asset(scope.catalog_id, candidate)
            if doc is None and candidate == tagged and _fresh(event):
                doc = self._await_api_record(scope.catalog_id, candidate)
            if doc is None:
                continue
            if storage_of(doc).get("key") == scope.key and storage_of(doc).get("bucket", event.bucket) == event.bucket:
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
            doc = self.get_asset(catalog_id, asset_id)
            if doc is not None:
                return doc
        return None

    # ------------------------------------------------------------------------------ the object's bytes

    def inspect(self, key: str, existing: Doc | None, event: StorageEvent) -> tuple[int, str, str] | None:
        """(size, checksum, media type): reused when the record holds these very bytes, else streamed once."""
        if existing is not None and same_bytes(existing, event) and existing.get("file:checksum"):
            size = int(existing.get("file:size") or event.size or 0)
            return size, existing["file:checksum"], existing.get("type") or mediatypes.OCTET_STREAM
        try:
            with self.blobs_of(event.bucket).open(key) as reader:
                inspection = mediatypes.inspect_stream(reader)
        except NotFound:
            return None
        media_type = mediatypes.detect(key, inspection.head, event.content_type)
        return inspection.size, inspection.checksum, media_type

    @staticmethod
    def read_sidecar(blobs: BlobStore, key: str) -> tuple[Doc | None, str | None]:
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

    # ------------------------------------------------------------------------------ moves

    def move_source(self, catalog_id: str, checksum: str, key: str, bucket: str) -> Doc | None:
        """A ``missing`` asset of the same bytes in this catalog and bucket, gone within the move window."""
        window = self.settings.move_window_seconds
        if window <= 0 or self.cache.get(("no-missing", catalog_id)) is not None:
            return None
        since = dtime.isoformat(dtime.utcnow() - timedelta(seconds=window))
        query = AssetQuery(
            catalog_ids=(catalog_id,),
            status=("missing",),
            filter=And((Compare("eq", "file:checksum", checksum), Compare("gte", "deleted_at", since))),
            limit=50,
        )
        if self.store.count_assets(query) == 0:  # cheap (status index); searching is not
            self.cache.put(("no-missing", catalog_id), "none")
            return None
        candidates = [
            doc
            for doc in self.store.search_assets(query).items
            if storage_of(doc).get("key") != key and storage_of(doc).get("bucket") in (None, bucket)
        ]
        if not candidates:
            return None
        return max(candidates, key=lambda d: (d.get("deleted_at") or "", d["id"]))

    def move_target(self, source: Doc) -> Doc | None:
        """A copy of ``source``'s bytes indexed moments ago under another key (copy, then delete = move)."""
        window = self.settings.move_window_seconds
        checksum = source.get("file:checksum")
        if window <= 0 or not checksum or not source.get("file:size"):
            return None
        since = dtime.isoformat(dtime.utcnow() - timedelta(seconds=window))
        query = AssetQuery(
            catalog_ids=(source["catalog_id"],),
            status=("active",),
            filter=And((Compare("eq", "file:checksum", checksum), Compare("gte", "created", since))),
            limit=50,
        )
        source_key = storage_of(source).get("key")
        bucket = storage_of(source).get("bucket") or self.blobs.bucket
        candidates = []
        for doc in self.store.search_assets(query).items:
            storage = storage_of(doc)
            if doc["id"] == source["id"] or storage.get("key") == source_key:
                continue
            if doc.get("created", "") < source.get("created", ""):
                continue
            if storage.get("bucket") not in (None, bucket) or not storage.get("key"):
                continue
            if self.exists(bucket, storage["key"]):
                candidates.append(doc)
        if not candidates:
            return None
        return max(candidates, key=lambda d: (d.get("created") or "", d["id"]))


def _fresh(event: StorageEvent) -> bool:
    """Written in the last minute (then the API may still be about to record it)."""
    if not event.event_time:
        return False
    try:
        written = dtime.parse_datetime(event.event_time)
    except Invalid:
        return False
    return (dtime.utcnow() - written).total_seconds() < 60
