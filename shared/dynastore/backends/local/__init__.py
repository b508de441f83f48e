"""The embedded ``local`` backend: a folder for blobs, SQLite for metadata and tasks.

Layout under ``settings.data_dir``: ``bucket/`` (the bucket folder, watched for new files) and
``dynastore.db`` (metadata store and task queue, WAL mode).
"""

from __future__ import annotations

from dynastore.adapters import Adapters
from dynastore.config import Settings

BUCKET_DIR = "bucket"
DATABASE_FILE = "dynastore.db"


def build_adapters(settings: Settings) -> Adapters:
    from dynastore.backends.local.blobs import FolderBlobStore
    from dynastore.backends.local.metadata import SqliteMetadataStore
    from dynastore.backends.local.provisioner import LocalProvisioner
    from dynastore.backends.local.queue import SqliteTaskQueue

    data_dir = settings.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    blobs = FolderBlobStore(data_dir / BUCKET_DIR)
    store = SqliteMetadataStore(data_dir / DATABASE_FILE)
    queue = SqliteTaskQueue(data_dir / DATABASE_FILE, max_attempts=settings.task_max_attempts)
    return Adapters(blobs=blobs, store=store, queue=queue, provisioner=LocalProvisioner(blobs, queue))
