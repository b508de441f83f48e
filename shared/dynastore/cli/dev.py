"""``dynastore dev``: the whole service on this machine.

- ``--backend local`` (default): the API, the task worker and the folder watcher in this process,
  on the local backend (a folder and SQLite under ``--data-dir``).
- ``--backend gcp``: the four Cloud Functions on the local Google Cloud emulators. The emulator
  stack is not part of the library: it lives in the repository's ``infra/`` (``python -m
  infra.functions``), so this runs that module from the checkout (the current folder or the one
  this package is installed from in editable mode) in a child process, and says so when there is
  none.
- ``--backend aws``: the aws backend on moto's server (``python -m infra.aws_dev``, same rule): the
  ``api`` on uvicorn, the object-event and task queues polled into the Lambda handlers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import FrameType

ORCHESTRATION = Path("infra") / "functions.py"
# --backend -> the checkout's module that runs it
MODULES = {"gcp": "infra.functions", "aws": "infra.aws_dev"}


def add_commands(sub: argparse._SubParsersAction) -> None:
    dev = sub.add_parser("dev", help="run the whole service locally (local backend, task worker, folder watcher)")
    dev.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    dev.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    dev.add_argument("--data-dir", default=None, help="where blobs, SQLite and the API key live (default ./.dynastore)")
    dev.add_argument("--log-level", default=None, help="uvicorn/dynastore log level (default from DYNASTORE_LOG_LEVEL)")
    dev.add_argument(
        "--backend",
        choices=("local", "gcp", "aws"),
        default="local",
        help="gcp: the four Cloud Functions on the local Google Cloud emulators; aws: the Lambda handlers "
        "on moto (both from a repository checkout)",
    )
    dev.set_defaults(run=run_dev)


def run_dev(args: argparse.Namespace) -> int:
    backend = getattr(args, "backend", "local")
    if backend in MODULES:
        return run_checkout_dev(backend, args.port)
    import logging

    import uvicorn

    from dynastore.api.app import create_app
    from dynastore.bootstrap import bootstrap
    from dynastore.cli.common import settings_from
    from dynastore.services.auth import ensure_dev_key

    settings = settings_from(args, backend="local")
    if args.log_level:
        settings = settings.model_copy(update={"log_level": args.log_level})
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings, generated_key = ensure_dev_key(settings)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    services = bootstrap(settings)
    # The /aios registry's health check, every DYNASTORE_AIOS_HEALTH_INTERVAL_SECONDS.
    from dynastore.services.registry import RegistryHealthTimer

    services.background.append(RegistryHealthTimer(services.registry, settings.aios_health_interval_seconds))
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


# ------------------------------------------------------------------------------ --backend gcp | aws


def installed_from() -> Path:
    """The folder this package sits in: a checkout's root for an editable install."""
    return Path(__file__).resolve().parents[3]  # <root>/shared/dynastore/cli/dev.py


def checkout(orchestration: Path = ORCHESTRATION) -> Path | None:
    """The repository checkout holding the emulator stack: the current folder, or the one this
    package is installed from (editable install); None for a plain installed package."""
    for root in (Path.cwd(), installed_from()):
        if (root / orchestration).is_file():
            return root
    return None


def run_checkout_dev(backend: str, port: int) -> int:
    """``python -m infra.functions|infra.aws_dev --port PORT`` in the checkout, until it ends; SIGINT
    and SIGTERM are passed on so it stops its emulators and functions before this returns."""
    import signal
    import subprocess

    module = MODULES[backend]
    orchestration = Path(*module.split(".")).with_suffix(".py")
    root = checkout(orchestration)
    if root is None:
        raise SystemExit(
            f"dynastore dev --backend {backend} runs the emulator stack of a repository checkout (infra/), "
            f"and neither {Path.cwd()} nor the folder this package is installed from holds {orchestration}: "
            "run it from a checkout (scripts/test or infra/setup.sh sets the emulators up)"
        )
    child = subprocess.Popen([sys.executable, "-m", module, "--port", str(port)], cwd=root)

    def forward(signum: int, frame: FrameType | None) -> None:
        child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
