"""Read benchmark on the local backend over HTTP (uvicorn): the read workloads of issue 14.

Generates (once per ``--data-dir``) 20,000 items x 5 assets in one collection plus one item with
10,000 assets, then prints the median and p95 of ``--runs`` requests for: all 10,000 assets of one
item on one page (and its bytes), an item search page of 100, 1,000 items by id (STAC search
``ids=`` and ``POST /assets/bulk-get`` of 1,000 asset ids), and asset search ``q=`` on both search
paths without and with a count. ``cpu``: the median process CPU time of a request (server and
client share the process; less noisy than wall time on a shared machine).

    .venv/bin/python scripts/bench/reads.py [--items 20000] [--runs 20] [--data-dir DIR]

A report, not a test: it prints figures and never fails on them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx

from dynastore.bootstrap import Services, bootstrap
from dynastore.config import Settings
from dynastore.domain.audit import audit_doc
from dynastore.ports import ItemWrite

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python scripts/bench/<name>.py`

from scripts.bench.served import served_client  # noqa: E402

CATALOG, COLLECTION, BIG_ITEM = "bench", "sentinel", "item-big"  # sorts after item-000000...
KEYS = ("visual", "B04", "B08", "SCL", "thumbnail")
CHUNK = 2_000


def item_doc(i: int) -> dict[str, Any]:
    """A stored item as the STAC service writes it (built directly: the benchmark times reads)."""
    x, y = -180 + (i * 0.017) % 359, -80 + (i * 0.011) % 159
    day = f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z"
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [],
        "id": f"item-{i:06d}",
        "collection": COLLECTION,
        "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]]},
        "bbox": [x, y, x + 1, y + 1],
        "properties": {
            "datetime": day,
            "platform": f"sat-{i % 20}",
            "eo:cloud_cover": i % 100,
            "created": day,
            "updated": day,
        },
        "links": [],
        "assets": {},
        "catalog_id": CATALOG,
    }


def asset(item_id: str, key: str, n: int) -> dict[str, Any]:
    """An asset with href, type, roles, title and file:size (the issue's generated data)."""
    return {
        "id": f"{item_id}.{key}",
        "collection_id": COLLECTION,
        "item_id": item_id,
        "href": f"https://data.example.com/bench/{item_id}/{key}.tif",
        "type": "image/tiff; application=geotiff; profile=cloud-optimized",
        "roles": ["thumbnail"] if key == "thumbnail" else ["data"],
        "title": f"{key} of {item_id}",
        "file:size": 1_000_000 + n,
    }


def load(services: Services, items: int) -> None:
    services.catalogs.create({"id": CATALOG, "title": "Bench"}, actor="bench")
    extent = {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [[None, None]]}}
    collection = {"type": "Collection", "stac_version": "1.0.0", "id": COLLECTION, "description": "bench"}
    services.stac.create_collection(
        CATALOG, {**collection, "license": "proprietary", "extent": extent, "links": []}, actor="bench"
    )
    docs = [item_doc(i) for i in range(items)] + [{**item_doc(items), "id": BIG_ITEM}]
    for start in range(0, len(docs), CHUNK):
        chunk = docs[start : start + CHUNK]
        writes = [ItemWrite(d, 0, audit_doc(CATALOG, "item", d["id"], "create", "bench")) for d in chunk]
        services.adapters.store.write_items(CATALOG, writes)
    records = [asset(f"item-{i:06d}", key, i) for i in range(items) for key in KEYS]
    records += [asset(BIG_ITEM, f"part-{n:05d}", n) for n in range(10_000)]
    for start in range(0, len(records), 10_000):
        batch = {"catalog_id": CATALOG, "assets": records[start : start + 10_000]}
        results = services.assets.bulk_upsert(batch, actor="bench")
        errors = [r for r in results if r.status == "error"]
        if errors:
            raise SystemExit(f"load failed: {errors[0].id}: {errors[0].error}")
        print(f"  {start + 10_000:>7,} / {len(records):,} assets", file=sys.stderr, flush=True)


def serve(services: Services) -> AbstractContextManager[httpx.Client]:
    return served_client(services, timeout=300)


def measure(name: str, send: Callable[[], httpx.Response], runs: int) -> None:
    if send().status_code >= 400:  # also the warm-up
        print(f"  {name:<48} refused: {send().text[:100]}")
        return
    times, cpu, size = [], [], 0
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = send()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        response.raise_for_status()
        size = len(response.content)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(
        f"  {name:<48} median {statistics.median(times):8.1f} ms  p95 {p95:8.1f} ms  "
        f"cpu {statistics.median(cpu):8.1f} ms  {size / 1e6:7.2f} MB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--data-dir", default=None, help="reused when it holds the data already")
    args = parser.parse_args()

    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="dynastore-reads-"))
    settings = Settings(data_dir=data_dir, backend="local", api_keys="bench-key:admin", watch_bucket=False)
    services = bootstrap(settings)
    try:
        services.adapters.store.get_catalog(CATALOG)
    except Exception:
        print(f"generating {args.items:,} items x {len(KEYS)} assets + 10,000 in {data_dir}", file=sys.stderr)
        load(services, args.items)

    base = f"/stac/catalogs/{CATALOG}"
    ids = [f"item-{i:06d}" for i in range(0, args.items, max(1, args.items // 1000))][:1000]
    asset_ids = [f"{i}.B04" for i in ids]
    print(f"Dynastore reads — local backend over HTTP, {args.items:,} items, median/p95 of {args.runs}")
    with serve(services) as client:
        big = f"{base}/collections/{COLLECTION}/items/{BIG_ITEM}/assets"
        measure("10,000 assets of one item (one page)", lambda: client.get(big, params={"limit": 10_000}), args.runs)
        measure("item search page of 100", lambda: client.get(f"{base}/search", params={"limit": 100}), args.runs)
        measure(
            "1,000 items by id (POST search ids=)",
            lambda: client.post(f"{base}/search", json={"ids": ids, "limit": 1000}),
            args.runs,
        )
        measure(
            "1,000 items by id (search ids= + collections=)",
            lambda: client.post(f"{base}/search", json={"ids": ids, "collections": [COLLECTION], "limit": 1000}),
            args.runs,
        )
        measure(
            "1,000 assets by id (POST /assets/bulk-get)",
            lambda: client.post("/assets/bulk-get", json={"catalog_id": CATALOG, "ids": asset_ids}),
            args.runs,
        )
        for path in (f"{base}/asset-search", "/assets/search"):
            for extra in ({}, {"count": "true"}):
                params = {"q": "b04", "limit": 100, **extra}
                if path == "/assets/search":
                    params["catalog_id"] = CATALOG
                label = f"{path.replace(base, '…')} q={'+count' if extra else ''}"
                measure(label, lambda p=params, u=path: client.get(u, params=p), args.runs)  # type: ignore[misc]
    services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
