"""Bytes and time of one item's 10,000-asset page (issue 14, "lean pages"), next to the bytes of the
same item as stac-fastapi-pgstac answers it (a STAC item whose ``assets`` map key → Asset Object,
built here from the same input: the peer's links and item members are left out, so the peer figure
is a lower bound).

The item ``S2B_000099`` has 10,000 inline assets ``tile-NNNNN`` (href, type, roles, title), created
through the STAC service in one request, as a client loads them. Each variant of the page is asked
``--runs`` times over HTTP (uvicorn), without and with ``Accept-Encoding: gzip``; the median wall and
process CPU time (server and client share the process), the body's bytes and the bytes on the wire
are printed, and the bytes and CPU time of gzip level 1 and 6 of the body.

    .venv/bin/python scripts/bench/lean_page.py [--assets 10000] [--runs 10]

A report, not a test: it prints figures and never fails on them.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from dynastore.bootstrap import bootstrap
from dynastore.config import Settings

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python scripts/bench/<name>.py`

from scripts.bench.served import served_client  # noqa: E402

CATALOG, COLLECTION, ITEM = "bench", "s2", "S2B_000099"
VARIANTS: tuple[tuple[str, dict[str, str]], ...] = (
    ("default", {}),
    ("fields=-created,-updated", {"fields": "-created,-updated"}),
    ("fields=-id,-created,-updated", {"fields": "-id,-created,-updated"}),
)


def big_item(count: int) -> dict[str, Any]:
    assets = {
        f"tile-{k:05d}": {
            "href": f"https://data.example.com/s2/000099/tile-{k:05d}.tif",
            "type": "image/tiff; application=geotiff",
            "roles": ["data"],
            "title": f"tile-{k:05d} of scene 99",
        }
        for k in range(count)
    }
    ring = [[10.0, 45.0], [11.0, 45.0], [11.0, 46.0], [10.0, 46.0], [10.0, 45.0]]
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": ITEM,
        "collection": COLLECTION,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "bbox": [10.0, 45.0, 11.0, 46.0],
        "properties": {"datetime": "2024-05-01T10:00:00Z", "platform": "sentinel-2b"},
        "links": [],
        "assets": assets,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="dynastore-lean-"))
    settings = Settings(data_dir=data_dir, backend="local", api_keys="bench-key:admin", watch_bucket=False)
    services = bootstrap(settings)
    services.catalogs.create({"id": CATALOG, "title": "Bench"}, actor="bench")
    extent = {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [[None, None]]}}
    collection = {"type": "Collection", "stac_version": "1.0.0", "id": COLLECTION, "description": "bench"}
    services.stac.create_collection(
        CATALOG, {**collection, "license": "proprietary", "extent": extent, "links": []}, actor="bench"
    )
    item = big_item(args.assets)
    services.stac.create_item(CATALOG, COLLECTION, item, actor="bench")
    print(f"peer-shaped item (assets as key → Asset Object): {len(orjson.dumps(item)) / 1e6:.2f} MB")

    path = f"/stac/catalogs/{CATALOG}/collections/{COLLECTION}/items/{ITEM}/assets"
    with served_client(services) as client:
        for name, params in VARIANTS:
            query = {"limit": args.assets, **params}
            for encoding in ("identity", "gzip"):
                headers = {"Accept-Encoding": encoding}
                client.get(path, params=query, headers=headers).raise_for_status()  # warm-up
                wall, cpu = [], []
                body, wire = b"", 0
                for _ in range(args.runs):
                    started, cpu_started = time.perf_counter(), time.process_time()
                    response = client.get(path, params=query, headers=headers)
                    body = response.raise_for_status().content
                    wall.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - cpu_started) * 1000)
                    wire = response.num_bytes_downloaded
                packed = ""
                if encoding == "identity":
                    for level in (1, 6):
                        started = time.process_time()
                        size = len(gzip.compress(body, compresslevel=level))
                        spent = (time.process_time() - started) * 1000
                        packed += f"  gzip-{level} {size / 1e3:4.0f} kB in {spent:4.1f} ms"
                print(
                    f"  {name:<30} {encoding:<8} {len(body) / 1e6:5.2f} MB (wire {wire / 1e6:5.2f} MB)  "
                    f"median {statistics.median(wall):6.1f} ms  cpu {statistics.median(cpu):6.1f} ms{packed}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
