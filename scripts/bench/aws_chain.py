#!/usr/bin/env python3
"""Upload → searchable latency through the AWS chain on moto's server.

boto3 ``put_object`` into the landing bucket → moto's S3 event notification → an SQS queue → a
poller that hands the visible messages over as the Lambda SQS event source does (batches of up to
10 records, ``{"Records": [...]}``) to the real ``functions/aws/handlers.py`` ``on_object_event``
(partial batch failures stay on the queue) → DynamoDB → the ``api`` handler (Mangum, an API
Gateway v2 event) answers ``GET /assets/search?q=<file name>`` with it. The handlers run in this
process on ``DYNASTORE_BACKEND=aws`` against moto (``infra/moto_server.py``, fresh server; bucket,
table and queues from ``infra/aws_testing.aws_adapters``). moto handles one request at a time
(``infra/moto_serial.py``), so the figures are moto's, not AWS's.

Each upload is timed from just before ``put_object`` until the first search that returns it
(polled every ``--poll`` seconds by the uploading thread). Prints p50/p95/max over ``--uploads``
(default 200) after one warm-up upload per thread.

    .venv/bin/python scripts/bench/aws_chain.py [--uploads 200] [--concurrency 4] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
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
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from infra.aws_dev import LambdaContext, Poller, handler_env, notification_queue  # noqa: E402
from infra.aws_testing import aws_adapters  # noqa: E402
from infra.moto_server import start_moto  # noqa: E402

EVENTS = ROOT / "tests" / "events" / "aws"
API_KEY = "bench-admin"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def api_event(path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
    """The API Gateway v2 event of tests/events/aws for ``GET path?params`` with the bench key."""
    event: dict[str, Any] = json.loads((EVENTS / "apigw_v2_get_catalog.json").read_text(encoding="utf-8"))
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["rawQueryString"] = urlencode(params or {})
    event["headers"]["x-api-key"] = API_KEY
    return event


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4, help="uploading (and searching) threads")
    parser.add_argument("--pollers", type=int, default=1, help="concurrent on_object_event invocations")
    parser.add_argument("--poll", type=float, default=0.02)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    server = start_moto()
    try:
        with aws_adapters(server) as backend:
            os.environ.update(handler_env(backend.settings, API_KEY))
            from functions.aws import handlers

            url, arn = notification_queue(backend)
            s3 = backend.adapters.blobs.client
            bucket = backend.settings.aws_bucket
            pollers = [
                Poller(handlers.on_object_event, backend.adapters.queue.client, url, arn, args.poll)
                for _ in range(args.pollers)
            ]
            for poller in pollers:
                poller.start()
            catalog = f"bench-{uuid.uuid4().hex[:6]}"
            local = threading.local()
            search = api_event("/assets/search")

            def answer(params: dict[str, str]) -> dict[str, Any]:
                if not hasattr(local, "loop"):  # Mangum runs the app on the thread's event loop
                    local.loop = asyncio.new_event_loop()
                    asyncio.set_event_loop(local.loop)
                event = copy.deepcopy(search)
                event["rawQueryString"] = urlencode(params)
                response: dict[str, Any] = handlers.api(event, LambdaContext())
                return response

            def one(n: int) -> float:
                name = f"f{n:05d}x{uuid.uuid4().hex[:6]}.tif"
                key = f"{catalog}/s2/scene-{n % 20}/{name}"
                started = time.perf_counter()
                s3.put_object(Bucket=bucket, Key=key, Body=b"II*\x00" + os.urandom(256), ContentType="image/tiff")
                deadline = started + args.timeout
                while time.perf_counter() < deadline:
                    response = answer({"q": name, "catalog_id": catalog})
                    if response["statusCode"] == 200 and json.loads(response["body"])["assets"]:
                        return time.perf_counter() - started
                    time.sleep(args.poll)
                raise RuntimeError(f"{key} not searchable after {args.timeout}s")

            try:
                with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                    list(pool.map(one, range(-args.concurrency, 0)))  # warm-up: cold start, catalog creation
                    started = time.perf_counter()
                    latencies = list(pool.map(one, range(args.uploads)))
                    elapsed = time.perf_counter() - started
            finally:
                for poller in pollers:
                    poller.stopping.set()
                for poller in pollers:
                    poller.join(timeout=30)
                if handlers.services.cache_info().currsize:
                    handlers.services().close()
    finally:
        server.stop()
    result: dict[str, Any] = {
        "uploads": args.uploads,
        "concurrency": args.concurrency,
        "pollers": args.pollers,
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(percentile(latencies, 0.95), 3),
        "max_s": round(max(latencies), 3),
        "mean_s": round(statistics.fmean(latencies), 3),
        "uploads_per_s": round(args.uploads / elapsed, 1),
        "on_object_event_invocations": sum(p.invocations for p in pollers),
        "failed_records": sum(p.failures for p in pollers),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"upload → searchable on moto over {result['uploads']} uploads ({result['concurrency']} at a time, "
            f"{result['pollers']} poller(s)): p50 {result['p50_s']} s, p95 {result['p95_s']} s, "
            f"max {result['max_s']} s, {result['uploads_per_s']} uploads/s; "
            f"{result['on_object_event_invocations']} on_object_event batches, "
            f"{result['failed_records']} failed records"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
