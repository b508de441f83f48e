"""``dynastore dev --backend gcp``: the four Cloud Functions locally, on the emulated Google Cloud.

It runs what ``python -m infra.functions`` runs: the Firestore, Pub/Sub, Cloud Storage
(fake-gcs-server) and Cloud Tasks emulators on free 127.0.0.1 ports, and each functions-framework
target (``api`` on ``--port``, ``on_object_event``, ``run_task``, ``scheduled``) in its own process,
wired as in production. The emulator stack lives in the repository (``infra/``), so this needs a
checkout with ``infra/setup.sh`` run (``scripts/test`` does it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from dynastore.errors import Unavailable


def run_dev(port: int) -> int:
    root = Path(__file__).resolve().parents[4]
    if not (root / "infra" / "functions.py").is_file():
        raise Unavailable(
            "dynastore dev --backend gcp runs the emulator stack of a repository checkout (infra/); "
            f"none next to {root}"
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from infra.functions import main

    return main(api_port=port)
