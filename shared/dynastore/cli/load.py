"""``dynastore load``: bulk-load STAC items from an NDJSON file (or a FeatureCollection JSON file)
into a collection, in batches through the STAC service (not HTTP). Each batch is one all-or-nothing
upsert, so a re-run after a failure or an interruption loads the rest and leaves the loaded items
as they were sent (idempotent)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from dynastore.cli.indexing import _services
from dynastore.errors import DynastoreError
from dynastore.services.stac.bulk_load import NDJSON_SUFFIXES, file_batches
from dynastore.services.stac.items import MAX_BULK_ITEMS

DEFAULT_BATCH = 1000


def add_commands(sub: argparse._SubParsersAction) -> None:
    load = sub.add_parser("load", help="bulk-load STAC items (NDJSON or a FeatureCollection file) into a collection")
    load.add_argument("path", metavar="FILE", help=f"items, one per line ({', '.join(NDJSON_SUFFIXES)}), "
                      "or a FeatureCollection (.json, .geojson)")
    load.add_argument("--catalog", required=True, help="catalog id (it must exist)")
    load.add_argument("--collection", required=True, help="collection id (it must exist)")
    load.add_argument("--batch-size", type=int, default=DEFAULT_BATCH,
                      help=f"items per atomic write (default {DEFAULT_BATCH}, at most {MAX_BULK_ITEMS})")
    load.add_argument("--data-dir", default=None, help="local backend: blobs and SQLite (default ./.dynastore)")
    load.add_argument("--quiet", action="store_true", help="no progress bar")
    load.set_defaults(run=run_load)


def run_load(args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.is_file():
        print(f"dynastore load: {path} is not a file", file=sys.stderr)
        return 2
    if not 1 <= args.batch_size <= MAX_BULK_ITEMS:
        print(f"dynastore load: --batch-size is between 1 and {MAX_BULK_ITEMS}", file=sys.stderr)
        return 2
    lines = path.suffix.lower() in NDJSON_SUFFIXES
    total = _count_lines(path) if lines else None
    services = _services(args)
    loaded = 0
    started = time.perf_counter()
    try:
        with _progress(args, total) as advance:
            for first, batch in file_batches(path, args.batch_size):
                services.stac.create_items(
                    args.catalog, args.collection, batch, actor="cli", upsert=True, lines=lines, first=first
                )
                loaded += len(batch)
                advance(len(batch))
    except DynastoreError as exc:
        print(f"dynastore load: {exc.detail} (the {loaded:,} items before this batch are loaded; "
              "fix the file and run the command again)", file=sys.stderr)
        return 1
    finally:
        services.close()
    elapsed = time.perf_counter() - started
    print(f"loaded {loaded:,} items in {elapsed:.1f} s ({loaded / max(elapsed, 1e-9):,.0f} items/s)")
    return 0


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
    return count


class _progress:
    """A rich progress bar over items (advance(n)); nothing with ``--quiet``."""

    def __init__(self, args: argparse.Namespace, total: int | None) -> None:
        self.bar: Any = None
        if not args.quiet:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("[bold]loading"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[rate]}"), TimeElapsedColumn())
            self.task = self.bar.add_task("loading", total=total, rate="")

    def __enter__(self) -> Any:
        if self.bar is None:
            return lambda n: None
        self.bar.start()

        def advance(n: int) -> None:
            self.bar.advance(self.task, n)
            state = self.bar.tasks[0]
            if state.elapsed:
                self.bar.update(self.task, rate=f"{state.completed / state.elapsed:,.0f} items/s")

        return advance

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
