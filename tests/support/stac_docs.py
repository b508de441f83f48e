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
