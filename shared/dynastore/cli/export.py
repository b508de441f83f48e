"""``dynastore export-static DIR [--catalog C]``: write a static STAC tree (``services/static_export.py``).

Prints a summary (``--json``: one JSON document) and exits 1 when an item could not be exported.
``STAC_USE_SYMLINKS`` / ``STAC_SYMLINK_FALLBACK`` decide how the ``@latest`` aliases are written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dynastore.cli.indexing import _print_summary, _services
from dynastore.errors import DynastoreError


def add_commands(sub: argparse._SubParsersAction) -> None:
    export = sub.add_parser("export-static", help="write a static STAC catalog (catalog.json, collections/, items/)")
    export.add_argument("dir", metavar="DIR", help="the folder to write into (created if missing; re-runs update it)")
    export.add_argument("--catalog", default=None, help="only this catalog, at DIR itself (default: every catalog)")
    export.add_argument("--data-dir", default=None, help="local backend: blobs and SQLite (default ./.dynastore)")
    export.add_argument("--json", action="store_true", help="print the summary as one JSON document")
    export.set_defaults(run=run_export)


def run_export(args: argparse.Namespace) -> int:
    from dynastore.services.static_export import StaticExporter

    services = _services(args)
    try:
        exporter = StaticExporter(
            services.adapters.store, services.lifecycle.storage, services.stac, services.settings
        )
        report = exporter.export(Path(args.dir), args.catalog)
    except DynastoreError as exc:
        print(f"export-static failed: {exc}", flush=True)
        return 1
    finally:
        services.close()
    _print_summary(args, "export-static", report.to_doc())
    return 1 if report.errors else 0
