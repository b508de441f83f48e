"""Bulk STAC item load on the local backend (issue 14): 20,000 items x 5 inline assets plus one item
with 10,000 assets, loaded in-process through the STAC service and, with ``--http``, over HTTP
(uvicorn, ``POST .../items`` with FeatureCollection bodies, or NDJSON with ``--ndjson``).

    .venv/bin/python scripts/bench/load.py [--items 20000] [--batch 2000] [--http] [--ndjson]

A report, not a test: it prints items/s and assets/s and never fails on them (goal: ≥ the peer's
``pypgstac load`` rate, about 5,000 items/s with 5 assets each on the same machine).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from dynastore.bootstrap import Services, bootstrap
from dynastore.config import Settings

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python scripts/bench/<name>.py`

from scripts.bench.served import served_client  # noqa: E402

KEYS = ("visual", "B02", "B03", "B04", "thumbnail")
BIG_ITEM_ASSETS = 10_000


def item(i: int, assets: int = len(KEYS)) -> dict[str, Any]:
    lon, lat = -170 + (i * 7) % 340, -80 + (i * 3) % 160
    keys = KEYS if assets == len(KEYS) else [f"tile-{k:05d}" for k in range(assets)]
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": f"S2B_{i:06d}",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[lon, lat], [lon + 1, lat], [lon + 1, lat + 1], [lon, lat + 1], [lon, lat]]],
        },
        "properties": {
            "datetime": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z",
            "platform": f"sat-{i % 10}",
            "eo:cloud_cover": i % 100,
        },
        "links": [],
        "assets": {
            key: {
                "href": f"https://data.example.com/s2/{i:06d}/{key}.tif",
                "type": "image/tiff; application=geotiff",
                "roles": ["data"],
                "title": f"{key} of scene {i}",
            }
            for key in keys
        },
    }


def items(count: int) -> Iterator[dict[str, Any]]:
    yield from (item(i) for i in range(count))
    yield item(count, BIG_ITEM_ASSETS)


def batches(count: int, size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for doc in items(count):
        batch.append(doc)
        if len(batch) >= size or len(doc["assets"]) >= BIG_ITEM_ASSETS:
            yield batch
            batch = []
    if batch:
        yield batch


def fresh(data_dir: Path) -> Services:
    settings = Settings(data_dir=data_dir, backend="local", api_keys="bench-key:admin", watch_bucket=False)
    services = bootstrap(settings)
    services.catalogs.create({"id": "bench", "title": "Bench"}, actor="bench")
    services.stac.create_collection(
        "bench",
        {
            "type": "Collection",
            "stac_version": "1.0.0",
            "id": "s2",
            "description": "bench",
            "license": "proprietary",
            "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [[None, None]]}},
            "links": [],
        },
        actor="bench",
    )
    return services


def load_in_process(services: Services, count: int, size: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process): on a shared machine the CPU time is the steadier figure."""
    started, cpu = time.perf_counter(), time.process_time()
    for batch in batches(count, size):
        services.stac.create_items("bench", "s2", batch, actor="bench")
    return time.perf_counter() - started, time.process_time() - cpu


def load_http(services: Services, count: int, size: int, ndjson: bool) -> float:
    url = "/stac/catalogs/bench/collections/s2/items"
    with served_client(services, timeout=600) as client:
        started = time.perf_counter()
        for batch in batches(count, size):
            if ndjson:
                body = b"".join(orjson.dumps(doc) + b"\n" for doc in batch)
                response = client.post(url, content=body, headers={"Content-Type": "application/x-ndjson"})
            else:
                body = orjson.dumps({"type": "FeatureCollection", "features": batch})
                response = client.post(url, content=body, headers={"Content-Type": "application/json"})
            if response.status_code != 201:
                raise SystemExit(f"load failed: {response.status_code} {response.text[:500]}")
        return time.perf_counter() - started


def report(label: str, seconds: float, count: int, cpu: float | None = None) -> None:
    assets = count * len(KEYS) + BIG_ITEM_ASSETS
    print(f"  {label:<32}: {seconds:7.1f} s  ({(count + 1) / seconds:,.0f} items/s, {assets / seconds:,.0f} assets/s)")
    if cpu is not None:
        rates = f"{(count + 1) / cpu:,.0f} items/s, {assets / cpu:,.0f} assets/s"
        print(f"  {'  by CPU time':<32}: {cpu:7.1f} s  ({rates})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=20_000, help="items with 5 assets (plus one with 10,000)")
    parser.add_argument("--batch", type=int, default=2_000, help="items per call / request")
    parser.add_argument("--http", action="store_true", help="also load over HTTP (uvicorn) into a fresh folder")
    parser.add_argument("--ndjson", action="store_true", help="over HTTP, post NDJSON bodies")
    parser.add_argument("--skip-in-process", action="store_true")
    args = parser.parse_args()

    print(f"Dynastore STAC load — local backend, {args.items + 1:,} items, {args.batch:,} per call")
    if not args.skip_in_process:
        with tempfile.TemporaryDirectory(prefix="dynastore-load-") as tmp:
            services = fresh(Path(tmp))
            wall, cpu = load_in_process(services, args.items, args.batch)
            report("in-process (STAC service)", wall, args.items, cpu)
            services.close()
    if args.http:
        with tempfile.TemporaryDirectory(prefix="dynastore-load-") as tmp:
            services = fresh(Path(tmp))
            label = "HTTP POST " + ("NDJSON" if args.ndjson else "FeatureCollection")
            report(label, load_http(services, args.items, args.batch, args.ndjson), args.items)
            services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
