"""The shared part of the asset services: where an asset hangs (``Scope``), the scope checks, the
one atomic write and where an asset's bytes are. ``AssetService`` (services.assets) is built from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from dynastore.config import Settings
from dynastore.domain.asset import AssetFields, asset_level, file_name, key_in_catalog
from dynastore.domain.ids import check_id
from dynastore.domain.versions import parse_versioned
from dynastore.errors import Conflict, DynastoreError, Invalid, NotFound
from dynastore.ports import AssetWrite, BlobStore, Doc, MetadataStore
from dynastore.services.asset_records import AssetRecordBuilder
from dynastore.services.catalogs import CatalogService, CatalogStorage
from dynastore.services.patching import validation_detail
from dynastore.services.revisions import precondition

# Stored fields the service owns; a client body may not set them.
SYSTEM_FIELDS = frozenset(
    {"catalog_id", "collection_id", "item_id", "status", "created", "updated", "deleted_at", "storage", "rev"}
)


@dataclass(frozen=True)
class Scope:
    """Where an asset hangs: a catalog, one of its collections, or one of that collection's items."""

    catalog_id: str
    collection_id: str | None = None
    item_id: str | None = None

    @property
    def level(self) -> Literal["catalog", "collection", "item"]:
        return asset_level(self.collection_id, self.item_id)

    def holds(self, doc: Doc) -> bool:
        return (
            doc.get("catalog_id") == self.catalog_id
            and (doc.get("collection_id") or None) == self.collection_id
            and (doc.get("item_id") or None) == self.item_id
        )

    def describe(self) -> str:
        if self.item_id:
            return f"item {self.collection_id}/{self.item_id} of catalog {self.catalog_id!r}"
        if self.collection_id:
            return f"collection {self.collection_id!r} of catalog {self.catalog_id!r}"
        return f"catalog {self.catalog_id!r} (catalog level)"

    def relative_dir(self) -> str:
        """The key folder of this scope below the catalog prefix (``col/item/``, ``col/`` or empty)."""
        parts = [p for p in (self.collection_id, self.item_id) if p]
        return "".join(f"{p}/" for p in parts)


