"""The protocols a backend implements: BlobStore, MetadataStore, TaskQueue, Provisioner.

Services depend on these only. Every backend (local, gcp, aws) supplies one class per port and
must pass the contract suite in ``tests/contract``. Adapters raise only ``dynastore.errors``.

Records cross these ports as plain JSON documents (``dict``): the stored shape of
``Asset.to_doc()``, ``Catalog.to_doc()``, STAC Collection/Item dicts, ``Job.to_doc()`` and
``AuditEvent.to_doc()``. Services validate with the domain models at the edges; hot read paths
(bulk-get, export, search) pass documents straight through to the JSON encoder.

Concurrency: every document carries ``rev`` (an int). A write with ``expect_rev=0`` creates and
raises ``Conflict`` if the record exists; ``expect_rev=n`` writes only over revision ``n``
(``Conflict`` otherwise); ``expect_rev=None`` writes unconditionally. The store sets the new
``rev`` (old + 1) on what it writes and returns the stored document.

Every capability a service uses is a member of its port, so callers never probe for one.
Capabilities only some backends do natively have a default in a small base class the backends
inherit (``BlobStoreBase``, ``MetadataStoreBase``, ``TaskQueueBase``); a backend overrides what it
does faster: the stored JSON text of assets (``get_assets_json``, ``export_assets_json``: bulk-get
and export splice it without parsing), ingest records in bulk (``get_ingest_records``,
``put_ingest_records``), items with their assets together (``write_items``: compensating unless
``batch()`` is one transaction), a write ``batch()``, ``list_keys`` without stat-ing, a bucket that is a
local folder (``root``, ``local_reads``: bulk indexing then reads small files on one thread), an
in-process queue worker (``local_worker``, ``start_worker``/``stop``). ``Adapters.check`` (called
by ``bootstrap``) verifies at start-up that each adapter has every member of its port.
"""

from __future__ import annotations

import builtins
import contextlib
import inspect
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol, get_args, runtime_checkable

import orjson

from dynastore.domain.asset_members import asset_members_json
from dynastore.domain.asset_record import stored_record_json
from dynastore.domain.search import AssetQuery, ItemQuery, Page
from dynastore.domain.storage import BlobInfo as BlobInfo  # defined in the domain, re-exported here
from dynastore.errors import NotFound, Unavailable

Doc = dict[str, Any]
StorageTier = Literal["hot", "cold", "archive"]


# ------------------------------------------------------------------------------------ shared members


@runtime_checkable
class HealthCheck(Protocol):
    def health(self) -> None:
        """Raise ``Unavailable`` if the dependency cannot be reached."""
        ...


@runtime_checkable
class Closable(Protocol):
    def close(self) -> None:
        """Release clients, connections and threads (once, at shutdown)."""
        ...


# ------------------------------------------------------------------------------------ blobs


