"""Short-``q`` benchmark on the local backend: asset search latency by ``q`` length at 1M assets.

Loads N assets (default 1,000,000) straight into a ``SqliteMetadataStore`` with batched
``write_assets`` calls (one transaction per 10,000: the store's bulk write path, no HTTP, no
validation), then times the first page (limit 100) of ``search_assets`` for ``q`` of lengths 1..6,
each with a common string (in most assets), a mid one (1 in 100), a rare one (1 in 20,000) and an
absent one, without and with other filters (a collection, a media type, a newest-first sort).
Prints p50/p95 over ``--runs`` runs of each query, and the load rate and CPU time (the write cost of
the indexes).

    .venv/bin/python scripts/bench/short_q.py [--assets 1000000] [--runs 20] [--data-dir DIR]

With ``--data-dir`` the database is kept and reused (loaded only if empty). A report, not a test:
it prints figures and never fails on them (goal: p95 ≤ 50 ms for every ``q`` length).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from dynastore.backends.local.metadata import SqliteMetadataStore
from dynastore.domain.search import AssetQuery, SortKey
from dynastore.ports import AssetWrite

CATALOG = "bench"
BANDS = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12", "SCL")
BATCH = 10_000
MID_EVERY = 100  # "mid" strings occur in 1 asset in 100
RARE_EVERY = 20_000  # "rare" strings in 1 in 20,000
# q strings of lengths 1..6 by class; "mid" and "rare" are only in the titles of 1 in N assets,
# "none" is nowhere. The common ones are in every id/title/file name.
QUERIES = {
    "common": ["a", "b0", "sce", "scen", "scene", "s2a_20"],
    "mid": ["ð", "kj", "kjw", "kjwy", "kjwyv", "kjwyvh"],
    "rare": ["þ", "qz", "qzx", "qzxw", "qzxwv", "qzxwvu"],
    "none": ["ÿ", "jj", "jjj", "jjjj", "jjjjj", "jjjjjj"],
}


def record(i: int) -> dict[str, Any]:
    day = 1 + i % 28
    month = 1 + (i // 28) % 12
    band = BANDS[i % len(BANDS)]
    title = f"{band} scene {i}"
    if i % MID_EVERY == 1:
        title += " ð kjwyvh"
    if i % RARE_EVERY == 11:
        title += " þ qzxwvu"
    return {
        "catalog_id": CATALOG,
        "id": f"a{i:07d}",
        "collection_id": f"col-{i % 10}",
        "item_id": f"scene-{i // 12:06d}",
        "href": f"gs://bench-bucket/bench/S2A_2024{month:02d}{day:02d}_{i:07d}_{band}.TIF",
        "type": "image/tiff; application=geotiff" if i % 4 else "image/png",
        "roles": ["data"],
        "title": title,
        "datetime": f"2024-{month:02d}-{day:02d}T10:00:00Z",
        "file:size": 1_000_000 + i,
        "status": "active",
        "created": "2024-06-01T00:00:00Z",
        "updated": f"2024-06-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z",
    }


def load(store: SqliteMetadataStore, count: int) -> None:
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, count, BATCH):
        store.write_assets([AssetWrite(record(i)) for i in range(start, min(count, start + BATCH))], audits=[])
        done = min(count, start + BATCH)
        if done % 100_000 == 0 or done == count:
            elapsed = time.perf_counter() - started
            used = time.process_time() - cpu
            rate = done / elapsed
            print(f"  loaded {done:,} in {elapsed:.1f} s ({rate:,.0f} assets/s), CPU {used:.1f} s", flush=True)
    size = sum(p.stat().st_size for p in store.path.parent.glob(store.path.name + "*"))
    print(f"  database {size / 1e6:,.0f} MB")


def timed(store: SqliteMetadataStore, query: AssetQuery, runs: int) -> tuple[float, float, int]:
    times = []
    found = 0
    for _ in range(runs):
        started = time.perf_counter()
        found = len(store.search_assets(query).items)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return statistics.median(times), p95, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--data-dir", type=Path, default=None, help="kept and reused; default: a temporary folder")
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="dynastore-bench-shortq-") as tmp:
        root = args.data_dir or Path(tmp)
        started = time.perf_counter()
        store = SqliteMetadataStore(root / "metadata.sqlite")
        print(f"open (schema, migrations) {time.perf_counter() - started:.2f} s")
        try:
            have = store.db.query_one("SELECT count(*) FROM assets")[0]
            if have == 0:
                print(f"loading {args.assets:,} assets in batches of {BATCH:,}")
                load(store, args.assets)
            else:
                print(f"reusing {have:,} assets in {root}")
            base = AssetQuery(catalog_ids=(CATALOG,), limit=100)
            variants = {
                "q only": base,
                "+collection": replace(base, collection_id="col-1"),
                "+type png": replace(base, types=("image/png",)),
                "+sort -updated": replace(base, sortby=(SortKey("updated", "desc"),)),
            }
            print(f"first page of 100, p50 / p95 ms over {args.runs} runs (hits on the page)")
            worst: dict[int, float] = {}
            for label, query in variants.items():
                print(f"{label}:")
                for kind, strings in QUERIES.items():
                    cells = []
                    for q in strings:
                        p50, p95, found = timed(store, replace(query, q=q), args.runs)
                        worst[len(q)] = max(worst.get(len(q), 0.0), p95)
                        cells.append(f"{q!r:>9} {p50:6.1f}/{p95:6.1f} ({found:3d})")
                    print(f"  {kind:<6} " + "  ".join(cells), flush=True)
            print("worst p95 by q length: " + ", ".join(f"{n}: {ms:.1f} ms" for n, ms in sorted(worst.items())))
        finally:
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
