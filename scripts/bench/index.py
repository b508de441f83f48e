"""Indexing benchmark on the local backend: objects per second, and upload-to-searchable latency.

1. **Bulk indexing**: N small files (default 10,000, 100 items of 100 files) are written into the
   bucket folder, then ``IndexingService.index_keys`` (what ``dynastore index`` runs) indexes them;
   prints objects/s. ``--hand-copied`` writes the files with plain ``open()`` (no blob-store
   metadata record, so the store hashes each file on its first ``stat``) instead of ``BlobStore.put``.
2. **Upload → searchable** with the folder watcher running (what ``dynastore dev`` runs):
   - single files, one at a time: time from the write until the asset is in the store (p50/p95);
   - a burst of ``--burst`` files: time from the last write until all are searchable.

    .venv/bin/python scripts/bench/index.py [--files 10000] [--burst 1000] [--singles 20] [--hand-copied]

A report, not a test: it prints figures and never fails on them (goal: ≥ 2,000 objects/s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from dynastore.backends.local.watcher import FolderWatcher
from dynastore.bootstrap import bootstrap
from dynastore.config import Settings
from dynastore.domain.search import AssetQuery
from dynastore.errors import NotFound


def write_files(bucket_root: Path, blobs: object, count: int, *, prefix: str, hand_copied: bool) -> list[str]:
    keys = []
    for n in range(count):
        key = f"{prefix}/item-{n // 100:04d}/obs-{n:06d}.csv"
        data = f"id,value,when\n{n},{n * 0.25},2024-05-01T10:00:00Z\n".encode()
        if hand_copied:
            path = bucket_root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        else:
            blobs.put(key, data)  # type: ignore[attr-defined]
        keys.append(key)
    return keys


def bench_bulk(data_dir: Path, files: int, hand_copied: bool) -> None:
    services = bootstrap(Settings(data_dir=data_dir, watch_bucket=False, log_level="WARNING"))
    blobs = services.adapters.blobs
    assert blobs.root is not None, "the local backend's bucket is a folder"
    try:
        started = time.perf_counter()
        keys = write_files(blobs.root, blobs, files, prefix="bench/obs", hand_copied=hand_copied)
        written = time.perf_counter() - started
        started = time.perf_counter()
        outcomes = services.indexing.index_keys(keys, listed=True)
        elapsed = time.perf_counter() - started
        indexed = sum(1 for o in outcomes if o.status == "indexed")
        failed = sum(1 for o in outcomes if o.status == "failed")
        how = "plain file writes" if hand_copied else "BlobStore.put"
        print(f"bulk indexing: {files:,} files ({how}, written in {written:.1f} s)")
        print(f"  indexed {indexed:,} (failed {failed}) in {elapsed:.2f} s = {files / elapsed:,.0f} objects/s")
        started = time.perf_counter()
        again = services.indexing.index_keys(keys, listed=True)
        elapsed_again = time.perf_counter() - started
        unchanged = sum(1 for o in again if o.status == "unchanged")
        print(f"  re-index (nothing changed: {unchanged:,} unchanged) {files / elapsed_again:,.0f} objects/s")
        started = time.perf_counter()
        report = services.lifecycle.reconcile("bench")
        print(f"  reconcile of the catalog ({report.scanned:,} objects, {report.indexed} indexed) "
              f"{time.perf_counter() - started:.2f} s")
    finally:
        services.close()


def bench_latency(data_dir: Path, burst: int, singles: int) -> None:
    services = bootstrap(Settings(data_dir=data_dir, watch_bucket=True, log_level="WARNING"))
    store = services.adapters.store
    bucket = services.adapters.blobs.root
    assert bucket is not None, "the local backend's bucket is a folder"
    services.start_background()
    try:
        watcher = next(w for w in services.background if isinstance(w, FolderWatcher))
        watcher.startup_reconcile_done.wait(600)
        latencies = []
        for n in range(singles):
            key = f"live/single/item-{n}/file.csv"
            path = bucket / key
            path.parent.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            path.write_bytes(f"id\n{n}\n".encode())
            while True:
                try:
                    if store.get_ingest_record(services.adapters.blobs.bucket, key).status == "indexed":
                        break
                except NotFound:
                    pass
                time.sleep(0.005)
            latencies.append(time.perf_counter() - started)
        latencies.sort()
        p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
        debounce = watcher.debounce_seconds
        print(f"upload → searchable, single files (watcher debounce {debounce:.2f} s): "
              f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms over {singles}")

        started = time.perf_counter()
        for n in range(burst):
            path = bucket / "live" / "burst" / f"scene-{n}" / "B04.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f"band,value\nB04,{n}\n".encode())
        copied = time.perf_counter()
        query = AssetQuery(catalog_ids=("live",), collection_id="burst")
        while store.count_assets(query) < burst:
            time.sleep(0.02)
        done = time.perf_counter()
        print(f"upload → searchable, burst of {burst:,} files: written in {copied - started:.2f} s, "
              f"all searchable {done - copied:.2f} s after the last write ({burst / (done - started):,.0f} files/s)")
    finally:
        services.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--burst", type=int, default=1_000)
    parser.add_argument("--singles", type=int, default=20)
    parser.add_argument("--hand-copied", action="store_true", help="write files with open() instead of BlobStore.put")
    parser.add_argument("--data-dir", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dynastore-bench-index-") as tmp:
        root = args.data_dir or Path(tmp)
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        bench_bulk(root / "bulk", args.files, args.hand_copied)
        bench_latency(root / "live", args.burst, args.singles)
    return 0


if __name__ == "__main__":
    sys.exit(main())