class AssetServiceBase:
    def __init__(self, store: MetadataStore, blobs: BlobStore, catalogs: CatalogService, settings: Settings) -> None:
        self.store = store
        self.blobs = blobs  # the landing bucket; a catalog's files are in `self.storage.for_catalog(catalog)`
        self.catalogs = catalogs
        self.settings = settings
        self.storage = CatalogStorage.reuse(catalogs.storage, blobs)
        self.records = AssetRecordBuilder(settings, catalogs, self.storage)  # href rules, stored shape, size cap
        self.hrefs = self.records.hrefs

    # ------------------------------------------------------------------------------ scope

    def check_scope(self, scope: Scope) -> Doc:
        """The active catalog of a scope, after checking its collection/item exist (``NotFound`` else)."""
        catalog = self.catalogs.require_active(scope.catalog_id)
        if scope.item_id:
            try:
                self.store.get_item(scope.catalog_id, scope.collection_id or "", scope.item_id)
            except NotFound:
                raise NotFound(
                    f"item {scope.item_id!r} does not exist in collection {scope.collection_id!r} "
                    f"of catalog {scope.catalog_id!r}"
                ) from None
        elif scope.collection_id:
            try:
                self.store.get_collection(scope.catalog_id, scope.collection_id)
            except NotFound:
                raise NotFound(
                    f"collection {scope.collection_id!r} does not exist in catalog {scope.catalog_id!r}"
                ) from None
        return catalog

    def _get_in_scope(self, scope: Scope, asset_id: str) -> Doc:
        """The record at this scope, any status (``NotFound`` when absent or elsewhere)."""
        return self._scoped(scope, asset_id)[1]

    def _scoped(self, scope: Scope, asset_id: str) -> tuple[Doc, Doc]:
        """(active catalog, record at this scope, any status); ``NotFound`` when absent or elsewhere."""
        catalog = self.catalogs.require_active(scope.catalog_id)
        try:
            doc = self.store.get_asset(scope.catalog_id, asset_id)
        except NotFound:
            raise NotFound(f"asset {asset_id!r} does not exist in {scope.describe()}") from None
        if not scope.holds(doc):
            raise NotFound(f"asset {asset_id!r} does not exist in {scope.describe()}")
        return catalog, doc

    def get(self, scope: Scope, asset_id: str) -> Doc:
        return self._get_active(scope, asset_id)[1]

    def _get_active(self, scope: Scope, asset_id: str) -> tuple[Doc, Doc]:
        catalog, doc = self._scoped(scope, asset_id)
        if doc.get("status") == "deleted":
            raise NotFound(f"asset {asset_id!r} was deleted (an editor can restore it)")
        return catalog, doc

    def stored_location(self, doc: Doc, catalog: Doc | None = None) -> tuple[BlobStore, str] | None:
        """(store, key) of the asset's bytes when its href points into its catalog's storage (the
        bucket and prefix of its binding), else None: nothing else is ever served or deleted.

        ``catalog`` is the asset's catalog record when the caller has it (else it is read)."""
        href = doc.get("href")
        if not href:
            return None
        catalog = catalog if catalog is not None else self.catalogs.get(doc["catalog_id"], include_retired=True)
        blobs = self.storage.for_catalog(catalog)
        key = key_in_catalog(blobs.key_for_href(href), self.storage.prefix_of(catalog))
        return (blobs, key) if key is not None else None

    def blobs_of(self, doc: Doc) -> BlobStore:
        """The store of the bucket an asset's catalog is bound to (retired catalogs included)."""
        return self.storage.for_catalog(self.catalogs.get(doc["catalog_id"], include_retired=True))

    def _check_writable(self, scope: Scope, current: Doc, asset_id: str) -> None:
        if not scope.holds(current):
            raise Conflict(
                f"asset {asset_id!r} exists in catalog {scope.catalog_id!r} at another level "
                f"(collection {current.get('collection_id')!r}, item {current.get('item_id')!r})"
            )
        if current.get("status") == "deleted":
            raise NotFound(f"asset {asset_id!r} was deleted; restore it before changing it")

    def _rerank_versions(self, doc: Doc) -> bool:
        """When ``doc`` is a version of an item's file (``name@stamp.ext``, seed 004), rank the item's
        versions again (``latest``, ``@latest``, the item's ``prov:bundle``/``sys:*``) at once, as
        indexing does on a storage event; True when that ran. A failure is left to the next event or
        reconcile of the item (the record write itself has landed)."""
        from dynastore.services.versions.index import VersionIndex

        if not doc.get("item_id") or parse_versioned(file_name(doc)) is None:
            return False
        try:
            VersionIndex(self.store).refresh(doc["catalog_id"], doc.get("collection_id") or "", doc["item_id"])
        except DynastoreError:
            return False
        return True

    def _write_one(self, doc: Doc, expect_rev: int | None, audit: Doc, if_rev: int | None = None) -> Doc:
        """One atomic asset write; with ``if_rev`` (If-Match) a concurrent writer is a 412."""
        with precondition(if_rev, f"asset {doc['id']!r}"):
            return self.store.write_assets([AssetWrite(doc, expect_rev)], audits=[audit])[0]


def client_view(doc: Doc) -> Doc:
    """The fields of a stored asset a client may set (what PATCH merges into)."""
    return {k: v for k, v in doc.items() if k not in SYSTEM_FIELDS and v is not None}


def parse_fields(body: Any) -> AssetFields:
    if not isinstance(body, dict):
        raise Invalid('an asset is a JSON object such as {"id": "b04", "href": "https://..."}')
    owned = sorted(k for k in body if k in SYSTEM_FIELDS)
    if owned:
        raise Invalid(f"{', '.join(owned)} cannot be set in the body: the path and the service set them")
    try:
        return AssetFields.model_validate(body)
    except ValidationError as exc:
        raise Invalid(validation_detail(exc, "asset")) from None


def opt_id(value: Any, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise Invalid(f"{what} must be a string")
    return check_id(value, what)
