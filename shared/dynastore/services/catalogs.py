"""Catalogs (projects): create provisions storage, retire hides at once (cleanup removes later).

A catalog's storage binding (``catalog["storage"]``: ``bucket``, ``prefix``, ``queue``) is what the
``Provisioner`` returned when the catalog was created, and it is authoritative: every service
reaches a catalog's files through ``CatalogStorage`` (the ``BlobStore`` of the binding's bucket),
never through the landing bucket by assumption. Keys keep the ``{catalog}/{collection}/{item}/...``
convention in a dedicated bucket too (the provisioners return the prefix ``{catalog}/``), so a key
alone still names its catalog and indexing reads it the same way in any bucket.
"""

from __future__ import annotations

import threading
from typing import Any

from dynastore.domain import time as dtime
from dynastore.domain.audit import audit_doc
from dynastore.domain.catalog import Catalog, CatalogFields, StorageBinding
from dynastore.domain.search import Page
from dynastore.errors import Conflict, Invalid, NotFound, Unavailable
from dynastore.ports import BlobStore, Doc, MetadataStore, Provisioner
from dynastore.services.patching import merge_patch, validated
from dynastore.services.revisions import expected_rev, precondition

# Fields of a catalog the client may set; everything else is owned by the service.
CLIENT_FIELDS = frozenset(CatalogFields.model_fields)


class CatalogStorage:
    """The blob store and key prefix of each catalog, from its storage binding.

    ``landing`` is the deployment's own bucket (``Adapters.blobs``); a binding naming another
    bucket (gcp ``gcp_bucket_per_catalog``) gets ``landing.for_bucket(name)``, made once per bucket.
    A catalog record without a binding lives in the landing bucket under ``{catalog}/``.
    """

    MAX_STORES = 1024  # buckets remembered (each holds only a name and a shared client)

    def __init__(self, landing: BlobStore) -> None:
        self.landing = landing
        self._stores: dict[str, BlobStore] = {}
        self._lock = threading.Lock()

    @classmethod
    def reuse(cls, existing: CatalogStorage | None, landing: BlobStore) -> CatalogStorage:
        """``existing`` when it serves the same landing store (one cache of bucket stores per
        process), else a new one."""
        return existing if existing is not None and existing.landing is landing else cls(landing)

    def for_bucket(self, bucket: str | None) -> BlobStore:
        """The store of ``bucket`` (the landing store for None or its own name)."""
        if not bucket or bucket == self.landing.bucket:
            return self.landing
        with self._lock:
            store = self._stores.get(bucket)
        if store is None:
            store = self.landing.for_bucket(bucket)
            with self._lock:
                if len(self._stores) >= self.MAX_STORES:
                    self._stores.clear()
                store = self._stores.setdefault(bucket, store)
        return store

    def bucket_of(self, catalog: Doc) -> str:
        return str((catalog.get("storage") or {}).get("bucket") or self.landing.bucket)

    @staticmethod
    def prefix_of(catalog: Doc) -> str:
        """The key prefix of the catalog's files (``{catalog}/``)."""
        prefix = (catalog.get("storage") or {}).get("prefix")
        return str(prefix) if prefix is not None else f"{catalog['id']}/"

    def for_catalog(self, catalog: Doc) -> BlobStore:
        """The store of the bucket the catalog's binding names."""
        return self.for_bucket(self.bucket_of(catalog))

    def is_landing(self, bucket: str | None) -> bool:
        return not bucket or bucket == self.landing.bucket


