"""The aws Lambda handlers end to end on moto's server, with ``DYNASTORE_BACKEND=aws``.

A fresh deployment per test (``aws_adapters``: its own bucket, table and queue prefix), wired as
terraform/modules/aws wires it: the landing bucket notifies an object-events SQS queue (moto's
server sends real S3 notifications to SQS), and SQS batches reach the handlers as the Lambda event
source hands them over (``Deployment.batch``: received, converted to the Lambda payload, deleted).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from integration.aws_lambda.conftest import LambdaContext, load_event  # noqa: E402

API_KEY = "e2e-aws-admin"
ACCOUNT = "123456789012"  # moto's default account


@dataclass
class Deployment:
    handlers: ModuleType
    backend: Any  # infra.aws_testing.AwsTestBackend
    events_queue_url: str
    context: LambdaContext

    @property
    def sqs(self) -> Any:
        return self.backend.adapters.queue.client

    @property
    def s3(self) -> Any:
        return self.backend.adapters.blobs.client

    @property
    def bucket(self) -> str:
        return str(self.backend.adapters.blobs.bucket)

    def queue_arn(self, url: str) -> str:
        return f"arn:aws:sqs:{self.backend.settings.aws_region}:{ACCOUNT}:{url.rsplit('/', 1)[-1]}"

    def batch(self, url: str) -> list[dict[str, Any]]:
        """Every message visible on ``url``, as Lambda records (and deleted from the queue)."""
        records: list[dict[str, Any]] = []
        while received := self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        ).get("Messages", []):
            for message in received:
                attributes = {
                    key: {"stringValue": value["StringValue"], "dataType": value["DataType"]}
                    for key, value in (message.get("MessageAttributes") or {}).items()
                }
                records.append(
                    {
                        "messageId": message["MessageId"],
                        "receiptHandle": message["ReceiptHandle"],
                        "body": message["Body"],
                        "attributes": {"ApproximateReceiveCount": "1"},
                        "messageAttributes": attributes,
                        "md5OfBody": message["MD5OfBody"],
                        "eventSource": "aws:sqs",
                        "eventSourceARN": self.queue_arn(url),
                        "awsRegion": self.backend.settings.aws_region,
                    }
                )
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return records

    def api_get(self, path: str, query: str = "") -> dict[str, Any]:
        """GET through API Gateway's HTTP API (payload 2.0) event and Mangum."""
        event = load_event("apigw_v2_get_catalog.json")
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["rawQueryString"] = query
        event.pop("queryStringParameters", None)
        if query:
            event["queryStringParameters"] = dict(part.split("=", 1) for part in query.split("&"))
        event["headers"]["x-api-key"] = API_KEY
        response: dict[str, Any] = self.handlers.api(event, self.context)
        return response


@pytest.fixture
def deployment(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployment]:
    from infra.aws_testing import aws_adapters

    with aws_adapters() as backend:
        settings = backend.settings
        sqs = backend.adapters.queue.client
        # the object-events queue and the landing bucket's notification, as terraform/modules/aws makes them
        url = sqs.create_queue(QueueName=f"{settings.aws_queue_prefix}-object-events")["QueueUrl"]
        deployed = Deployment(ModuleType("pending"), backend, url, LambdaContext())
        backend.adapters.blobs.client.put_bucket_notification_configuration(
            Bucket=settings.aws_bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {"QueueArn": deployed.queue_arn(url), "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}
                ]
            },
        )
        for key in [key for key in os.environ if key.startswith("DYNASTORE_")]:
            monkeypatch.delenv(key)
        env = {
            "DYNASTORE_BACKEND": "aws",
            "DYNASTORE_AWS_REGION": settings.aws_region,
            "DYNASTORE_AWS_BUCKET": settings.aws_bucket,
            "DYNASTORE_AWS_TABLE_PREFIX": settings.aws_table_prefix,
            "DYNASTORE_AWS_QUEUE_PREFIX": settings.aws_queue_prefix,
            "DYNASTORE_AWS_ENDPOINT_URL": settings.aws_endpoint_url,
            "DYNASTORE_AWS_SERVICES_ENDPOINT_URL": settings.aws_services_endpoint_url,
            "DYNASTORE_API_KEYS": f"{API_KEY}:admin",
            "POWERTOOLS_SERVICE_NAME": "dynastore-e2e",
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        from functions.aws import handlers

        handlers.services.cache_clear()
        handlers.asgi_handler.cache_clear()
        deployed.handlers = handlers
        try:
            yield deployed
        finally:
            if handlers.services.cache_info().currsize:
                handlers.services().close()
            handlers.services.cache_clear()
            handlers.asgi_handler.cache_clear()
