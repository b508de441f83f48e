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
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from infra.aws_testing import aws_adapters  # noqa: E402
from infra.moto_server import REGION, start_moto  # noqa: E402

EVENTS = ROOT / "tests" / "events" / "aws"
API_KEY = "bench-admin"
BATCH_SIZE = 10  # the SQS event source mapping's default batch size


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object the handlers (powertools, Mangum) read."""

    function_name: str = "dyn-bench"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:dyn-bench"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    log_group_name: str = "/aws/lambda/dyn-bench"
    log_stream_name: str = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def handler_env(settings: Any) -> dict[str, str]:
    """The Lambda environment of the handlers for the aws backend ``settings`` (on moto)."""
    env = {
        "DYNASTORE_BACKEND": "aws",
        "DYNASTORE_AWS_REGION": settings.aws_region,
        "DYNASTORE_AWS_BUCKET": settings.aws_bucket,
        "DYNASTORE_AWS_TABLE_PREFIX": settings.aws_table_prefix,
        "DYNASTORE_AWS_QUEUE_PREFIX": settings.aws_queue_prefix,
        "DYNASTORE_AWS_ENDPOINT_URL": settings.aws_endpoint_url,
        "DYNASTORE_AWS_SERVICES_ENDPOINT_URL": settings.aws_services_endpoint_url,
        "DYNASTORE_API_KEYS": f"{API_KEY}:admin",
        "DYNASTORE_AUDIT_SALT": "bench",
        "DYNASTORE_WORKER_THREADS": "0",
        "DYNASTORE_WATCH_BUCKET": "false",
        "AWS_DEFAULT_REGION": settings.aws_region,
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    return env


def api_event(path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
    """The API Gateway v2 event of tests/events/aws for ``GET path?params`` with the bench key."""
    event: dict[str, Any] = json.loads((EVENTS / "apigw_v2_get_catalog.json").read_text(encoding="utf-8"))
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["rawQueryString"] = urlencode(params or {})
    event["headers"]["x-api-key"] = API_KEY
    return event


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The Lambda SQS event for received ``messages`` (as the event source mapping builds it)."""
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": REGION,
        }
        for m in messages
    ]
    return {"Records": records}


class Poller(threading.Thread):
    """The SQS event source of ``on_object_event``: receive, invoke with the batch, delete the done."""

    def __init__(self, handlers: ModuleType, sqs: Any, url: str, arn: str, poll: float) -> None:
        super().__init__(daemon=True)
        self.handlers, self.sqs, self.url, self.arn, self.poll = handlers, sqs, url, arn, poll
        self.stopping = threading.Event()
        self.invocations = 0
        self.failures = 0

    def run(self) -> None:
        context = LambdaContext()
        while not self.stopping.is_set():
            # WaitTimeSeconds=0: moto serves one request at a time, a long poll would hold it.
            messages = self.sqs.receive_message(
                QueueUrl=self.url, MaxNumberOfMessages=BATCH_SIZE, WaitTimeSeconds=0, AttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                self.stopping.wait(self.poll)
                continue
            result = self.handlers.on_object_event(sqs_event(messages, self.arn), context)
            self.invocations += 1
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
            self.failures += len(failed)
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                self.sqs.delete_message_batch(
                    QueueUrl=self.url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                )


def notification_queue(backend: Any) -> tuple[str, str]:
    """An SQS queue that receives the landing bucket's object events (url, arn)."""
    sqs = backend.adapters.queue.client
    url = sqs.create_queue(QueueName=f"t{backend.tag}-object-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    backend.adapters.blobs.client.put_bucket_notification_configuration(
        Bucket=backend.settings.aws_bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {"Id": "dynastore-object-events", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    return url, arn


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
            os.environ.update(handler_env(backend.settings))
            from functions.aws import handlers

            url, arn = notification_queue(backend)
            s3 = backend.adapters.blobs.client
            bucket = backend.settings.aws_bucket
            pollers = [
                Poller(handlers, backend.adapters.queue.client, url, arn, args.poll) for _ in range(args.pollers)
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
