"""Builders of the documents the contract tests store (through the domain models)."""

from __future__ import annotations

from typing import Any

from dynastore.domain.asset import Asset
from dynastore.domain.audit import AuditEvent
from dynastore.domain.catalog import Catalog
from dynastore.domain.job import Job
from dynastore.ports import AssetWrite, MetadataStore
from support.stac_docs import box as box  # re-exported: the contract tests import their builders from here
from support.stac_docs import collection_doc as collection_doc


def audit(catalog_id: str, record_type: str = "asset", record_id: str = "x", action: str = "create") -> dict[str, Any]:
    return AuditEvent(catalog_id=catalog_id, record_type=record_type, record_id=record_id, action=action).to_doc()  # type: ignore[arg-type]


def catalog_doc(catalog_id: str, **fields: Any) -> dict[str, Any]:
    return Catalog(id=catalog_id, **fields).to_doc()


def asset_doc(catalog_id: str, asset_id: str, **fields: Any) -> dict[str, Any]:
    fields.setdefault("href", f"https://example.com/{catalog_id}/{asset_id}")
    return Asset(id=asset_id, catalog_id=catalog_id, **fields).to_doc()


def item_doc(
    collection_id: str,
    item_id: str,
    *,
    geometry: dict[str, Any] | None = None,
    bbox: list[float] | None = None,
    **properties: Any,
) -> dict[str, Any]:
    if geometry is None and bbox is None:
        geometry = {"type": "Point", "coordinates": [0.5, 0.5]}
    doc: dict[str, Any] = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": item_id,
        "collection": collection_id,
        "geometry": geometry,
        "properties": {"datetime": "2024-01-01T00:00:00.000000Z", **properties},
        "links": [],
        "assets": {},
    }
    if bbox is not None:
        doc["bbox"] = bbox
    return doc


def job_doc(catalog_id: str, task_id: str = "checksum", **fields: Any) -> dict[str, Any]:
    return Job(task_id=task_id, catalog_id=catalog_id, **fields).to_doc()


def seed_catalog(store: MetadataStore, catalog_id: str) -> dict[str, Any]:
    return store.put_catalog(catalog_doc(catalog_id), expect_rev=0, audit=audit(catalog_id, "catalog", catalog_id))


def write_new(store: MetadataStore, *docs: dict[str, Any]) -> list[dict[str, Any]]:
    """Create assets (create-only), one audit event each."""
    writes = [AssetWrite(doc, expect_rev=0) for doc in docs]
    audits = [audit(doc["catalog_id"], "asset", doc["id"]) for doc in docs]
    return store.write_assets(writes, audits=audits)
