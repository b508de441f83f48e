"""``dynastore load``: bulk-load STAC items from an NDJSON file (or a FeatureCollection JSON file)
into a collection, in batches through the STAC service (not HTTP). Each batch is one all-or-nothing
upsert, so a re-run after a failure or an interruption loads the rest and leaves the loaded items
as they were sent (idempotent). On the local backend ``--workers N`` processes run the batches side
by side (``load_pool``); the gcp and aws backends load in this process."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dynastore.cli.common import settings_from
from dynastore.cli.indexing import _services
from dynastore.errors import DynastoreError

if TYPE_CHECKING:
    from dynastore.cli.load_pool import Outcome

DEFAULT_BATCH = 1000
MAX_AUTO_WORKERS = 4  # past that the single SQLite writer is the bottleneck


def add_commands(sub: argparse._SubParsersAction) -> None:
    load = sub.add_parser("load", help="bulk-load STAC items (NDJSON or a FeatureCollection file) into a collection",
                          formatter_class=_LimitsHelp)
    load.add_argument("path", metavar="FILE", help="items, one per line ({ndjson}), "
                      "or a FeatureCollection (.json, .geojson)")
    load.add_argument("--catalog", required=True, help="catalog id (it must exist)")
    load.add_argument("--collection", required=True, help="collection id (it must exist)")
    load.add_argument("--batch-size", type=int, default=DEFAULT_BATCH,
                      help=f"items per atomic write (default {DEFAULT_BATCH}, at most {{max_items}})")
    load.add_argument("--workers", type=_worker_count, default=1,
                      help="local backend: processes loading batches side by side (default 1: in this process, "
                      f"the last line of a repeated id wins; auto: the CPU count, at most {MAX_AUTO_WORKERS}); "
                      "gcp and aws: always 1")
    load.add_argument("--data-dir", default=None, help="local backend: blobs and SQLite (default ./.dynastore)")
    load.add_argument("--quiet", action="store_true", help="no progress bar")
    load.set_defaults(run=run_load)


class _LimitsHelp(argparse.HelpFormatter):
    """Fills the STAC service's limits (``{ndjson}``, ``{max_items}``) into ``load --help``, so that
    building the parser (for every command) does not import the STAC service."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        from dynastore.services.stac.bulk_load import NDJSON_SUFFIXES
        from dynastore.services.stac.items import MAX_BULK_ITEMS

        text = super()._get_help_string(action)
        return text and text.format(ndjson=", ".join(NDJSON_SUFFIXES), max_items=MAX_BULK_ITEMS)


def run_load(args: argparse.Namespace) -> int:
    from dynastore.cli.load_pool import CtrlC, Interrupted, load_pooled, load_serial
    from dynastore.services.stac.bulk_load import NDJSON_SUFFIXES, file_chunks
    from dynastore.services.stac.items import MAX_BULK_ITEMS

    path = Path(args.path)
    if not path.is_file():
        print(f"dynastore load: {path} is not a file", file=sys.stderr)
        return 2
    if not 1 <= args.batch_size <= MAX_BULK_ITEMS:
        print(f"dynastore load: --batch-size is between 1 and {MAX_BULK_ITEMS}", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("dynastore load: --workers is at least 1 (or auto)", file=sys.stderr)
        return 2
    lines = path.suffix.lower() in NDJSON_SUFFIXES
    total = _count_lines(path) if lines else None
    settings = settings_from(args)
    workers = _workers(args, total, settings.backend)
    outcomes: list[Outcome] = []
    started = time.perf_counter()
    try:
        with CtrlC() as stop:
            chunks = file_chunks(path, args.batch_size)
            services = _services(args, settings)
            try:
                services.stac.get_collection_doc(args.catalog, args.collection)
                if workers == 1:
                    with _progress(args, total) as advance:
                        load_serial(services, args, chunks, lines, _recorder(outcomes, advance), stop)
            finally:
                services.close()  # before forking: the workers open their own connections
            if workers > 1:
                with _progress(args, total) as advance:
                    load_pooled(args, chunks, lines, workers, _recorder(outcomes, advance), stop)
    except DynastoreError as exc:
        print(f"dynastore load: {exc.detail}", file=sys.stderr)
        return 1
    except Interrupted as exc:
        unsure = f"; {_spans(exc.unsure, lines)} were being written (each batch all or nothing)" if exc.unsure else ""
        print(f"dynastore load: interrupted; {_written(outcomes, lines)}{unsure}; "
              "run the command again to load the rest", file=sys.stderr)
        return 130
    failed = sorted((o for o in outcomes if o.error is not None), key=lambda o: o.first)
    if failed:
        for outcome in failed:
            print(f"dynastore load: {_span(outcome.first, outcome.last, lines)} not loaded: {outcome.error}",
                  file=sys.stderr)
        print(f"dynastore load: {_written(outcomes, lines)}; fix the file and run the command again "
              "(it upserts: the written items are rewritten as they are)", file=sys.stderr)
        return 1
    loaded = sum(o.loaded for o in outcomes)
    elapsed = time.perf_counter() - started
    on = f", {workers} workers" if workers > 1 else ""
    print(f"loaded {loaded:,} items in {elapsed:.1f} s ({loaded / max(elapsed, 1e-9):,.0f} items/s{on})")
    return 0


def _workers(args: argparse.Namespace, total: int | None, backend: str) -> int:
    """The worker processes: 1 on gcp/aws (their batched commits wait on the network, not on a
    local lock, and their SDK clients are not fork-safe), and for a file of one batch."""
    if backend != "local":
        if args.workers != 1:
            print("dynastore load: --workers applies to the local backend; loading in one process", file=sys.stderr)
        return 1
    if total is not None and total <= args.batch_size:
        return 1
    return int(args.workers)


def _worker_count(value: str) -> int:
    """``--workers``: a number, or ``auto`` for the CPU count (at most ``MAX_AUTO_WORKERS``).

    Not the default: batches written side by side finish in any order, so an item id repeated in
    two batches would end as whichever was written last, not as the file's last line says."""
    if value == "auto":
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return max(1, min(cpus, MAX_AUTO_WORKERS))
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number of processes or auto, not {value!r}") from None


def _recorder(outcomes: list[Outcome], advance: Any) -> Any:
    def done(outcome: Outcome) -> None:
        outcomes.append(outcome)
        advance(outcome.loaded)

    return done


def _span(first: int, last: int, lines: bool) -> str:
    if lines:
        return f"line {first}" if first == last else f"lines {first}-{last}"
    return f"features[{first}]" if first == last else f"features[{first}..{last}]"


def _spans(ranges: list[tuple[int, int]], lines: bool) -> str:
    """Record ranges, the adjacent ones merged: ``lines 1-2000, 3001-4000``."""
    merged: list[list[int]] = []
    for first, last in sorted(ranges):
        if merged and merged[-1][1] + 1 == first:
            merged[-1][1] = last
        else:
            merged.append([first, last])
    spans = [_span(a, b, lines) for a, b in merged]
    if lines:
        spans = [spans[0], *(s.split(" ", 1)[1] for s in spans[1:])]
    return ", ".join(spans)


def _written(outcomes: list[Outcome], lines: bool) -> str:
    """Which batches are written: ``written: lines 1-2000, 3001-4000 (3,000 items), nothing else``."""
    done = [(o.first, o.last) for o in outcomes if o.error is None]
    if not done:
        return "nothing is written"
    return f"written: {_spans(done, lines)} ({sum(o.loaded for o in outcomes):,} items), nothing else"


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