@runtime_checkable
class BlobStore(HealthCheck, Closable, Protocol):
    """One bucket (local: one folder). Keys are ``/``-separated and never escape the bucket."""

    bucket: str

    @property
    def root(self) -> Path | None:
        """The folder holding the objects (key ``k`` is the file ``root / k``), None where objects are
        not local files (``BlobStoreBase``: None)."""
        ...

    @property
    def local_reads(self) -> bool:
        """True where a read is a local system call, not a network round trip (``BlobStoreBase``: False)."""
        ...

    def put(
        self,
        key: str,
        data: bytes | BinaryIO,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        if_generation_match: int | None = None,
    ) -> BlobInfo:
        """Write an object. ``if_generation_match=0`` is create-only: ``Conflict`` if it exists."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A streaming reader (``NotFound`` if absent). Close it when done."""
        ...

    def get(self, key: str) -> bytes: ...

    def stat(self, key: str) -> BlobInfo:
        """``NotFound`` if absent."""
        ...

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        """Every object under ``prefix``, in key order."""
        ...

    def list_keys(self, prefix: str = "") -> builtins.list[str]:
        """The keys ``list`` would give, in key order (a backend may skip describing each object)."""
        ...

    def delete(self, key: str, *, missing_ok: bool = True) -> None: ...

    def copy(self, source_key: str, dest_key: str) -> BlobInfo: ...

    def href(self, key: str) -> str:
        """The canonical URL of a key: ``file://...``, ``gs://bucket/key``, ``s3://bucket/key``."""
        ...

    def key_for_href(self, href: str) -> str | None:
        """The key an href points at when it is in this bucket, else None."""
        ...

    def signed_url(
        self,
        key: str,
        *,
        method: Literal["GET", "PUT"] = "GET",
        expires_seconds: int = 900,
        content_type: str | None = None,
    ) -> str | None:
        """A time-limited URL for direct access, or None where the API must stream (local)."""
        ...

    def health(self) -> None:
        """Raise ``Unavailable`` if the store cannot be reached."""
        ...

    def set_storage_class(self, key: str, tier: StorageTier) -> BlobInfo:
        """Move an object to a storage tier (``hot``, ``cold``, ``archive``) in place: same key, same
        bytes, still readable with ``get``/``open`` (``NotFound`` if absent). Returns what ``stat``
        now says; its ``storage_class`` is the backend's name for the tier (``BlobStoreBase``: a store
        with a single class, the local folder, leaves the object as it is; ``storage_class`` None)."""
        ...

    def for_bucket(self, bucket: str) -> BlobStore:
        """The store of another bucket of this backend (a catalog's storage binding), sharing the
        client. Its own name gives this very store. ``Invalid`` for a malformed name; ``NotFound``
        where the backend can tell at once that no such bucket can exist (local: only its own)."""
        ...


# ------------------------------------------------------------------------------------ metadata


@dataclass(frozen=True)
class AssetWrite:
    """One asset write inside an atomic ``write_assets`` call."""

    doc: Doc
    expect_rev: int | None = None


@dataclass(frozen=True)
class ItemWrite:
    """One item write inside an atomic ``write_items`` call, with its own audit event."""

    doc: Doc
    expect_rev: int | None
    audit: Doc


IngestStatusName = Literal["indexed", "failed", "deleted", "skipped"]
INGEST_STATUSES: tuple[str, ...] = get_args(IngestStatusName)


@dataclass(frozen=True)
class ItemText:
    """A stored item as its JSON text (``search_item_texts``): its key, its revision, the text, and
    whether the document's top-level ``links`` is an empty array and it has no ``assets`` member."""

    catalog_id: str
    collection_id: str
    item_id: str
    rev: int
    text: str
    plain: bool


@dataclass(frozen=True)
class IngestRecord:
    """What indexing did with one object key (for ``GET`` ingest status)."""

    bucket: str
    key: str
    status: IngestStatusName
    at: str
    catalog_id: str | None = None
    asset_id: str | None = None
    generation: str | None = None
    error: str | None = None


