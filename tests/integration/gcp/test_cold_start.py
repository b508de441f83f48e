"""A cold ``api`` function on the gcp backend imports only what its first requests need (behaviour
only; the times are in scripts/bench/coldstart.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from infra.emulators import free_port

from dynastore.backends.gcp.firestore_health import RestProbe
from dynastore.backends.gcp.firestore_store import FirestoreMetadataStore
from dynastore.errors import Unavailable

ROOT = Path(__file__).resolve().parents[3]

PROBE = r"""
import importlib.util, json, sys
from fastapi.testclient import TestClient

spec = importlib.util.spec_from_file_location("main", sys.argv[1])
main = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main)
seen = {}
with TestClient(main.asgi_app()) as client:
    for step, path in (("health", "/health"), ("stac", "/stac"), ("health again", "/health")):
        response = client.get(path, headers={"Authorization": "Bearer k"})
        seen[step] = {
            "status": response.status_code,
            "checks": {k: v["status"] for k, v in response.json().get("checks", {}).items()},
            "loaded": sorted(m for m in ("google.cloud.firestore", "numpy", "dynastore.tasks.thumbnail")
                             if m in sys.modules),
        }
print(json.dumps(seen))
"""


def test_a_cold_api_answers_health_without_the_firestore_sdk_and_reads_records_with_it(gcp: Any) -> None:
    # GIVEN a fresh interpreter configured like the deployed `api` function on the emulators
    settings = gcp.settings
    env = {
        **os.environ,
        **gcp.stack.env(),
        "DYNASTORE_BACKEND": "gcp",
        "DYNASTORE_GCP_BUCKET": settings.gcp_bucket,
        "DYNASTORE_GCP_COLLECTION_PREFIX": settings.gcp_collection_prefix,
        "DYNASTORE_GCP_TASKS_QUEUE_PREFIX": settings.gcp_tasks_queue_prefix,
        "DYNASTORE_GCP_RUN_TASK_URL": settings.gcp_run_task_url,
        "DYNASTORE_API_KEYS": "k:admin",
    }
    # WHEN it imports functions/gcp/main.py and answers GET /health, then GET /stac, then /health again
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / "functions" / "gcp" / "main.py")],
        capture_output=True, text=True, check=True, timeout=180, env=env, cwd=ROOT,
    )  # fmt: skip
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    ok = {"blobs": "ok", "store": "ok", "queue": "ok"}
    # THEN /health checked every dependency without importing the Firestore SDK or any task module
    assert seen["health"] == {"status": 200, "checks": ok, "loaded": []}
    # AND the first record read made the Firestore client, which later health checks use
    assert seen["stac"]["status"] == 200
    assert seen["health again"] == {"status": 200, "checks": ok, "loaded": ["google.cloud.firestore"]}


def test_health_before_the_firestore_client_exists_reports_an_unreachable_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a store whose Firestore client is not made yet, on an emulator address nothing listens on
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", f"127.0.0.1:{free_port()}")
    made: list[int] = []
    store = FirestoreMetadataStore(lambda: made.append(1), prefix="p_", rest_probe=RestProbe("proj", "(default)"))
    # WHEN its health is checked  THEN it is Unavailable, and no client was made for it
    with pytest.raises(Unavailable, match="Firestore health check"):
        store.health()
    assert made == []