class CatalogService:
    def __init__(self, store: MetadataStore, provisioner: Provisioner, blobs: BlobStore | None = None) -> None:
        """``blobs``: the landing bucket; needed by ``blobs_for`` (the other calls work without it)."""
        self.store = store
        self.provisioner = provisioner
        self.storage = CatalogStorage(blobs) if blobs is not None else None

    # ------------------------------------------------------------------------------ storage

    def blobs_for(self, catalog: Doc) -> BlobStore:
        """The blob store holding a catalog's files (the bucket of its storage binding)."""
        if self.storage is None:
            raise Unavailable("this catalog service was built without a blob store")
        return self.storage.for_catalog(catalog)

    # ------------------------------------------------------------------------------ reads

    def get(self, catalog_id: str, *, include_retired: bool = False) -> Doc:
        try:
            doc = self.store.get_catalog(catalog_id)
        except NotFound:
            raise NotFound(f"catalog {catalog_id!r} does not exist") from None
        if doc.get("status") == "retired" and not include_retired:
            raise NotFound(f"catalog {catalog_id!r} is retired")
        return doc

    def require_active(self, catalog_id: str) -> Doc:
        """The catalog document, or ``NotFound`` saying why (absent or retired)."""
        return self.get(catalog_id)

    def list(self, *, include_retired: bool = False, limit: int = 100, token: str | None = None) -> Page[Doc]:
        return self.store.list_catalogs(status=None if include_retired else "active", limit=limit, token=token)

    def active(self) -> tuple[Doc, ...]:
        """Every active catalog document."""
        return active_catalogs(self.store)

    def active_ids(self) -> tuple[str, ...]:
        """Every active catalog id (searches across catalogs mean these)."""
        return tuple(doc["id"] for doc in self.active())

    def resolve_ids(self, catalog_ids: tuple[str, ...]) -> tuple[str, ...]:
        """The catalogs a search covers: the named ones, which must be active (``NotFound`` otherwise),
        or every active one when none is named."""
        for catalog_id in catalog_ids:
            self.require_active(catalog_id)
        return catalog_ids or self.active_ids()

    # ------------------------------------------------------------------------------ writes

    def create(self, body: Any, *, actor: str) -> Doc:
        fields = _catalog_fields(body)
        if not fields.id:
            raise Invalid("a catalog needs an `id` (URL-safe: A-Z a-z 0-9 . _ ~ -)")
        try:
            existing = self.store.get_catalog(fields.id)
        except NotFound:
            existing = None
        if existing is not None:
            state = (
                " (retired; it is removed after the retention period)" if existing.get("status") == "retired" else ""
            )
            raise Conflict(f"catalog {fields.id!r} exists already{state}")
        binding = StorageBinding.model_validate(self.provisioner.provision_catalog(fields.id))
        catalog = Catalog(**fields.model_dump(), storage=binding)
        audit = audit_doc(catalog.id, "catalog", catalog.id, "create", actor, storage=binding.model_dump())
        return self.store.put_catalog(catalog.to_doc(), expect_rev=0, audit=audit)

    def patch(self, catalog_id: str, patch: Any, *, actor: str, if_rev: int | None = None) -> Doc:
        """JSON merge patch; ``if_rev`` (If-Match): the revision the client read."""
        current = self.get(catalog_id)
        expect = expected_rev(current, if_rev, f"catalog {catalog_id!r}")
        if not isinstance(patch, dict):
            raise Invalid("a catalog patch is a JSON object (RFC 7386 merge patch)")
        forbidden = sorted(k for k in patch if k not in CLIENT_FIELDS)
        if forbidden:
            raise Invalid(
                f"cannot change {', '.join(forbidden)}; a catalog patch may set {', '.join(sorted(CLIENT_FIELDS))}"
            )
        if "id" in patch and patch["id"] != catalog_id:
            raise Invalid("a catalog id cannot be changed")
        client_view = {k: v for k, v in current.items() if k in CLIENT_FIELDS}
        fields = _catalog_fields(merge_patch(client_view, patch))
        updated = {**current, **fields.model_dump(mode="json"), "id": catalog_id, "updated": dtime.now_iso()}
        audit = audit_doc(catalog_id, "catalog", catalog_id, "update", actor, patch=patch)
        with precondition(if_rev, f"catalog {catalog_id!r}"):
            return self.store.put_catalog(updated, expect_rev=expect, audit=audit)

    def retire(self, catalog_id: str, *, actor: str, if_rev: int | None = None) -> Doc:
        """Soft: the catalog disappears at once; the scheduled cleanup removes it after retention."""
        current = self.get(catalog_id)
        expect = expected_rev(current, if_rev, f"catalog {catalog_id!r}")
        now = dtime.now_iso()
        updated = {**current, "status": "retired", "retired_at": now, "updated": now}
        audit = audit_doc(catalog_id, "catalog", catalog_id, "retire", actor)
        with precondition(if_rev, f"catalog {catalog_id!r}"):
            return self.store.put_catalog(updated, expect_rev=expect, audit=audit)


def _catalog_fields(body: Any) -> CatalogFields:
    if not isinstance(body, dict):
        raise Invalid('a catalog is a JSON object such as {"id": "demo", "title": "Demo"}')
    return validated(CatalogFields, body, "catalog")


def active_catalogs(store: MetadataStore) -> tuple[Doc, ...]:
    """Every active catalog document, all pages read."""
    docs: list[Doc] = []
    token: str | None = None
    while True:
        page = store.list_catalogs(status="active", limit=1000, token=token)
        docs.extend(page.items)
        token = page.next_token
        if not token:
            return tuple(docs)