@runtime_checkable
class MetadataStore(HealthCheck, Closable, Protocol):
    # --- catalogs ---------------------------------------------------------------------------
    def get_catalog(self, catalog_id: str) -> Doc:
        """``NotFound`` if absent (retired catalogs are returned; services hide them)."""
        ...

    def list_catalogs(self, *, status: str | None = None, limit: int = 100, token: str | None = None) -> Page[Doc]: ...

    def put_catalog(self, doc: Doc, *, expect_rev: int | None, audit: Doc) -> Doc: ...

    # --- STAC collections and items (documents are STAC JSON) -------------------------------
    def get_collection(self, catalog_id: str, collection_id: str) -> Doc: ...

    def list_collections(self, catalog_id: str, *, limit: int = 100, token: str | None = None) -> Page[Doc]: ...

    def put_collection(self, catalog_id: str, doc: Doc, *, expect_rev: int | None, audit: Doc) -> Doc: ...

    def delete_collection(
        self, catalog_id: str, collection_id: str, *, audit: Doc, expect_rev: int | None = None
    ) -> None:
        """Removes the collection, its items and their assets in one atomic step (``Conflict``, nothing
        removed, when ``expect_rev`` is given and the collection is at another revision)."""
        ...

    def get_item(self, catalog_id: str, collection_id: str, item_id: str) -> Doc: ...

    def list_items(
        self, catalog_id: str, collection_id: str, *, limit: int = 100, token: str | None = None
    ) -> Page[Doc]: ...

    def put_item(self, catalog_id: str, doc: Doc, *, expect_rev: int | None, audit: Doc) -> Doc:
        """``doc`` is a STAC Item whose ``collection`` names an existing collection."""
        ...

    def write_items(
        self,
        catalog_id: str,
        items: Sequence[ItemWrite],
        *,
        assets: Sequence[AssetWrite] = (),
        audits: Sequence[Doc] = (),
    ) -> list[Doc]:
        """Many ``put_item`` writes (each with its audit) and a ``write_assets`` of ``assets`` with
        ``audits``, all landing together or not at all (a FeatureCollection POST with inline assets)."""
        ...

    def delete_item(
        self, catalog_id: str, collection_id: str, item_id: str, *, audit: Doc, expect_rev: int | None = None
    ) -> None:
        """Removes the item only: the service decides the fate of its assets (it soft-deletes them, so they
        are restorable once the item exists again). ``expect_rev``: as in ``delete_collection``."""
        ...

    def get_items(self, catalog_id: str, keys: Sequence[tuple[str, str]]) -> list[Doc]:
        """The items of ``(collection_id, item_id)`` keys that exist, in one batched read where the
        backend has one, in no particular order."""
        ...

    def search_items(self, query: ItemQuery) -> Page[Doc]:
        """STAC item search (semantics: ``domain.search.item_matches``); exact keyset paging."""
        ...

    def search_item_texts(self, query: ItemQuery) -> list[ItemText] | None:
        """``search_items`` as the stored texts, where the store can answer ``query`` on one page without
        parsing (None: ask ``search_items``); the local store answers a search by ``ids`` alone."""
        ...

    def count_items(self, query: ItemQuery) -> int:
        """How many items ``search_items`` would visit in all (for ``numberMatched``)."""
        ...

    # --- assets -----------------------------------------------------------------------------
    def get_asset(self, catalog_id: str, asset_id: str) -> Doc:
        """Any status; ``NotFound`` if absent."""
        ...

    def get_assets(self, catalog_id: str, asset_ids: Sequence[str]) -> list[Doc]:
        """The documents that exist, any status, in no particular order."""
        ...

    def write_assets(self, writes: Sequence[AssetWrite], *, audits: Sequence[Doc]) -> list[Doc]:
        """All writes and audit events land together or not at all."""
        ...

    def delete_asset(self, catalog_id: str, asset_id: str, *, audit: Doc, expect_rev: int | None = None) -> None:
        """Hard delete of the record (its audit trail stays); ``expect_rev`` as in ``delete_collection``."""
        ...

    def search_assets(self, query: AssetQuery) -> Page[Doc]: ...

    def item_asset_heads(
        self, catalog_id: str, keys: Sequence[tuple[str, str]], limit: int
    ) -> dict[tuple[str, str], list[Doc]]:
        """The first ``limit`` active item-level assets (in id order) of each ``(collection_id, item_id)``
        (an item with none is left out): what a page of items embeds, read once per page."""
        ...

    def item_asset_head_texts(
        self, catalog_id: str, keys: Sequence[tuple[str, str]], limit: int
    ) -> dict[tuple[str, str], list[tuple[str, str | None, str]]]:
        """``item_asset_heads`` as JSON text: per item, ``(asset id, its stored page record or None, its
        document)`` (``domain.asset_record.stored_record_json``), so a page of items can splice the
        records instead of parsing and rendering every document."""
        ...

    def item_asset_members(
        self, catalog_id: str, keys: Sequence[tuple[str, str]], limit: int
    ) -> dict[tuple[str, str], tuple[int, str | None]]:
        """Per item with assets: how many of the first ``limit`` (as ``item_asset_heads``) it has, and
        their ``"<id>":<Asset Object>`` members cut from the stored records
        (``domain.asset_members.asset_members_json``: None where a record cannot be cut or holds one of
        its ``RECORD_SIGNS``; the caller renders the documents)."""
        ...

    def search_asset_records(self, query: AssetQuery) -> Page[str | Doc]:
        """``search_assets``, but an asset whose page record the store keeps pre-rendered
        (``domain.asset_record.stored_record_json``) comes as that JSON text instead of its document."""
        ...

    def count_assets(self, query: AssetQuery) -> int: ...

    def export_assets(
        self, catalog_id: str, *, since: str | None = None, statuses: Sequence[str] = ("active",)
    ) -> Iterator[Doc]:
        """Every asset of a catalog (``updated >= since`` when given), in ``updated`` order."""
        ...

    def get_assets_json(self, catalog_id: str, asset_ids: Sequence[str]) -> list[tuple[str, str, str]]:
        """``get_assets`` as ``(id, status, document JSON text)`` rows, for splicing without parsing."""
        ...

    def export_assets_json(
        self, catalog_id: str, *, since: str | None = None, statuses: Sequence[str] = ("active",)
    ) -> Iterator[str]:
        """``export_assets`` as the JSON text of each document, same order."""
        ...

    # --- audit trail ------------------------------------------------------------------------
    def list_audit(
        self,
        catalog_id: str,
        *,
        record_type: str | None = None,
        record_id: str | None = None,
        limit: int = 100,
        token: str | None = None,
    ) -> Page[Doc]:
        """Newest first."""
        ...

    # --- ingest state (indexing) ------------------------------------------------------------
    def claim_event(self, event_id: str, *, ttl_seconds: float) -> bool:
        """True the first time an event id is seen within its TTL; False for a duplicate."""
        ...

    def put_ingest_record(self, record: IngestRecord) -> None: ...

    def get_ingest_record(self, bucket: str, key: str) -> IngestRecord: ...

    def get_ingest_records(self, bucket: str, keys: Sequence[str]) -> list[IngestRecord]:
        """The records of those keys that have one, in no particular order."""
        ...

    def put_ingest_records(self, records: Sequence[IngestRecord]) -> None:
        """Many ``put_ingest_record`` calls in one go (one transaction where the backend has them)."""
        ...

    def list_ingest_records(
        self, catalog_id: str, *, status: str | None = None, limit: int = 100, token: str | None = None
    ) -> Page[IngestRecord]:
        """The ingest records of one catalog (``IngestRecord.catalog_id``, never another's): failures
        first, then newest first (``at`` descending); ``status`` keeps one status only. Keyset paging."""
        ...

    def batch(self) -> AbstractContextManager[object]:
        """A context in which many small writes share one transaction (``MetadataStoreBase``: none)."""
        ...

    # --- jobs -------------------------------------------------------------------------------
    def get_job(self, job_id: str) -> Doc: ...

    def put_job(self, doc: Doc, *, expect_rev: int | None) -> Doc: ...

    def list_jobs(
        self, *, filters: dict[str, str] | None = None, limit: int = 100, token: str | None = None
    ) -> Page[Doc]:
        """Newest first; ``filters`` on status, task_id, catalog_id, asset_id."""
        ...

    # --- service records (small deployment-wide documents: the AIOS registry, ...) -------------
    def get_record(self, kind: str, record_id: str) -> Doc:
        """The record ``record_id`` of ``kind`` (``[a-z][a-z0-9_]*``); ``NotFound`` if absent."""
        ...

    def put_record(self, kind: str, doc: Doc, *, expect_rev: int | None) -> Doc:
        """Write ``doc`` (its ``id`` names it) under the ``rev`` rules of this port."""
        ...

    def delete_record(self, kind: str, record_id: str) -> None:
        """Remove a record; ``NotFound`` if absent."""
        ...

    def list_records(self, kind: str, *, limit: int = 100, token: str | None = None) -> Page[Doc]:
        """The records of ``kind`` in id order (keyset pages)."""
        ...

    # --- lifecycle --------------------------------------------------------------------------
    def purge_catalog(self, catalog_id: str, *, batch_size: int = 500) -> int:
        """Delete up to ``batch_size`` records of a catalog; returns how many. 0 means done."""
        ...

    def health(self) -> None: ...


