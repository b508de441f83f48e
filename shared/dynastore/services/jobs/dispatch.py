"""Job messages on the backend's queue: which queue carries a catalog's jobs, and what a message holds."""

from __future__ import annotations

import logging
from typing import Any

import orjson

from dynastore.errors import NotFound
from dynastore.ports import Doc, MetadataStore, TaskQueue

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "dynastore-tasks"
MESSAGE_KIND = "job"


class JobDispatch:
    def __init__(self, store: MetadataStore, queue: TaskQueue) -> None:
        self.store = store
        self.queue = queue

    def queue_name(self, catalog_id: str) -> str:
        """The queue that carries the jobs of a catalog (its storage binding's, else the default)."""
        try:
            binding = self.store.get_catalog(catalog_id).get("storage") or {}
        except NotFound:
            binding = {}
        return str(binding.get("queue") or DEFAULT_QUEUE)

    def enqueue(self, job: Doc, *, dedup_key: str, delay_seconds: float = 0) -> str:
        message = {"kind": MESSAGE_KIND, "job_id": job["id"], "catalog_id": job["catalog_id"]}
        return self.queue.enqueue(
            self.queue_name(job["catalog_id"]), message, dedup_key=dedup_key, delay_seconds=delay_seconds
        )


def parse_message(message: Any) -> Doc | None:
    """A delivered job message as a dict with a ``job_id``; None (logged) when it is not one."""
    if isinstance(message, (bytes, str)):
        try:
            message = orjson.loads(message)
        except orjson.JSONDecodeError:
            log.error("dropping a task message that is not JSON: %r", message[:200])
            return None
    if not isinstance(message, dict) or not message.get("job_id"):
        log.error("dropping a task message without a job_id: %r", message)
        return None
    return message
