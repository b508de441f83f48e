"""Test support for the aws backend: isolated adapters on the process-wide moto server.

``aws_adapters()`` builds a fresh ``Adapters`` against ``infra.moto_server.shared_moto`` (started
on first use), isolated from every other test by a unique bucket, table prefix and queue prefix.
S3 is reached only through ``aws_endpoint_url`` with path-style addressing, as an S3-compatible
store (MinIO, Ceph) is. ``deliver(queue)`` receives and deletes the messages of a queue that are
visible now, as the SQS event source of a Lambda would hand them over.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from infra.moto_server import CREDENTIALS, REGION, MotoServer, shared_moto


@dataclass
class AwsTestBackend:
    settings: Any
    adapters: Any
    server: MotoServer
    tag: str
    deliver: Callable[[str], list[dict[str, Any]]]


@contextlib.contextmanager
def aws_adapters(server: MotoServer | None = None, **settings: Any) -> Iterator[AwsTestBackend]:
    """Fresh, isolated aws adapters on moto; ``settings`` are further ``Settings`` fields."""
    from dynastore.backends.aws import build_adapters
    from dynastore.backends.aws.dynamo_store import DynamoMetadataStore
    from dynastore.backends.aws.dynamo_table import ensure_table
    from dynastore.backends.aws.s3 import S3BlobStore
    from dynastore.backends.aws.sqs_queue import SqsTaskQueue, remaining_delay
    from dynastore.config import Settings

    server = server or shared_moto()
    for name, value in CREDENTIALS.items():
        os.environ.setdefault(name, value)  # boto3 needs some credentials; moto takes any
    tag = uuid.uuid4().hex[:10]
    built_settings = Settings(
        backend="aws",
        aws_region=REGION,
        aws_bucket=f"dyn-{tag}",
        aws_table_prefix=f"t{tag}",
        aws_queue_prefix=f"t{tag}",
        aws_endpoint_url=server.endpoint_url,
        aws_services_endpoint_url=server.endpoint_url,
        **settings,
    )
    adapters = build_adapters(built_settings)
    blobs, store, queue = adapters.blobs, adapters.store, adapters.queue
    assert isinstance(blobs, S3BlobStore) and isinstance(store, DynamoMetadataStore)
    assert isinstance(queue, SqsTaskQueue)
    blobs.ensure_bucket(REGION)
    ensure_table(store.client, store.table)

    def deliver(name: str) -> list[dict[str, Any]]:
        """The messages of queue ``name`` visible now, once each (received, then deleted)."""
        url = queue.queue_url(name)
        out: list[dict[str, Any]] = []
        while url is not None:
            received = queue.client.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not received:
                break
            for message in received:
                left = remaining_delay(message.get("MessageAttributes") or {})
                if left > 0:  # a long delay not over yet: back to the queue, as a consumer does
                    queue.client.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=int(min(left, 43_200))
                    )
                    continue
                out.append(orjson.loads(message["Body"]))
                queue.client.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return out

    try:
        yield AwsTestBackend(built_settings, adapters, server, tag, deliver)
    finally:
        with contextlib.suppress(Exception):
            for url in queue.client.list_queues(QueueNamePrefix=f"t{tag}").get("QueueUrls", []):
                queue.client.delete_queue(QueueUrl=url)
        with contextlib.suppress(Exception):
            store.client.delete_table(TableName=store.table)
        adapters.close()
