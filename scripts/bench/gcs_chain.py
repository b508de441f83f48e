#!/usr/bin/env python3
"""Upload → searchable latency through the emulated Google Cloud chain.

fake-gcs-server (upload) → Cloud Storage notification → Pub/Sub emulator → push to the
``on_object_event`` function (its own functions-framework process) → Firestore emulator → the
``api`` function's ``/assets/search?q=<file name>`` finds it. Every function runs as in
``tests/e2e/gcp`` (``infra/functions.py``).

Each upload is timed from just before the upload call until the first search that returns it
(polled every ``--poll`` seconds by the uploading thread). Prints p50/p95/max over ``--uploads``
(default 200) after one warm-up upload per thread; the goal is p95 ≤ 2 s.

    .venv/bin/python scripts/bench/gcs_chain.py [--uploads 200] [--concurrency 4] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from infra.emulators import EmulatorStack  # noqa: E402
from infra.functions import API_KEY, LocalGcpDeployment  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--poll", type=float, default=0.02)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage  # type: ignore[attr-defined]

    with EmulatorStack(notifications=True) as stack:
        deployment = LocalGcpDeployment(stack)
        deployment.start()
        deployment.subscribe()
        os.environ.update(stack.env())
        bucket = storage.Client(project=stack.project, credentials=AnonymousCredentials()).bucket(deployment.bucket)
        catalog = f"bench-{uuid.uuid4().hex[:6]}"
        local = threading.local()

        def client() -> httpx.Client:
            if not hasattr(local, "client"):
                local.client = httpx.Client(
                    base_url=deployment.url("api"), headers={"Authorization": f"Bearer {API_KEY}"}, timeout=30
                )
            return local.client  # type: ignore[no-any-return]

        def one(n: int) -> float:
            name = f"f{n:05d}x{uuid.uuid4().hex[:6]}.tif"
            key = f"{catalog}/s2/scene-{n % 20}/{name}"
            started = time.perf_counter()
            bucket.blob(key).upload_from_string(b"II*\x00" + os.urandom(256), content_type="image/tiff")
            deadline = started + args.timeout
            while time.perf_counter() < deadline:
                response = client().get("/assets/search", params={"q": name, "catalog_id": catalog})
                if response.status_code == 200 and response.json()["assets"]:
                    return time.perf_counter() - started
                time.sleep(args.poll)
            raise RuntimeError(f"{key} not searchable after {args.timeout}s")

        try:
            with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                list(pool.map(one, range(-args.concurrency, 0)))  # warm-up: cold starts, catalog creation
                started = time.perf_counter()
                latencies = list(pool.map(one, range(args.uploads)))
                elapsed = time.perf_counter() - started
        finally:
            deployment.stop()
        result: dict[str, Any] = {
            "uploads": args.uploads,
            "concurrency": args.concurrency,
            "p50_s": round(statistics.median(latencies), 3),
            "p95_s": round(percentile(latencies, 0.95), 3),
            "max_s": round(max(latencies), 3),
            "mean_s": round(statistics.fmean(latencies), 3),
            "uploads_per_s": round(args.uploads / elapsed, 1),
            "emulator_start_s": stack.start_times(),
        }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"upload → searchable over {result['uploads']} uploads ({result['concurrency']} at a time): "
            f"p50 {result['p50_s']} s, p95 {result['p95_s']} s, max {result['max_s']} s, "
            f"{result['uploads_per_s']} uploads/s (goal p95 ≤ 2 s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
