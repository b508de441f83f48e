"""``ports.Provisioner`` on AWS: a catalog's storage binding, optionally an S3 bucket per catalog.

- Shared landing bucket (default): the catalog's files live under ``{catalog}/`` in
  ``settings.aws_bucket``; nothing to create in storage. Deprovision deletes that prefix.
- ``settings.aws_bucket_per_catalog``: a dedicated bucket ``{landing}-{catalog}`` (a valid bucket
  name derived from both) in ``settings.aws_region``; with ``settings.aws_notification_queue_arn``
  its object created/removed events go to that SQS queue (the ``on_object_event`` handler's
  source). Keys in it keep the ``{catalog}/...`` convention. Deprovision empties and removes it.

Both calls are idempotent. Queues: every catalog's jobs go to the one deployment-wide task queue
(``DEFAULT_QUEUE``, SQS ``{queue_prefix}-dynastore-tasks``), the queue Terraform creates and wires
to the ``run_task`` Lambda. An SQS queue made at run time would have no consumer (Lambda reads
SQS only through an event source mapping), unlike a Cloud Tasks queue, whose tasks carry their
target. So no queue is created per catalog, and deprovisioning leaves the shared queue alone:
jobs of a removed catalog still queued find no job record and are dropped by the worker. A
binding naming another queue (made by hand) has that queue deleted with the catalog.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import KW_ONLY, dataclass

from dynastore.backends.aws._errors import sdk_errors
from dynastore.backends.aws.s3 import S3BlobStore
from dynastore.backends.aws.sqs_queue import SqsTaskQueue
from dynastore.backends.checks import binding_location
from dynastore.domain.ids import check_id
from dynastore.ports import Doc
from dynastore.services.jobs.dispatch import DEFAULT_QUEUE

_BUCKET_INVALID = re.compile(r"[^a-z0-9-]+")


def catalog_bucket_name(landing: str, catalog_id: str) -> str:
    """A valid, deterministic S3 bucket name for a catalog's dedicated bucket (3-63 chars)."""
    raw = f"{landing}-{catalog_id}".lower()
    cleaned = _BUCKET_INVALID.sub("-", raw).strip("-")
    if cleaned == raw and len(cleaned) <= 63:
        return cleaned
    digest = hashlib.sha256(f"{landing}/{catalog_id}".encode()).hexdigest()[:8]
    return f"{cleaned[:54].strip('-')}-{digest}"


@dataclass(eq=False, repr=False)
class AwsProvisioner:
    blobs: S3BlobStore
    queue: SqsTaskQueue
    _: KW_ONLY
    bucket_per_catalog: bool = False
    region: str | None = None
    notification_queue_arn: str | None = None

    def provision_catalog(self, catalog_id: str) -> Doc:
        check_id(catalog_id, "catalog id")
        bucket = self.blobs.bucket
        if self.bucket_per_catalog:
            bucket = catalog_bucket_name(self.blobs.bucket, catalog_id)
            store = self.blobs.for_bucket(bucket)
            store.ensure_bucket(self.region)
            if self.notification_queue_arn:
                self._notify(store)
        return {"bucket": bucket, "prefix": f"{catalog_id}/", "queue": DEFAULT_QUEUE}

    def deprovision_catalog(self, catalog_id: str, binding: Doc) -> None:
        check_id(catalog_id, "catalog id")
        binding = binding or {}
        bucket, prefix = binding_location(catalog_id, binding, self.blobs.bucket)
        if bucket == self.blobs.bucket:
            self.blobs.delete_prefix(prefix)
        else:
            self.blobs.for_bucket(bucket).delete_bucket()
        queue = binding.get("queue") or DEFAULT_QUEUE
        if queue != DEFAULT_QUEUE:
            self.queue.delete_queue(queue)

    def _notify(self, store: S3BlobStore) -> None:
        config = {
            "QueueConfigurations": [
                {
                    "Id": "dynastore-object-events",
                    "QueueArn": self.notification_queue_arn,
                    "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                }
            ]
        }
        with sdk_errors(f"notifications of bucket {store.bucket!r}"):
            store.client.put_bucket_notification_configuration(Bucket=store.bucket, NotificationConfiguration=config)
