"""The ``aws`` backend: S3 (and S3-compatible stores), DynamoDB, SQS; S3 event notifications.

The only package that imports boto3, and only inside the client factories below (called on first
use), so ``import dynastore`` stays cheap on a Lambda cold start.

Settings (``dynastore.config``): ``aws_region``, ``aws_bucket``, ``aws_table_prefix``,
``aws_queue_prefix``, ``aws_endpoint_url`` + ``aws_s3_path_style`` (S3-compatible stores),
``aws_services_endpoint_url`` (DynamoDB and SQS, e.g. moto), ``aws_bucket_per_catalog``,
``aws_notification_queue_arn``. Credentials come from the SDK's usual chain (the Lambda role).

Modules: ``s3`` (S3BlobStore), ``dynamo_table`` (the table, claims), ``dynamo_store``
(DynamoMetadataStore, layout in its docstring), ``sqs_queue`` (SqsTaskQueue), ``provisioner``
(AwsProvisioner), ``events`` (S3 event record → StorageEvent), ``_errors`` (botocore → errors).
"""

from __future__ import annotations

from typing import Any

from dynastore.adapters import Adapters
from dynastore.config import Settings
from dynastore.errors import Invalid


def client(settings: Settings, service: str) -> Any:
    """A boto3 client for ``service`` (``s3``, ``dynamodb``, ``sqs``) configured from ``settings``."""
    import boto3
    from botocore.config import Config

    options: dict[str, Any] = {"retries": {"max_attempts": 5, "mode": "standard"}, "max_pool_connections": 32}
    endpoint = settings.aws_services_endpoint_url
    if service == "s3":
        endpoint = settings.aws_endpoint_url
        if endpoint and settings.aws_s3_path_style:
            options["s3"] = {"addressing_style": "path"}
        options["signature_version"] = "s3v4"
    return boto3.session.Session().client(
        service, region_name=settings.aws_region, endpoint_url=endpoint, config=Config(**options)
    )


def build_adapters(settings: Settings) -> Adapters:
    from dynastore.backends.aws.dynamo_store import DynamoMetadataStore
    from dynastore.backends.aws.dynamo_table import DynamoClaims, table_name
    from dynastore.backends.aws.provisioner import AwsProvisioner
    from dynastore.backends.aws.s3 import S3BlobStore
    from dynastore.backends.aws.sqs_queue import SqsTaskQueue

    if not settings.aws_bucket:
        raise Invalid("the aws backend needs its landing bucket: set DYNASTORE_AWS_BUCKET")
    table = table_name(settings.aws_table_prefix)

    def dynamodb() -> Any:
        return client(settings, "dynamodb")

    blobs = S3BlobStore(lambda: client(settings, "s3"), settings.aws_bucket)
    store = DynamoMetadataStore(dynamodb, table=table)
    queue = SqsTaskQueue(
        lambda: client(settings, "sqs"),
        queue_prefix=settings.aws_queue_prefix,
        max_attempts=settings.task_max_attempts,
        claims=DynamoClaims(lambda: store.client, table),
    )
    provisioner = AwsProvisioner(
        blobs,
        queue,
        bucket_per_catalog=settings.aws_bucket_per_catalog,
        region=settings.aws_region,
        notification_queue_arn=settings.aws_notification_queue_arn,
    )
    return Adapters(blobs=blobs, store=store, queue=queue, provisioner=provisioner)
