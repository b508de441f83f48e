"""The aws backend on this machine: moto's server, the ``api`` on uvicorn, SQS pollers for the handlers.

``python -m infra.aws_dev [--port PORT]`` (what ``dynastore dev --backend aws`` runs in a checkout):

- starts moto's server (``infra/moto_server.py``) and creates the landing bucket, the table and the
  queues of the aws backend (``infra/aws_testing.aws_adapters``), with the bucket's S3 notification
  sending object events to an SQS queue, as Terraform wires it;
- polls that queue and the task queue (``{prefix}-dynastore-tasks``) and hands each batch to
  ``functions/aws/handlers.py``'s ``on_object_event`` / ``run_task`` as the SQS event source
  mappings do (Lambda records, partial batch failures stay on the queue);
- serves the FastAPI app of the same services on uvicorn (127.0.0.1:PORT) until SIGINT/SIGTERM;
- prints the moto endpoint, the environment for boto3/aws-cli against it, and an admin API key.

The pieces (``LambdaContext``, ``handler_env``, ``sqs_event``, ``notification_queue``, ``Poller``)
are shared with ``scripts/bench/aws_chain.py``.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from infra.moto_server import CREDENTIALS, REGION  # noqa: E402

API_KEY = "local-admin-key"
BATCH_SIZE = 10  # the SQS event source mapping's default batch size
TASK_QUEUE = "dynastore-tasks"  # dynastore.services.jobs.dispatch.DEFAULT_QUEUE


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object the handlers (powertools, Mangum) read."""

    function_name: str = "dyn-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:dyn-local"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    log_group_name: str = "/aws/lambda/dyn-local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def handler_env(settings: Any, api_key: str = API_KEY) -> dict[str, str]:
    """The Lambda environment of the handlers for the aws backend ``settings`` (on moto)."""
    return {
        "DYNASTORE_BACKEND": "aws",
        "DYNASTORE_AWS_REGION": settings.aws_region,
        "DYNASTORE_AWS_BUCKET": settings.aws_bucket,
        "DYNASTORE_AWS_TABLE_PREFIX": settings.aws_table_prefix,
        "DYNASTORE_AWS_QUEUE_PREFIX": settings.aws_queue_prefix,
        "DYNASTORE_AWS_ENDPOINT_URL": settings.aws_endpoint_url,
        "DYNASTORE_AWS_SERVICES_ENDPOINT_URL": settings.aws_services_endpoint_url,
        "DYNASTORE_API_KEYS": f"{api_key}:admin",
        "DYNASTORE_AUDIT_SALT": "local",
        "DYNASTORE_WORKER_THREADS": "0",
        "DYNASTORE_WATCH_BUCKET": "false",
        "AWS_DEFAULT_REGION": settings.aws_region,
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The Lambda SQS event for received ``messages`` (as the event source mapping builds it)."""
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": {
                name: {"dataType": value.get("DataType", "String"), "stringValue": value.get("StringValue")}
                for name, value in (m.get("MessageAttributes") or {}).items()
            },
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": REGION,
        }
        for m in messages
    ]
    return {"Records": records}


def queue_arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def notification_queue(backend: Any) -> tuple[str, str]:
    """An SQS queue that receives the landing bucket's object events (url, arn)."""
    sqs = backend.adapters.queue.client
    url = sqs.create_queue(QueueName=f"t{backend.tag}-object-events")["QueueUrl"]
    arn = queue_arn(sqs, url)
    backend.adapters.blobs.client.put_bucket_notification_configuration(
        Bucket=backend.settings.aws_bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "Id": "dynastore-object-events",
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                }
            ]
        },
    )
    return url, arn


class Poller(threading.Thread):
    """The SQS event source of one handler: receive, invoke with the batch, delete the done."""

    def __init__(self, handler: Callable[..., Any], sqs: Any, url: str, arn: str, poll: float) -> None:
        super().__init__(daemon=True)
        self.handler, self.sqs, self.url, self.arn, self.poll = handler, sqs, url, arn, poll
        self.stopping = threading.Event()
        self.invocations = 0
        self.failures = 0

    def run(self) -> None:
        context = LambdaContext()
        while not self.stopping.is_set():
            try:
                self.once(context)
            except Exception as exc:  # a handler or moto hiccup must not end the event source
                print(f"poller {self.arn}: {exc!r}", file=sys.stderr, flush=True)
                self.stopping.wait(self.poll)

    def once(self, context: LambdaContext) -> None:
        # WaitTimeSeconds=0: moto serves one request at a time, a long poll would hold it.
        messages = self.sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=BATCH_SIZE,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            self.stopping.wait(self.poll)
            return
        result = self.handler(sqs_event(messages, self.arn), context)
        self.invocations += 1
        failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        self.failures += len(failed)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )


def main(api_port: int | None = None, poll: float = 0.2) -> int:
    """Run the aws backend on moto until interrupted; print the endpoints, env and API key."""
    import uvicorn

    from infra.aws_testing import aws_adapters
    from infra.emulators import EmulatorError, free_port, wait_for_stop_signal
    from infra.moto_server import start_moto

    try:
        server = start_moto()
    except EmulatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    pollers: list[Poller] = []
    try:
        with aws_adapters(server) as backend:
            os.environ.update(handler_env(backend.settings))
            from functions.aws import handlers

            from dynastore.api.app import create_app

            sqs = backend.adapters.queue.client
            events_url, events_arn = notification_queue(backend)
            tasks_url = backend.adapters.queue.ensure_queue(TASK_QUEUE)
            pollers = [
                Poller(handlers.on_object_event, sqs, events_url, events_arn, poll),
                Poller(handlers.run_task, sqs, tasks_url, queue_arn(sqs, tasks_url), poll),
            ]
            # Threads inherit the signal mask: blocked in all of them, SIGINT/SIGTERM reach only
            # the main thread's wait_for_stop_signal.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
            for poller in pollers:
                poller.start()
            port = api_port or free_port()
            endpoint = server.endpoint_url
            print(f"moto         {endpoint}", flush=True)
            print(f"bucket       {backend.settings.aws_bucket}", flush=True)
            print(f"api          http://127.0.0.1:{port}  (docs /api.html)", flush=True)
            aws_env = {**CREDENTIALS, "AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": REGION}
            print("boto3 / aws-cli against it:", flush=True)
            print("  export " + " ".join(f"{name}={value}" for name, value in aws_env.items()), flush=True)
            print(f"  aws s3 cp scene.tif s3://{backend.settings.aws_bucket}/demo/scene.tif", flush=True)
            print(f"API key (admin): {API_KEY}", flush=True)
            print(f"  export DYNASTORE_KEY={API_KEY}", flush=True)
            app = create_app(handlers.services())
            # uvicorn off the main thread installs no signal handlers: SIGINT/SIGTERM come here.
            api = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
            serving = threading.Thread(target=api.run, daemon=True)
            serving.start()
            try:
                wait_for_stop_signal()
            finally:
                api.should_exit = True
                serving.join(timeout=10)
                for poller in pollers:
                    poller.stopping.set()
                for poller in pollers:
                    poller.join(timeout=10)
                handlers.services().close()
    finally:
        server.stop()
    return 0


def cli(argv: list[str] | None = None) -> int:
    """``python -m infra.aws_dev [--port PORT]`` (what ``dynastore dev --backend aws`` runs)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m infra.aws_dev", description=main.__doc__)
    parser.add_argument("--port", type=int, default=None, help="port of the api (default: a free one)")
    return main(api_port=parser.parse_args(argv).port)


if __name__ == "__main__":
    sys.exit(cli())
