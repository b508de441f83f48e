"""``dynastore index``, ``dynastore reconcile`` and ``dynastore cleanup``.

- ``index PATH...``: index objects as they are now, in bulk, with a progress bar. A PATH is a file
  or folder inside the local bucket folder (``<data_dir>/bucket``) or, on any backend, a key
  prefix (``demo/s2/``).
- ``reconcile [--catalog C]``: compare bucket and store, index what is unindexed, mark what is
  gone; prints counts.
- ``cleanup``: purge catalogs retired longer than ``DYNASTORE_RETENTION_DAYS`` and soft-deleted
  assets past retention.

Each prints a summary (``--json`` for a machine-readable one) and exits 1 when something failed.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dynastore.cli.common import settings_from

if TYPE_CHECKING:
    from dynastore.bootstrap import Services
    from dynastore.config import Settings
    from dynastore.ports import BlobStore
    from dynastore.services.indexing import IngestOutcome


def add_commands(sub: argparse._SubParsersAction) -> None:
    index = sub.add_parser("index", help="index files already in the bucket, in bulk, with a progress bar")
    index.add_argument("paths", nargs="+", metavar="PATH",
                       help="a file or folder inside <data-dir>/bucket, or a key prefix such as demo/s2/")
    _common(index)
    index.set_defaults(run=run_index)

    reconcile = sub.add_parser("reconcile", help="compare bucket and store: index what is missing, mark what is gone")
    reconcile.add_argument("--catalog", default=None, help="only this catalog (default: every catalog and folder)")
    _common(reconcile)
    reconcile.set_defaults(run=run_reconcile)

    cleanup = sub.add_parser("cleanup", help="purge retired catalogs and soft-deleted assets past retention")
    _common(cleanup)
    cleanup.set_defaults(run=run_cleanup)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=None, help="local backend: blobs and SQLite (default ./.dynastore)")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON document")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _services(args: argparse.Namespace, settings: Settings | None = None) -> Services:
    """The services for a command (``settings``: the command's ``settings_from(args)``, when it has them)."""
    from dynastore.bootstrap import bootstrap

    settings = settings or settings_from(args)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return bootstrap(settings.model_copy(update={"watch_bucket": False}))


# ------------------------------------------------------------------------------------ index


def resolve_paths(paths: list[str], blobs: BlobStore) -> tuple[list[str], bool]:
    """The object keys named by command-line paths, and whether they form complete listings."""
    root = blobs.root
    keys: list[str] = []
    complete = True
    for arg in paths:
        candidate = Path(arg)
        if root is not None and candidate.exists():
            resolved = candidate.resolve()
            try:
                relative = resolved.relative_to(root).as_posix()
            except ValueError:
                raise SystemExit(
                    f"{arg} is outside the bucket folder {root}; copy it in first, e.g. cp -r {arg} {root}/<catalog>/"
                ) from None
            if resolved.is_dir():
                keys.extend(_keys_under(blobs, "" if relative == "." else relative + "/"))
            else:
                keys.append(relative)
                complete = False
        else:
            prefix = arg.lstrip("/")
            found = _keys_under(blobs, prefix)
            if not found:
                raise SystemExit(f"{arg}: no such file or folder in the bucket, and no object key starts with it")
            keys.extend(found)
    return list(dict.fromkeys(keys)), complete


def _keys_under(blobs: BlobStore, prefix: str) -> list[str]:
    return blobs.list_keys(prefix)


def run_index(args: argparse.Namespace) -> int:
    from dynastore.domain.events import ignored_reason

    services = _services(args)
    try:
        keys, complete = resolve_paths(args.paths, services.adapters.blobs)
        keys = [key for key in keys if ignored_reason(key) is None]
        outcomes = _with_progress(
            args, len(keys), "indexing",
            lambda progress: services.indexing.index_keys(keys, listed=complete, progress=progress),
        )
    finally:
        services.close()
    counts = Counter(outcome.status for outcome in outcomes)
    failures = [{"key": o.key, "error": o.detail or ""} for o in outcomes if o.status == "failed"]
    summary = {"objects": len(keys), **dict(counts), "failures": failures[:20]}
    _print_summary(args, "index", summary)
    return 1 if failures else 0


def _with_progress(args: argparse.Namespace, total: int, label: str, work: Any) -> Any:
    if args.quiet or args.json:
        return work(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TimeElapsedColumn())
    with Progress(*columns, transient=False) as progress:
        task = progress.add_task(label, total=total or None, rate="")

        def advance(outcome: IngestOutcome) -> None:
            progress.advance(task)
            elapsed = progress.tasks[0].elapsed or 0
            done = progress.tasks[0].completed
            if elapsed > 0:
                progress.update(task, rate=f"{done / elapsed:,.0f}/s")

        return work(advance)


# ------------------------------------------------------------------------------------ reconcile, cleanup


def run_reconcile(args: argparse.Namespace) -> int:
    services = _services(args)
    try:
        report = _with_progress(
            args, 0, "reconciling", lambda progress: services.lifecycle.reconcile(args.catalog, progress=progress)
        )
    finally:
        services.close()
    _print_summary(args, "reconcile", report.to_doc())
    return 1 if report.failed else 0


def run_cleanup(args: argparse.Namespace) -> int:
    services = _services(args)
    try:
        report = services.lifecycle.cleanup(progress=None if args.json or args.quiet else print)
    finally:
        services.close()
    _print_summary(args, "cleanup", report.to_doc())
    return 1 if report.errors else 0


def _print_summary(args: argparse.Namespace, what: str, summary: dict[str, Any]) -> None:
    if args.json:
        print(json.dumps(summary, sort_keys=True), flush=True)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"dynastore {what}", show_header=True)
    table.add_column("")
    table.add_column("count / value", justify="right")
    for name, value in summary.items():
        if name in ("failures", "errors") and value:
            continue
        table.add_row(name, ", ".join(value) if isinstance(value, list) else str(value))
    console = Console()
    console.print(table)
    for failure in (summary.get("failures") or [])[:20]:
        console.print(f"[red]failed[/red] {failure['key']}: {failure['error']}")
    for error in summary.get("errors") or []:
        console.print(f"[red]error[/red] {error}")
