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

Optional fast paths (duck-typed, not part of the protocols; services fall back when absent): a
``MetadataStore`` that keeps documents as JSON text may offer ``get_assets_json(catalog_id, ids)
-> list[tuple[id, status, json_text]]`` and ``export_assets_json(catalog_id, *, since, statuses)
-> Iterator[json_text]``, so bulk-get and export splice stored JSON without parsing it. Bulk
indexing uses ``get_ingest_records(bucket, keys) -> list[IngestRecord]`` (those that exist, any
order) and ``put_ingest_records(records)`` (one atomic write) when a store offers them. A
``BlobStore`` whose reads are local system calls may set ``local_reads = True``: bulk indexing then
reads small files on one thread (threads would only take turns on the GIL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal, Protocol, runtime_checkable

from dynastore.domain.search import AssetQuery, ItemQuery, Page
from dynastore.domain.storage import BlobInfo as BlobInfo  # defined in the domain, re-exported here

Doc = dict[str, Any]


# ------------------------------------------------------------------------------------ blobs


@runtime_checkable
class BlobStore(Protocol):
    """One bucket (local: one folder). Keys are ``/``-separated and never escape the bucket."""

    bucket: str

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
class IngestRecord:
    """What indexing did with one object key (for ``GET`` ingest status)."""

    bucket: str
    key: str
    status: Literal["indexed", "failed", "deleted", "skipped"]
    at: str
    catalog_id: str | None = None
    asset_id: str | None = None
    generation: str | None = None
    error: str | None = None


@runtime_checkable
class MetadataStore(Protocol):
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

    def delete_item(
        self,
        catalog_id: str,
        collection_id: str,
        item_id: str,
        *,
        audit: Doc,
        expect_rev: int | None = None,
        keep_assets: bool = False,
    ) -> None:
        """Removes the item and the assets linked to it (``keep_assets``: only the item; the caller
        deals with its assets). ``expect_rev``: as in ``delete_collection``."""
        ...

    def search_items(self, query: ItemQuery) -> Page[Doc]:
        """STAC item search (semantics: ``domain.search.item_matches``); exact keyset paging."""
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

    def count_assets(self, query: AssetQuery) -> int: ...

    def export_assets(
        self, catalog_id: str, *, since: str | None = None, statuses: Sequence[str] = ("active",)
    ) -> Iterator[Doc]:
        """Every asset of a catalog (``updated >= since`` when given), in ``updated`` order."""
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

    # --- jobs -------------------------------------------------------------------------------
    def get_job(self, job_id: str) -> Doc: ...

    def put_job(self, doc: Doc, *, expect_rev: int | None) -> Doc: ...

    def list_jobs(
        self, *, filters: dict[str, str] | None = None, limit: int = 100, token: str | None = None
    ) -> Page[Doc]:
        """Newest first; ``filters`` on status, task_id, catalog_id, asset_id."""
        ...

    # --- lifecycle --------------------------------------------------------------------------
    def purge_catalog(self, catalog_id: str, *, batch_size: int = 500) -> int:
        """Delete up to ``batch_size`` records of a catalog; returns how many. 0 means done."""
        ...

    def health(self) -> None: ...

    # Optional capability (not part of the protocol, looked up with ``getattr``): ``batch()``, a
    # context manager in which a backend groups many small writes (e.g. ``put_ingest_record``)
    # into one transaction. Bulk indexing uses it when present and works without it.


# ------------------------------------------------------------------------------------ tasks

TaskHandler = Callable[[Doc], None]


@runtime_checkable
class TaskQueue(Protocol):
    """At-least-once delivery of small JSON messages (pass references, not payloads)."""

    def enqueue(self, queue: str, message: Doc, *, dedup_key: str | None = None, delay_seconds: float = 0) -> str:
        """Returns the task name. The same ``dedup_key`` twice enqueues once."""
        ...

    def delete_queue(self, queue: str) -> None: ...

    def health(self) -> None: ...


# ------------------------------------------------------------------------------------ infrastructure


@runtime_checkable
class Provisioner(Protocol):
    """Creates and removes what a catalog needs. Both calls are idempotent."""

    def provision_catalog(self, catalog_id: str) -> Doc:
        """Returns the catalog's storage binding: ``{"bucket", "prefix", "queue"}``."""
        ...

    def deprovision_catalog(self, catalog_id: str, binding: Doc) -> None: ...
