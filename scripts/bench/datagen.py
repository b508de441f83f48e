"""Deterministic STAC data for ``vs_pgstac.py``: N items x 5 assets plus one item with many assets.

Pure functions of ``(count, seed)``: the same arguments give byte-identical NDJSON, so the peer
(stac-fastapi-pgstac) and we load exactly the same documents. Two collections: ``bench`` (the N
small items) and ``bench-big`` (the one big item), so a search page over ``bench`` never drags the
big item in.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

COLLECTION = "bench"
BIG_COLLECTION = "bench-big"
BIG_ITEM = "big-item"
ASSET_KEYS = ("B02", "B03", "B04", "B08", "visual")
HREF_BASE = "https://data.example.com/bench/"
PLATFORMS = 20  # platform sat-0 .. sat-19; '%sat-9%' matches sat-9 only (1 item in 20)


def collection(collection_id: str, title: str) -> dict[str, Any]:
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": collection_id,
        "title": title,
        "description": f"vs_pgstac benchmark: {title}",
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [["2020-01-01T00:00:00Z", "2024-12-31T23:59:59Z"]]},
        },
        "links": [],
    }


def collections() -> list[dict[str, Any]]:
    return [collection(COLLECTION, "small items"), collection(BIG_COLLECTION, "one item with many assets")]


def _asset(item_id: str, key: str, index: int) -> dict[str, Any]:
    is_visual = key == "visual"
    return {
        "href": f"{HREF_BASE}{item_id}/{key}.tif",
        "type": "image/tiff; application=geotiff; profile=cloud-optimized",
        "title": f"{key} of {item_id}",
        "roles": ["visual"] if is_visual else ["data"],
        "file:size": 1_000_000 + index,
    }


def item(i: int, rng: random.Random, collection_id: str = COLLECTION, item_id: str | None = None) -> dict[str, Any]:
    """One item; ``rng`` supplies position, time and cloud cover (call in order for determinism)."""
    item_id = item_id or f"item-{i:06d}"
    lon = round(rng.uniform(-179.0, 178.0), 5)
    lat = round(rng.uniform(-80.0, 79.0), 5)
    day = rng.randrange(0, 365 * 4)
    year, doy = 2020 + day // 365, day % 365
    month, mday = 1 + doy // 31 % 12, 1 + doy % 28
    when = f"{year}-{month:02d}-{mday:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z"
    ring = [[lon, lat], [lon + 1, lat], [lon + 1, lat + 1], [lon, lat + 1], [lon, lat]]
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [],
        "id": item_id,
        "collection": collection_id,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "bbox": [lon, lat, lon + 1, lat + 1],
        "properties": {
            "datetime": when,
            "platform": f"sat-{i % PLATFORMS}",
            "eo:cloud_cover": round(rng.uniform(0, 100), 2),
            "title": f"Scene {i}",
        },
        "links": [],
        "assets": {key: _asset(item_id, key, i * 10 + k) for k, key in enumerate(ASSET_KEYS)},
    }


def big_item(asset_count: int, seed: int) -> dict[str, Any]:
    """The item with ``asset_count`` assets (keys ``a00000`` ...), in ``bench-big``."""
    doc = item(0, random.Random(seed + 1), BIG_COLLECTION, BIG_ITEM)
    doc["assets"] = {f"a{k:05d}": _asset(BIG_ITEM, f"a{k:05d}", k) for k in range(asset_count)}
    return doc


def items(count: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for i in range(count):
        yield item(i, rng)


def write(folder: Path, count: int, big_assets: int, seed: int = 42) -> dict[str, Path]:
    """Write ``collections.ndjson``, ``items.ndjson`` (bench) and ``big.ndjson``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.ndjson" for name in ("collections", "items", "big")}
    paths["collections"].write_bytes(b"".join(orjson.dumps(c) + b"\n" for c in collections()))
    with paths["items"].open("wb") as out:
        for doc in items(count, seed):
            out.write(orjson.dumps(doc) + b"\n")
    paths["big"].write_bytes(orjson.dumps(big_item(big_assets, seed)) + b"\n")
    return paths


def sample_ids(count: int, how_many: int, seed: int) -> list[str]:
    """``how_many`` distinct item ids of the ``bench`` collection, deterministic in ``seed``."""
    return [f"item-{i:06d}" for i in random.Random(seed + 2).sample(range(count), min(how_many, count))]
