"""``dynastore load`` with ``--workers 1`` against ``--workers auto`` (issue 14), on the data
``vs_pgstac.py`` loads: ``datagen`` NDJSON written once (20,000 items x 5 assets, one item with
10,000 assets), each run on a fresh local data dir with the catalog and both collections, runs
interleaved. Prints wall and CPU seconds (the CLI and its workers) per run, and checks that every
run stored the same items and assets (counts, and a digest of all records without their times).

    .venv/bin/python scripts/bench/load_workers.py [--items 20000] [--big-assets 10000] [--repeat 3]
                                                   [--workers 1,auto]

A report, not a test: it never fails on the figures (the peer's ``pypgstac load``: 1.90 s here).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python scripts/bench/<name>.py`

from scripts.bench import datagen  # noqa: E402

CATALOG = "bench"
TIMES = {"created", "updated", "datetime_indexed", "at"}


def env(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DYNASTORE_BACKEND": "local",
        "DYNASTORE_DATA_DIR": str(data_dir),
        "DYNASTORE_WATCH_BUCKET": "false",
        "DYNASTORE_HREF_ALLOWED_PREFIXES": datagen.HREF_BASE,
        "DYNASTORE_LOG_LEVEL": "WARNING",
    }


def services(data_dir: Path) -> Any:
    from dynastore.bootstrap import bootstrap
    from dynastore.config import Settings

    return bootstrap(Settings(backend="local", data_dir=data_dir, watch_bucket=False,
                              href_allowed_prefixes=datagen.HREF_BASE))  # type: ignore[call-arg]


def prepare(data_dir: Path) -> None:
    """The catalog and the two collections (not timed)."""
    svc = services(data_dir)
    svc.catalogs.create({"id": CATALOG, "title": "load workers"}, actor="bench")
    for doc in datagen.collections():
        svc.stac.create_collection(CATALOG, doc, actor="bench")
    svc.close()


def load(data_dir: Path, paths: dict[str, Path], workers: str) -> tuple[float, float]:
    """Wall and CPU seconds of the two ``dynastore load`` runs (items, then the big item)."""
    extra = ["--workers", workers]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    for name, collection in (("items", datagen.COLLECTION), ("big", datagen.BIG_COLLECTION)):
        command = [sys.executable, "-m", "dynastore.cli", "load", str(paths[name]),
                   "--catalog", CATALOG, "--collection", collection, "--quiet", *extra]
        subprocess.run(command, check=True, env=env(data_dir), stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in TIMES}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def digest(data_dir: Path) -> tuple[int, int, str]:
    """Items, assets, and a digest of every item and asset record without its times."""
    svc = services(data_dir)
    store = svc.adapters.store
    h = hashlib.sha256()
    items = assets = 0
    for collection in (datagen.COLLECTION, datagen.BIG_COLLECTION):
        token = None
        while True:
            page = store.list_items(CATALOG, collection, limit=1000, token=token)
            for doc in sorted(page.items, key=lambda d: d["id"]):
                h.update(orjson.dumps(_strip(doc), option=orjson.OPT_SORT_KEYS))
                items += 1
            token = page.next_token
            if not token:
                break
    for doc in sorted(store.export_assets(CATALOG), key=lambda d: d["id"]):
        h.update(orjson.dumps(_strip(doc), option=orjson.OPT_SORT_KEYS))
        assets += 1
    svc.close()
    return items, assets, h.hexdigest()[:16]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--big-assets", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", default="1,auto", help="comma-separated --workers values (default: 1,auto)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dynastore-load-workers-"))
    try:
        paths = datagen.write(work / "files", args.items, args.big_assets, args.seed)
        print(f"data: {args.items:,} items x 5 assets + 1 x {args.big_assets:,} in {work / 'files'}")
        seen: dict[str, tuple[int, int, str]] = {}
        for run in range(args.repeat):
            for workers in args.workers.split(","):
                data_dir = work / f"data-{run}-{workers}"
                prepare(data_dir)
                wall, cpu = load(data_dir, paths, workers)
                seen[f"{run}-{workers}"] = check = digest(data_dir)
                shutil.rmtree(data_dir)
                total = args.items + 1
                print(f"run {run} --workers {workers:>7}: {wall:6.2f} s wall, {cpu:6.2f} s CPU, "
                      f"{total / wall:7,.0f} items/s; stored {check[0]:,} items, {check[1]:,} assets, "
                      f"digest {check[2]}", flush=True)
        same = len(set(seen.values())) == 1
        print("every run stored the same records" if same else f"RUNS DIFFER: {seen}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