# ------------------------------------------------------------------------------------ tasks

TaskHandler = Callable[[Doc], None]


@runtime_checkable
class TaskQueue(HealthCheck, Closable, Protocol):
    """At-least-once delivery of small JSON messages (pass references, not payloads)."""

    @property
    def local_worker(self) -> bool:
        """True where this process consumes the queue itself (``start_worker``/``stop``); False where
        the queue pushes its messages to an HTTP endpoint (``TaskQueueBase``)."""
        ...

    def enqueue(self, queue: str, message: Doc, *, dedup_key: str | None = None, delay_seconds: float = 0) -> str:
        """Returns the task name. The same ``dedup_key`` twice enqueues once."""
        ...

    def delete_queue(self, queue: str) -> None: ...

    def health(self) -> None: ...

    def start_worker(self, handler: TaskHandler, threads: int = 1) -> None:
        """Run ``handler`` on due messages on ``threads`` threads until ``stop`` (only where ``local_worker``)."""
        ...

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker threads (a running handler finishes first, up to ``timeout``)."""
        ...


# ------------------------------------------------------------------------------------ infrastructure


@runtime_checkable
class Provisioner(Protocol):
    """Creates and removes what a catalog needs. Both calls are idempotent."""

    def provision_catalog(self, catalog_id: str) -> Doc:
        """Returns the catalog's storage binding: ``{"bucket", "prefix", "queue"}``."""
        ...

    def deprovision_catalog(self, catalog_id: str, binding: Doc) -> None: ...


