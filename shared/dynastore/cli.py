"""The ``dynastore`` command.

``dynastore dev`` runs the whole service on the local backend. Other commands (``index``,
``reconcile``, ``cleanup``, ``export``) are added by their issues: write ``_add_<name>(sub)`` that
registers a subparser with ``set_defaults(run=<function(args) -> int>)`` and call it in
``build_parser``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from dynastore.config import Settings


def _settings(args: argparse.Namespace, **overrides: object) -> Settings:
    """Settings from the environment, with the command line winning where given."""
    values = {k: v for k, v in overrides.items() if v is not None}
    if getattr(args, "data_dir", None) is not None:
        values["data_dir"] = Path(args.data_dir)
    return Settings(**values)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ dev


def _add_dev(sub: argparse._SubParsersAction) -> None:
    dev = sub.add_parser("dev", help="run the whole service locally (local backend, task worker, folder watcher)")
    dev.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    dev.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    dev.add_argument("--data-dir", default=None, help="where blobs, SQLite and the API key live (default ./.dynastore)")
    dev.add_argument("--log-level", default=None, help="uvicorn/dynastore log level (default from DYNASTORE_LOG_LEVEL)")
    dev.add_argument(
        "--backend",
        choices=("local", "gcp"),
        default="local",
        help="gcp: the four Cloud Functions on the local Google Cloud emulators (a repository checkout)",
    )
    dev.set_defaults(run=_run_dev)


def _run_dev(args: argparse.Namespace) -> int:
    if getattr(args, "backend", "local") == "gcp":
        from dynastore.backends.gcp.dev import run_dev

        return run_dev(args.port)
    import uvicorn

    from dynastore.api.app import create_app
    from dynastore.bootstrap import bootstrap
    from dynastore.services.auth import ensure_dev_key

    settings = _settings(args, backend="local")
    if args.log_level:
        settings = settings.model_copy(update={"log_level": args.log_level})
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings, generated_key = ensure_dev_key(settings)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    services = bootstrap(settings)
    app = create_app(services, run_background=True)
    url = f"http://{args.host}:{args.port}"
    print(f"Dynastore Assets {url}  (docs {url}/api.html, data in {Path(settings.data_dir).resolve()})", flush=True)
    if generated_key:
        print(f"API key (admin, stored in {Path(settings.data_dir) / 'api-key'}): {generated_key}", flush=True)
        print(
            f'  export DYNASTORE_KEY={generated_key}; curl -H "Authorization: Bearer $DYNASTORE_KEY" {url}/health',
            flush=True,
        )
    else:
        print("API keys from DYNASTORE_API_KEYS", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=settings.log_level.lower())
    return 0


# ------------------------------------------------------------------------------------ main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dynastore", description="Dynastore Assets: files in buckets → a STAC asset catalog"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_dev(sub)
    # Other issues register their commands here: _add_index(sub), _add_reconcile(sub), _add_cleanup(sub), ...
    from dynastore.cli_indexing import add_commands as _add_indexing_commands  # index, reconcile, cleanup

    _add_indexing_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
