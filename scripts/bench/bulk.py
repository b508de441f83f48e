"""Bulk benchmark on the local backend: load N assets through the bulk path, then time the hot reads.

Prints server-side times (the service calls the handlers make, JSON bytes included, no HTTP),
the median of a few runs, for: bulk-get of 10,000 ids, a `q` search at limit 100, and a full
NDJSON export. With ``--http`` it also times the same requests end to end through uvicorn.

    .venv/bin/python scripts/bench/bulk.py [--assets 100000] [--runs 5] [--http] [--data-dir DIR]

A report, not a test: it prints figures and never fails on them (goal: bulk-get ≤ 100 ms).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from dynastore.api.search_params import parse_search
from dynastore.bootstrap import Services, bootstrap
from dynastore.config import Settings

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python scripts/bench/<name>.py`

from scripts.bench.served import served_client  # noqa: E402

BANDS = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12", "SCL")
COLLECTIONS = 10
BATCH = 10_000


def record(i: int) -> dict[str, Any]:
    day = 1 + i % 28
    band = BANDS[i % len(BANDS)]
    name = f"S2A_2024{1 + (i // 28) % 12:02d}{day:02d}_{i:06d}_{band}.TIF"
    doc: dict[str, Any] = {
        "id": f"a{i:06d}",
        "href": f"gs://bench-bucket/bench/{name}",
        "type": "image/tiff; application=geotiff",
        "roles": ["data"],
        "title": f"{band} scene {i}",
        "tags": ["sentinel-2", band.lower()],
        "datetime": f"2024-{1 + (i // 28) % 12:02d}-{day:02d}T10:00:00Z",
        "metadata": {"cloud": i % 100, "band": band, "tile": f"T{i % 60:02d}ABC"},
        "file:size": 1_000_000 + i,
    }
    if i % 2:
        doc["collection_id"] = f"col-{i % COLLECTIONS}"
    return doc


def load(services: Services, catalog_id: str, count: int) -> float:
    services.catalogs.create({"id": catalog_id, "title": "Bench"}, actor="bench")
    for c in range(COLLECTIONS):
        services.stac.create_collection(
            catalog_id,
            {
                "type": "Collection",
                "stac_version": "1.0.0",
                "id": f"col-{c}",
                "description": "bench",
                "license": "proprietary",
                "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [[None, None]]}},
                "links": [],
            },
            actor="bench",
        )
    started = time.perf_counter()
    for offset in range(0, count, BATCH):
        batch = [record(i) for i in range(offset, min(count, offset + BATCH))]
        results = services.assets.bulk_upsert({"catalog_id": catalog_id, "assets": batch}, actor="bench")
        errors = [r for r in results if r.status == "error"]
        if errors:
            raise SystemExit(f"bulk load failed: record {errors[0].index}: {errors[0].error}")
        print(f"  loaded {offset + len(batch):>7,} assets", file=sys.stderr, flush=True)
    return time.perf_counter() - started


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times: list[float] = []
    result: Any = None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--http", action="store_true", help="also time the requests over HTTP (uvicorn)")
    parser.add_argument("--data-dir", default=None, help="default: a fresh temporary folder")
    args = parser.parse_args()

    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="dynastore-bench-"))
    settings = Settings(
        data_dir=data_dir,
        backend="local",
        api_keys="bench-key:admin",
        watch_bucket=False,
        href_allowed_prefixes="gs://bench-bucket/",  # the records point outside the catalog: registered as references
    )
    services = bootstrap(settings)
    catalog_id = "bench"
    print(f"loading {args.assets:,} assets into {data_dir} (bulk path, {BATCH:,} per call)", file=sys.stderr)
    load_seconds = load(services, catalog_id, args.assets)

    rng = random.Random(42)
    ids = [f"a{i:06d}" for i in rng.sample(range(args.assets), min(10_000, args.assets))]

    def bulk_get() -> int:
        return len(services.assets.bulk_get_json(catalog_id, ids))

    def search_q() -> int:
        query = parse_search({"q": "b04", "limit": 100, "catalog_id": catalog_id}, services.settings)
        page = services.search.run(query)
        return len(orjson.dumps({"assets": page.items, "next": page.next_token}))

    def export() -> int:
        return sum(chunk.count(b"\n") for chunk in services.assets.export_ndjson(catalog_id))

    bulk_ms, bulk_bytes = timed(bulk_get, args.runs)
    search_ms, search_bytes = timed(search_q, args.runs)
    export_ms, export_lines = timed(export, max(1, min(args.runs, 3)))

    print()
    print(f"Dynastore bulk benchmark — local backend, {args.assets:,} assets, median of {args.runs} runs")
    print(f"  load via POST /assets/bulk path : {load_seconds:8.1f} s  ({args.assets / load_seconds:,.0f} assets/s)")
    print(f"  bulk-get 10,000 ids (server)    : {bulk_ms:8.1f} ms  ({bulk_bytes / 1e6:.1f} MB JSON)")
    print(f"  search q=b04 limit=100 (server) : {search_ms:8.1f} ms  ({search_bytes / 1e3:.0f} kB JSON)")
    print(f"  export NDJSON, all (server)     : {export_ms:8.1f} ms  ({export_lines:,} lines)")

    if args.http:
        _http(services, catalog_id, ids, args.runs)
    services.close()
    return 0


def _http(services: Services, catalog_id: str, ids: list[str], runs: int) -> None:
    with served_client(services, timeout=120) as client:
        body = {"catalog_id": catalog_id, "ids": ids}
        bulk_ms, _ = timed(lambda: client.post("/assets/bulk-get", json=body).raise_for_status(), runs)
        search_ms, _ = timed(
            lambda: client.get("/assets/search", params={"q": "b04", "limit": 100}).raise_for_status(), runs
        )
        export_ms, _ = timed(lambda: client.get(f"/assets/catalogs/{catalog_id}/export").raise_for_status(), 3)
    print(f"  bulk-get 10,000 ids (HTTP)      : {bulk_ms:8.1f} ms")
    print(f"  search q=b04 limit=100 (HTTP)   : {search_ms:8.1f} ms")
    print(f"  export NDJSON, all (HTTP)       : {export_ms:8.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
