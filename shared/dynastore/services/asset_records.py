"""The one way a user's asset record is made: its write-time rules in one place.

Every path that builds an asset record from a client's fields (the asset API, bulk, uploads and
the assets inline in a STAC item) goes through ``AssetRecordBuilder``: the href rule of services.hrefs
(storage hrefs only inside the catalog's own storage or an allow-listed prefix), the storage
coordinates of an href into that storage, the stored shape (``domain.asset.asset_doc``, no second
validation pass) and the record size cap (``DYNASTORE_MAX_RECORD_BYTES``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Protocol

from dynastore.config import Settings
from dynastore.domain import time as dtime
from dynastore.domain.asset import AssetFields, StorageLocation, asset_doc, check_record_size, key_in_catalog
from dynastore.errors import NotFound, Unavailable
from dynastore.ports import BlobInfo, BlobStore, Doc
from dynastore.services.catalogs import CatalogService, CatalogStorage
from dynastore.services.hrefs import WEB_SCHEMES, HrefPolicy

MAX_REMEMBERED_PREFIXES = 4096
MAX_PASSED_HOSTS = 1024  # http(s) href heads one ``href_checker`` remembers as passed


class AssetScope(Protocol):
    """Where a new asset hangs (``services.assets.Scope``)."""

    @property
    def catalog_id(self) -> str: ...
    @property
    def collection_id(self) -> str | None: ...
    @property
    def item_id(self) -> str | None: ...


class AssetRecordBuilder:
    def __init__(self, settings: Settings, catalogs: CatalogService, storage: CatalogStorage | None = None) -> None:
        """``storage``: the catalogs' bucket stores (by default the catalog service's own)."""
        self.settings = settings
        self.catalogs = catalogs
        self._storage = storage
        self.hrefs = HrefPolicy(settings)
        self._prefixes: dict[str, str] = {}  # catalog id -> key prefix of its binding (fixed at creation)

    @property
    def storage(self) -> CatalogStorage:
        storage = self._storage or self.catalogs.storage
        if storage is None:
            raise Unavailable("asset records need the catalogs' blob storage; this service was built without it")
        return storage

    def new(
        self,
        scope: AssetScope,
        fields: AssetFields,
        info: BlobInfo | None = None,
        *,
        blobs: BlobStore,
        now: str | None = None,
    ) -> Doc:
        """The stored record of a new asset (``fields`` are validated already).

        ``blobs``: the store of the catalog's bucket (an href into it gets storage coordinates,
        from ``info`` when the caller has just written the bytes)."""
        now = now or dtime.now_iso()
        location = self._storage_for(blobs, self.checked_key(scope.catalog_id, blobs, fields.href or ""), info)
        doc = asset_doc(
            fields.id or uuid.uuid4().hex,
            fields,
            catalog_id=scope.catalog_id,
            collection_id=scope.collection_id,
            item_id=scope.item_id,
            created=now,
            storage=location.model_dump(mode="json") if location else None,
        )
        return self.sized(doc)

    def replaced(self, current: Doc, fields: AssetFields, *, blobs: BlobStore, now: str | None = None) -> Doc:
        """``current`` with its client fields replaced by ``fields`` (system fields kept; a changed
        href is checked and located again)."""
        storage: Any = current.get("storage")
        if fields.href != current.get("href"):
            location = self._storage_for(blobs, self.checked_key(current["catalog_id"], blobs, fields.href or ""))
            storage = location.model_dump(mode="json") if location else None
        doc = asset_doc(
            current["id"],
            fields,
            catalog_id=current["catalog_id"],
            collection_id=current.get("collection_id"),
            item_id=current.get("item_id"),
            status=current.get("status", "active"),
            created=current.get("created") or now or dtime.now_iso(),
            updated=now or dtime.now_iso(),
            deleted_at=current.get("deleted_at"),
            storage=storage,
            rev=current.get("rev", 0),
        )
        return self.sized(doc)

    def item_asset(
        self,
        asset_id: str,
        fields: AssetFields | Doc,
        *,
        catalog_id: str,
        collection_id: str,
        item_id: str,
        current: Doc | None,
        check_href: Callable[[str], None],
        now: str | None = None,
    ) -> Doc:
        """An asset written inline in a STAC item body: active, its storage coordinates kept from the
        record it replaces; the href rule (``check_href``, from ``href_checker``) applies to a new or
        changed href, the size cap always. ``fields``: ``AssetFields``, or the same fields in their
        stored form (``stac.inline_assets.plain_asset_fields``)."""
        href = fields.href if isinstance(fields, AssetFields) else fields.get("href")
        now = now or dtime.now_iso()
        if current is None:  # a new record (a bulk load's every asset)
            check_href(href or "")
            created, storage, rev = now, None, 0
        else:
            if href != current.get("href"):
                check_href(href or "")
            created, storage, rev = current.get("created") or now, current.get("storage") or None, current.get("rev", 0)
        doc = asset_doc(
            asset_id,
            fields,
            catalog_id=catalog_id,
            collection_id=collection_id,
            item_id=item_id,
            created=created,
            updated=now,
            storage=storage,
            rev=rev,
        )
        return self.sized(doc)

    def blobs_of(self, catalog_id: str) -> BlobStore:
        """The store of the bucket a catalog is bound to."""
        return self.storage.for_catalog(self.catalogs.get(catalog_id, include_retired=True))

    def checked_key(self, catalog_id: str, blobs: BlobStore, href: str) -> str | None:
        """The key ``href`` names inside the catalog's own storage, None for an external href the
        rules allow (services.hrefs); ``Invalid`` naming the rule otherwise."""
        prefix = self._prefix(catalog_id)
        key = key_in_catalog(blobs.key_for_href(href), prefix) if href else None
        if href:
            self.hrefs.check(href, own_key=key, catalog_id=catalog_id, storage_href=blobs.href(prefix + "_")[:-1])
        return key

    def href_checker(self, catalog_id: str, blobs: BlobStore) -> Callable[[str], None]:
        """``checked_key`` of one catalog as a function of the href, its prefix and storage href
        worked out once (for the many hrefs of a bulk write)."""
        prefix = self._prefix(catalog_id)
        storage_href = blobs.href(prefix + "_")[:-1]
        check = self.hrefs.check
        # The http(s) rule reads only an href's authority (its host), which ends at the first "/",
        # "?" or "#" after the scheme: an href whose text up to its first "/" after "https://" is
        # that of one that passed passes too (bulk loads name a few hosts, thousands of times).
        passed: set[str] = set()

        def checked(href: str) -> None:
            if not href:
                return
            if href.startswith(WEB_SCHEMES):
                end = href.find("/", 8)  # after "https://" (and after "http://" plus one character)
                head = href[: end + 1] if end > 0 else None
                if head in passed:
                    return
                check(href, own_key=None, catalog_id=catalog_id, storage_href=storage_href)
                if head is not None and len(passed) < MAX_PASSED_HOSTS:
                    passed.add(head)
                return
            key = key_in_catalog(blobs.key_for_href(href), prefix)
            check(href, own_key=key, catalog_id=catalog_id, storage_href=storage_href)

        return checked

    def _prefix(self, catalog_id: str) -> str:
        """The key prefix of a catalog's binding (fixed at creation, so remembered)."""
        prefix = self._prefixes.get(catalog_id)
        if prefix is None:
            prefix = self.storage.prefix_of(self.catalogs.get(catalog_id, include_retired=True))
            if len(self._prefixes) >= MAX_REMEMBERED_PREFIXES:
                self._prefixes.clear()
            self._prefixes[catalog_id] = prefix
        return prefix

    def sized(self, doc: Doc) -> Doc:
        """``doc`` when its JSON fits ``DYNASTORE_MAX_RECORD_BYTES``, else ``PayloadTooLarge`` naming the limit."""
        check_record_size(doc, self.settings.max_record_bytes)
        return doc

    @staticmethod
    def _storage_for(blobs: BlobStore, key: str | None, info: BlobInfo | None = None) -> StorageLocation | None:
        if key is None:
            return None
        if info is None:
            try:
                info = blobs.stat(key)
            except NotFound:
                return StorageLocation(bucket=blobs.bucket, key=key)
        return StorageLocation(bucket=info.bucket, key=info.key, generation=info.generation, etag=info.etag)
