"""STAC documents the tests create (one builder each, shared by the test folders)."""

from __future__ import annotations

from typing import Any


def box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    """A GeoJSON Polygon covering the rectangle."""
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def collection_doc(collection_id: str, *, start: str | None = None, **fields: Any) -> dict[str, Any]:
    """A valid STAC Collection covering the globe from ``start`` (None: open); ``fields`` override or add members."""
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": collection_id,
        "description": f"collection {collection_id}",
        "license": "proprietary",
        "extent": {"spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]}, "temporal": {"interval": [[start, None]]}},
        "links": [],
        **fields,
    }


def item_doc(
    item_id: str,
    collection_id: str | None,
    bbox: tuple[float, float, float, float] = (10.0, 40.0, 10.0, 40.0),
    *,
    datetime: str = "2024-01-01T00:00:00Z",
    **fields: Any,
) -> dict[str, Any]:
    """A valid STAC Item of ``collection_id`` over ``bbox`` (a Point where the box is one); ``fields``
    override or add members."""
    west, south, east, north = bbox
    point = {"type": "Point", "coordinates": [west, south]}
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": item_id,
        "collection": collection_id,
        "geometry": point if (west, south) == (east, north) else box(west, south, east, north),
        "bbox": [west, south, east, north],
        "properties": {"datetime": datetime},
        "links": [],
        "assets": {},
        **fields,
    }


def store_catalog_with_item(store: Any, item: dict[str, Any] | None = None) -> None:
    """Through a MetadataStore: catalog ``c``, collection ``s2`` and ``item`` (default: a bare ``i1``),
    each at revision 1."""
    from dynastore.domain.audit import audit_doc

    store.put_catalog({"id": "c", "title": "c"}, expect_rev=0, audit=audit_doc("c", "catalog", "c", "create"))
    collection = {"type": "Collection", "id": "s2", "catalog_id": "c", "description": "d", "license": "l"}
    store.put_collection("c", collection, expect_rev=0, audit=audit_doc("c", "collection", "s2", "create"))
    item = item or {"type": "Feature", "id": "i1", "collection": "s2", "catalog_id": "c", "properties": {}}
    store.put_item("c", item, expect_rev=0, audit=audit_doc("c", "item", item["id"], "create"))
