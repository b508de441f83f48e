"""``ports.TaskQueue`` on Cloud Tasks (google-cloud-tasks).

Each message becomes an HTTP task POSTed to the ``run_task`` function
(``settings.gcp_run_task_url``) with an OIDC token for ``settings.gcp_tasks_service_account``
(audience: the URL), so the function can stay private (Cloud Run invoker IAM checks the token).
The body is the message JSON; ``X-Dynastore-Queue`` names the logical queue. Messages must stay
well under Cloud Tasks' 100 KB task limit: pass references (ids, keys), not payloads.

Dedup: a ``dedup_key`` becomes the task id (sha256 of queue and key). Cloud Tasks refuses a task
whose name exists or ran within about an hour (``ALREADY_EXISTS``), which ``enqueue`` treats as
"already enqueued" and answers with the same name.

Queues: a logical queue name (a catalog id, ``jobs``, ...) maps to the queue id
``{prefix}-{name}`` (characters outside ``[A-Za-z0-9-]`` replaced, a hash added when that changed
the name). A missing queue is created on first use. Cloud Tasks keeps a deleted queue's name for
about 7 days, so ``ensure_queue`` falls back to a numbered variant then.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from typing import Any

import orjson

from dynastore.backends.gcp._errors import sdk_errors
from dynastore.backends.gcp.lazy_client import LazyClient
from dynastore.errors import Conflict, Invalid, NotFound, PayloadTooLarge, Unavailable
from dynastore.ports import Doc, TaskQueueBase

MAX_BODY_BYTES = 90_000  # Cloud Tasks takes 100 KB per task, headers included
QUEUE_HEADER = "X-Dynastore-Queue"
_INVALID = re.compile(r"[^A-Za-z0-9-]+")


def queue_id(prefix: str, name: str) -> str:
    """The Cloud Tasks queue id of a logical queue name (``[A-Za-z0-9-]{1,100}``)."""
    if not isinstance(name, str) or not name:
        raise Invalid("a queue name must be a non-empty string")
    raw = f"{prefix}-{name}" if prefix else name
    cleaned = _INVALID.sub("-", raw).strip("-") or "q"
    if cleaned == raw and len(cleaned) <= 100:
        return cleaned
    digest = hashlib.sha256(raw.encode()).hexdigest()[:10]
    return f"{cleaned[:89]}-{digest}"


def task_id(queue: str, dedup_key: str) -> str:
    return hashlib.sha256(f"{queue}\n{dedup_key}".encode()).hexdigest()


class CloudTasksQueue(TaskQueueBase):
    def __init__(
        self,
        client: Any,
        *,
        project: str,
        location: str,
        target_url: str | None,
        service_account: str | None = None,
        queue_prefix: str = "dynastore",
        max_attempts: int = 3,
    ) -> None:
        """``client``: a ``CloudTasksClient``, or a function that makes one on first use."""
        self._client = LazyClient(client)
        self.project = project
        self.location = location
        self.target_url = target_url
        self.service_account = service_account
        self.queue_prefix = queue_prefix
        self.max_attempts = max_attempts
        self._known: set[str] = set()

    @property
    def client(self) -> Any:
        return self._client.get()

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.location}"

    def queue_path(self, queue: str) -> str:
        return f"{self.parent}/queues/{queue_id(self.queue_prefix, queue)}"

    # ------------------------------------------------------------------ queues
    def ensure_queue(self, queue: str) -> str:
        """Create the queue of ``queue`` unless it exists; returns the logical name in use."""
        from google.api_core import exceptions as gexc

        candidates = [queue] + [f"{queue}-r{n}" for n in range(2, 10)]
        for name in candidates:
            path = self.queue_path(name)
            try:
                with sdk_errors(f"queue {name!r}"):
                    try:
                        self.client.get_queue(name=path)
                        self._known.add(path)
                        return name
                    except gexc.NotFound:
                        pass
                    self._create_queue(path)
                    return name
            except Invalid as exc:
                # FAILED_PRECONDITION: the name was used by a queue deleted in the last ~7 days.
                if "too recently" not in exc.detail and "tombstone" not in exc.detail.lower():
                    raise
        raise Conflict(f"no free queue name for {queue!r}: its names were all deleted recently")

    def _create_queue(self, path: str) -> None:
        from google.api_core import exceptions as gexc
        from google.cloud import tasks_v2

        queue = tasks_v2.Queue(
            name=path,
            retry_config=tasks_v2.RetryConfig(max_attempts=self.max_attempts),
        )
        with contextlib.suppress(gexc.AlreadyExists):
            self.client.create_queue(parent=self.parent, queue=queue)
        self._known.add(path)

    def delete_queue(self, queue: str) -> None:
        path = self.queue_path(queue)
        try:
            with sdk_errors(f"delete of queue {queue!r}"):
                self.client.delete_queue(name=path)
        except NotFound:
            pass
        self._known.discard(path)

    # ------------------------------------------------------------------ tasks
    def enqueue(self, queue: str, message: Doc, *, dedup_key: str | None = None, delay_seconds: float = 0) -> str:
        from google.cloud import tasks_v2
        from google.protobuf import timestamp_pb2

        if not self.target_url:
            raise Unavailable("Cloud Tasks needs the run_task URL: set DYNASTORE_GCP_RUN_TASK_URL")
        body = orjson.dumps(message)
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(
                f"a task message is {len(body)} bytes; Cloud Tasks takes under {MAX_BODY_BYTES}: pass references"
            )
        path = self.queue_path(queue)
        http_request: dict[str, Any] = {
            "http_method": tasks_v2.HttpMethod.POST,
            "url": self.target_url,
            "headers": {"Content-Type": "application/json", QUEUE_HEADER: queue},
            "body": body,
        }
        if self.service_account:
            http_request["oidc_token"] = {"service_account_email": self.service_account, "audience": self.target_url}
        task: dict[str, Any] = {"http_request": http_request}
        if dedup_key is not None:
            task["name"] = f"{path}/tasks/{task_id(queue, dedup_key)}"
        if delay_seconds > 0:
            stamp = timestamp_pb2.Timestamp()
            stamp.FromNanoseconds(int((time.time() + delay_seconds) * 1e9))
            task["schedule_time"] = stamp
        try:
            return self._create_task(path, task)
        except (NotFound, Invalid):
            # NOT_FOUND (FAILED_PRECONDITION in the emulator): the queue does not exist yet.
            if path in self._known:
                raise
        with sdk_errors(f"queue {queue!r}"):
            self._create_queue(path)
        return self._create_task(path, task)

    def _create_task(self, path: str, task: dict[str, Any]) -> str:
        from google.api_core import exceptions as gexc

        with sdk_errors(f"enqueue on {path.rsplit('/', 1)[-1]!r}"):
            try:
                return str(self.client.create_task(parent=path, task=task).name)
            except gexc.AlreadyExists:
                return str(task["name"])

    def health(self) -> None:
        with sdk_errors("Cloud Tasks"):
            self.client.list_queues(request={"parent": self.parent, "page_size": 1})

    def close(self) -> None:
        client = self._client.made
        if client is None:
            return
        transport = getattr(client, "transport", None)
        close = getattr(transport, "close", None)
        if callable(close):
            close()
