"""Helpers of the indexing contract tests (``test_indexing_*.py``): services over any backend's ports.

Storage events are produced the way a real event source would: write the object through the
``BlobStore``, then describe it with ``StorageEvent.from_blob`` (a finalize) or, for a delete,
with what storage knew of the object before it went (generation, size, md5).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from dynastore.bootstrap import Adapters
from dynastore.config import Settings
from dynastore.domain.events import StorageEvent
from dynastore.domain.search import AssetQuery
from dynastore.errors import NotFound
from dynastore.ports import BlobInfo, Doc
from dynastore.services.catalogs import CatalogService
from dynastore.services.indexing import IndexingService
from dynastore.services.lifecycle import LifecycleService
from support.paging import all_items

ALL = ("active", "missing", "deleted")


@dataclass
class Indexing:
    adapters: Adapters
    settings: Settings
    catalogs: CatalogService
    indexing: IndexingService
    lifecycle: LifecycleService

    # ------------------------------------------------------------------ storage changes → events
    def put(self, key: str, data: bytes, metadata: dict[str, str] | None = None) -> BlobInfo:
        return self.adapters.blobs.put(key, data, metadata=metadata)

    def finalize(self, key: str, data: bytes, metadata: dict[str, str] | None = None) -> StorageEvent:
        return StorageEvent.from_blob(self.put(key, data, metadata))

    def delete(self, key: str) -> StorageEvent:
        info = self.adapters.blobs.stat(key)
        self.adapters.blobs.delete(key)
        return StorageEvent(
            kind="deleted", bucket=info.bucket, key=key, generation=info.generation, size=info.size, md5=info.md5,
            metadata=dict(info.metadata),
        )

    def sidecar(self, key: str, body: dict[str, Any]) -> StorageEvent:
        return self.finalize(key + ".meta.json", orjson.dumps(body))

    # ------------------------------------------------------------------ reading the store
    def asset_for(self, key: str) -> Doc:
        record = self.adapters.store.get_ingest_record(self.adapters.blobs.bucket, key)
        assert record.asset_id, f"{key} has no asset: {record}"
        return self.adapters.store.get_asset(record.catalog_id or key.split("/")[0], record.asset_id)

    def assets(self, catalog_id: str = "demo", statuses: tuple[str, ...] = ALL) -> list[Doc]:
        docs = all_items(
            lambda token: self.adapters.store.search_assets(
                AssetQuery(catalog_ids=(catalog_id,), status=statuses, limit=1000, token=token)
            )
        )
        return sorted(docs, key=lambda d: d["id"])

    def history(self, catalog_id: str, asset_id: str) -> list[str]:
        """The audit actions of an asset, oldest first."""
        page = self.adapters.store.list_audit(catalog_id, record_type="asset", record_id=asset_id, limit=1000)
        return [entry["action"] for entry in reversed(page.items)]

    def record(self, key: str) -> Any:
        try:
            return self.adapters.store.get_ingest_record(self.adapters.blobs.bucket, key)
        except NotFound:
            return None


def make_indexing(adapters: Adapters, tmp_path: Path, **overrides: Any) -> Indexing:
    settings = Settings(data_dir=tmp_path / "settings-only", watch_bucket=False, **overrides)
    catalogs = CatalogService(adapters.store, adapters.provisioner)
    indexing = IndexingService(adapters.store, adapters.blobs, adapters.provisioner, settings, catalogs=catalogs)
    lifecycle = LifecycleService(adapters.store, adapters.blobs, adapters.provisioner, settings, indexing=indexing)
    return Indexing(adapters, settings, catalogs, indexing, lifecycle)


VOLATILE_ASSET_FIELDS = ("created", "updated", "rev", "deleted_at")


def comparable_state(ix: Indexing, catalog_ids: tuple[str, ...], keys: list[str]) -> dict[str, Any]:
    """What a replay must reproduce: assets (minus timestamps), collections, items, ingest records."""
    store = ix.adapters.store
    state: dict[str, Any] = {}
    for catalog_id in catalog_ids:
        try:
            catalog = store.get_catalog(catalog_id)
        except NotFound:
            state[catalog_id] = None
            continue
        collections = sorted(c["id"] for c in store.list_collections(catalog_id, limit=1000).items)
        items = {
            col: sorted(i["id"] for i in store.list_items(catalog_id, col, limit=1000).items) for col in collections
        }
        assets = [
            {k: v for k, v in doc.items() if k not in VOLATILE_ASSET_FIELDS} for doc in ix.assets(catalog_id)
        ]
        state[catalog_id] = {"status": catalog["status"], "collections": collections, "items": items, "assets": assets}
    records = {}
    for key in keys:
        record = ix.record(key)
        records[key] = None if record is None else (record.status, record.asset_id, record.generation, record.error)
    state["ingest"] = records
    return state


def geotiff_bytes(tmp_path: Path, seed: int = 0) -> bytes:
    """A small real GeoTIFF (rasterio); ``seed`` changes its pixels, so its checksum."""
    import numpy as np
    import rasterio
    from affine import Affine

    path = tmp_path / f"scene-{seed}.tif"
    data = ((np.arange(32 * 32).reshape(1, 32, 32) + seed) % 251).astype("uint8")
    profile = {"driver": "GTiff", "width": 32, "height": 32, "count": 1, "dtype": "uint8", "crs": "EPSG:4326",
               "transform": Affine(0.01, 0, 12.0, 0, -0.01, 42.0)}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path.read_bytes()
