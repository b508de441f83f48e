"""The ``dynastore`` command (console script ``dynastore = dynastore.cli:main``; ``python -m dynastore.cli``).

One module per command group, each with an ``add_commands(sub)`` that registers its subparsers
with ``set_defaults(run=<function(args) -> int>)``: ``dev`` (the whole service locally, on the
local backend or on the Google Cloud emulators) and ``indexing`` (``index``, ``reconcile``,
``cleanup``), ``load`` (bulk STAC items). A new group is a module here plus one line in ``build_parser``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    from dynastore.cli import dev, export, indexing, load

    parser = argparse.ArgumentParser(
        prog="dynastore", description="Dynastore Assets: files in buckets → a STAC asset catalog"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    dev.add_commands(sub)  # dev
    indexing.add_commands(sub)  # index, reconcile, cleanup
    export.add_commands(sub)  # export-static
    load.add_commands(sub)  # load
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    return code

