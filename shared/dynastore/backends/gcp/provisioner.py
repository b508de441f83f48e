"""``ports.Provisioner`` on Google Cloud: a Cloud Tasks queue per catalog, optionally a bucket.

- Shared landing bucket (default): the catalog's files live under ``{catalog}/`` in
  ``settings.gcp_bucket``; nothing to create in storage. Deprovision deletes that prefix.
- ``settings.gcp_bucket_per_catalog``: a dedicated bucket ``{landing}-{catalog}`` (a valid bucket
  name derived from both) in ``settings.gcp_region``, with a Pub/Sub notification to
  ``settings.gcp_notification_topic`` (JSON_API_V1 payloads of finalize, delete and metadata
  update) that the ``on_object_event`` function receives. Keys in it keep the ``{catalog}/...``
  convention, so indexing reads them the same way. Deprovision removes the notification, the
  objects and the bucket.

Both calls are idempotent. fake-gcs-server has no notification API (it publishes every bucket's
events to the one topic it was started with), so against the emulator a missing notification API
is skipped; in production its absence is an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from dataclasses import KW_ONLY, dataclass

from dynastore.backends.checks import binding_location
from dynastore.backends.gcp._errors import sdk_errors
from dynastore.backends.gcp.gcs import GcsBlobStore
from dynastore.backends.gcp.tasks_queue import CloudTasksQueue
from dynastore.domain.ids import check_id
from dynastore.errors import NotFound
from dynastore.ports import Doc

log = logging.getLogger(__name__)
_BUCKET_INVALID = re.compile(r"[^a-z0-9-]+")


def catalog_bucket_name(landing: str, catalog_id: str) -> str:
    """A valid, deterministic bucket name for a catalog's dedicated bucket (3-63 chars)."""
    raw = f"{landing}-{catalog_id}".lower()
    cleaned = _BUCKET_INVALID.sub("-", raw).strip("-")
    if cleaned == raw and len(cleaned) <= 63 and "goog" not in cleaned:
        return cleaned
    digest = hashlib.sha256(f"{landing}/{catalog_id}".encode()).hexdigest()[:8]
    return f"{cleaned.replace('goog', 'g00g')[:54].strip('-')}-{digest}"


@dataclass(eq=False, repr=False)
class GcpProvisioner:
    blobs: GcsBlobStore
    queue: CloudTasksQueue
    _: KW_ONLY
    bucket_per_catalog: bool = False
    location: str | None = None
    notification_topic: str | None = None
    project: str | None = None

    def provision_catalog(self, catalog_id: str) -> Doc:
        check_id(catalog_id, "catalog id")
        queue = self.queue.ensure_queue(catalog_id)
        bucket = self.blobs.bucket
        if self.bucket_per_catalog:
            bucket = catalog_bucket_name(self.blobs.bucket, catalog_id)
            store = self.blobs.for_bucket(bucket)
            store.ensure_bucket(self.location)
            if self.notification_topic:
                self._ensure_notification(store)
        return {"bucket": bucket, "prefix": f"{catalog_id}/", "queue": queue}

    def deprovision_catalog(self, catalog_id: str, binding: Doc) -> None:
        check_id(catalog_id, "catalog id")
        binding = binding or {}
        bucket, prefix = binding_location(catalog_id, binding, self.blobs.bucket)
        if bucket == self.blobs.bucket:
            self.blobs.delete_prefix(prefix)
        else:
            self._delete_bucket(self.blobs.for_bucket(bucket))
        self.queue.delete_queue(binding.get("queue") or catalog_id)

    # ------------------------------------------------------------------ dedicated buckets
    def _topic(self) -> tuple[str, str | None]:
        topic = self.notification_topic or ""
        match = re.match(r"^projects/([^/]+)/topics/([^/]+)$", topic)
        return (match.group(2), match.group(1)) if match else (topic, self.project)

    def _ensure_notification(self, store: GcsBlobStore) -> None:
        from google.api_core import exceptions as gexc

        topic_name, topic_project = self._topic()
        bucket = store.client.bucket(store.bucket)
        try:
            with sdk_errors(f"notifications of bucket {store.bucket!r}"):
                for existing in bucket.list_notifications():
                    if existing.topic_name == topic_name:
                        return
                notification = bucket.notification(
                    topic_name=topic_name,
                    topic_project=topic_project,
                    payload_format="JSON_API_V1",
                    event_types=["OBJECT_FINALIZE", "OBJECT_DELETE", "OBJECT_METADATA_UPDATE"],
                )
                with contextlib.suppress(gexc.Conflict):
                    notification.create()
        except NotFound:
            if not store.emulator_host:
                raise
            log.info("storage emulator has no notification API; it publishes to its own topic")

    def _delete_bucket(self, store: GcsBlobStore) -> None:
        bucket = store.client.bucket(store.bucket)
        try:
            with sdk_errors(f"bucket {store.bucket!r}"):
                if not bucket.exists():
                    return
        except NotFound:
            return
        try:
            with sdk_errors(f"notifications of bucket {store.bucket!r}"):
                for notification in bucket.list_notifications():
                    notification.delete()
        except NotFound:
            pass  # no notification API (emulator) or already gone
        for info in store.list(""):
            store.delete(info.key)
        try:
            with sdk_errors(f"delete of bucket {store.bucket!r}"):
                bucket.delete()
        except NotFound:
            pass
