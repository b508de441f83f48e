"""What a catalog needs on the local backend: a folder in the bucket and a queue name."""

from __future__ import annotations

from dynastore.backends.local.blobs import FolderBlobStore
from dynastore.backends.local.queue import SqliteTaskQueue
from dynastore.domain.ids import check_id
from dynastore.ports import Doc


class LocalProvisioner:
    """``ports.Provisioner``: both calls are idempotent."""

    def __init__(self, blobs: FolderBlobStore, queue: SqliteTaskQueue) -> None:
        self.blobs = blobs
        self.queue = queue

    def provision_catalog(self, catalog_id: str) -> Doc:
        check_id(catalog_id, "catalog id")
        (self.blobs.root / catalog_id).mkdir(parents=True, exist_ok=True)
        return {"bucket": self.blobs.bucket, "prefix": f"{catalog_id}/", "queue": catalog_id}

    def deprovision_catalog(self, catalog_id: str, binding: Doc) -> None:
        """Delete the catalog's files (and their metadata records) and its queued messages."""
        check_id(catalog_id, "catalog id")
        prefix = (binding or {}).get("prefix") or f"{catalog_id}/"
        if not prefix.endswith("/"):
            prefix += "/"
        self.blobs.delete_prefix(prefix)
        self.queue.delete_queue((binding or {}).get("queue") or catalog_id)