# ------------------------------------------------------------------------------------ defaults


class BlobStoreBase:
    """The members of ``BlobStore`` a backend need not write: not a local folder, ``list_keys``
    from ``list``, nothing to close."""

    root: Path | None = None
    local_reads: bool = False

    def list_keys(self: BlobStore, prefix: str = "") -> builtins.list[str]:
        return [info.key for info in self.list(prefix)]

    def set_storage_class(self: BlobStore, key: str, tier: StorageTier) -> BlobInfo:
        return self.stat(key)  # one class only: nothing to move (NotFound for a missing object)

    def close(self) -> None:
        """Nothing to release."""


class MetadataStoreBase:
    """The members of ``MetadataStore`` that have a generic form on top of the others."""

    def get_assets_json(self: MetadataStore, catalog_id: str, asset_ids: Sequence[str]) -> list[tuple[str, str, str]]:
        return [
            (doc["id"], doc.get("status") or "", orjson.dumps(doc).decode())
            for doc in self.get_assets(catalog_id, asset_ids)
        ]

    def export_assets_json(
        self: MetadataStore, catalog_id: str, *, since: str | None = None, statuses: Sequence[str] = ("active",)
    ) -> Iterator[str]:
        for doc in self.export_assets(catalog_id, since=since, statuses=statuses):
            yield orjson.dumps(doc).decode()

    def item_asset_head_texts(
        self: MetadataStore, catalog_id: str, keys: Sequence[tuple[str, str]], limit: int
    ) -> dict[tuple[str, str], list[tuple[str, str | None, str]]]:
        return {
            key: [(doc["id"], stored_record_json(doc), orjson.dumps(doc).decode()) for doc in docs]
            for key, docs in self.item_asset_heads(catalog_id, keys, limit).items()
        }

    def search_item_texts(self: MetadataStore, query: ItemQuery) -> list[ItemText] | None:
        return None

    def item_asset_members(
        self: MetadataStore, catalog_id: str, keys: Sequence[tuple[str, str]], limit: int
    ) -> dict[tuple[str, str], tuple[int, str | None]]:
        return {
            key: (len(found), asset_members_json(found))
            for key, found in self.item_asset_head_texts(catalog_id, keys, limit).items()
        }

    def search_asset_records(self: MetadataStore, query: AssetQuery) -> Page[str | Doc]:
        page = self.search_assets(query)
        items: list[str | Doc] = list(page.items)
        return Page(items=items, next_token=page.next_token, matched=page.matched, extra=page.extra)

    def get_items(self: MetadataStore, catalog_id: str, keys: Sequence[tuple[str, str]]) -> list[Doc]:
        found: list[Doc] = []
        for collection_id, item_id in dict.fromkeys(keys):
            with contextlib.suppress(NotFound):
                found.append(self.get_item(catalog_id, collection_id, item_id))
        return found

    def item_asset_heads(
        self: MetadataStore, catalog_id: str, keys: Sequence[tuple[str, str]], limit: int
    ) -> dict[tuple[str, str], list[Doc]]:
        heads: dict[tuple[str, str], list[Doc]] = {}
        for collection_id, item_id in dict.fromkeys(keys):
            query = AssetQuery(
                catalog_ids=(catalog_id,), collection_id=collection_id, item_id=item_id, level="item", limit=limit
            )
            docs = self.search_assets(query).items
            if docs:
                heads[(collection_id, item_id)] = docs
        return heads

    def get_ingest_records(self: MetadataStore, bucket: str, keys: Sequence[str]) -> list[IngestRecord]:
        found: list[IngestRecord] = []
        for key in dict.fromkeys(keys):
            with contextlib.suppress(NotFound):
                found.append(self.get_ingest_record(bucket, key))
        return found

    def put_ingest_records(self: MetadataStore, records: Sequence[IngestRecord]) -> None:
        with self.batch():
            for record in records:
                self.put_ingest_record(record)

    def write_items(
        self: MetadataStore,
        catalog_id: str,
        items: Sequence[ItemWrite],
        *,
        assets: Sequence[AssetWrite] = (),
        audits: Sequence[Doc] = (),
    ) -> list[Doc]:
        """Inside ``batch()`` (atomic where that is one transaction); elsewhere compensating: on a
        failure the items written so far are put back as they were (deleted if new), unless another
        writer changed them since. ``write_assets`` is atomic by itself, so it goes last."""
        before: dict[str, Doc | None] = {}
        for write in items:
            if write.expect_rev != 0:
                try:
                    before[write.doc["id"]] = self.get_item(catalog_id, write.doc["collection"], write.doc["id"])
                except NotFound:
                    before[write.doc["id"]] = None
        stored: list[Doc] = []
        with self.batch():
            try:
                for write in items:
                    stored.append(self.put_item(catalog_id, write.doc, expect_rev=write.expect_rev, audit=write.audit))
                if assets or audits:
                    self.write_assets(assets, audits=audits)
            except BaseException:
                for write, doc in reversed(list(zip(items, stored, strict=False))):
                    undo = {**write.audit, "id": uuid.uuid4().hex, "action": "rollback"}
                    previous = before.get(doc["id"])
                    with contextlib.suppress(Exception):  # best effort: a failure here is a lost race
                        if previous is None:
                            self.delete_item(
                                catalog_id, doc["collection"], doc["id"], audit=undo, expect_rev=doc["rev"]
                            )
                        else:
                            self.put_item(catalog_id, previous, expect_rev=doc["rev"], audit=undo)
                raise
        return stored

    def batch(self) -> AbstractContextManager[object]:
        return contextlib.nullcontext()

    def close(self) -> None:
        """Nothing to release."""


class TaskQueueBase:
    """The members of ``TaskQueue`` for a queue that pushes its messages (no in-process worker)."""

    local_worker: bool = False

    def start_worker(self, handler: TaskHandler, threads: int = 1) -> None:
        raise Unavailable(f"{type(self).__name__} pushes its messages to an endpoint; it has no in-process worker")

    def stop(self, timeout: float = 10.0) -> None:
        """No worker runs in this process."""

    def close(self) -> None:
        """Nothing to release."""


# ------------------------------------------------------------------------------------ start-up check


def port_members(port: type) -> builtins.list[str]:
    """The public members a port declares (its own and its base protocols'), in declaration order."""
    names: dict[str, None] = {}
    for cls in reversed(port.__mro__):
        if cls.__module__ in ("typing", "builtins"):
            continue
        declared = [*inspect.get_annotations(cls), *vars(cls)]
        names.update(dict.fromkeys(name for name in declared if not name.startswith("_")))
    return list(names)


def missing_members(adapter: object, port: type) -> builtins.list[str]:
    """The members of ``port`` that ``adapter`` lacks (a method that is there but not callable counts)."""
    missing = []
    for name in port_members(port):
        declared = next((vars(cls)[name] for cls in port.__mro__ if name in vars(cls)), None)
        if not hasattr(adapter, name) or (callable(declared) and not callable(getattr(adapter, name))):
            missing.append(name)
    return missing
