"""Test support for the gcp backend: isolated adapters on the emulator stack, a Cloud Tasks sink.

``gcp_adapters()`` builds a fresh ``Adapters`` on the process-wide emulator stack
(``infra.emulators.shared_stack``, started on first use), isolated from every other test by a
unique Firestore collection prefix, bucket name and Cloud Tasks queue prefix, instead of
restarting emulators. Cloud Tasks delivers its HTTP tasks to ``TaskSink``, a small HTTP server in
the test process, so ``deliver(queue)`` can hand the contract suite the messages of a queue that
are due, exactly as the emulator POSTed them.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

from infra.emulators import EmulatorStack, shared_stack

TASKS_SERVICE_ACCOUNT = "tasks@dynastore-local.iam.gserviceaccount.com"


@dataclass
class Delivery:
    channel: str
    queue_id: str
    task_id: str
    logical_queue: str
    body: bytes
    headers: dict[str, str]

    @property
    def message(self) -> dict[str, Any]:
        return dict(orjson.loads(self.body))


class TaskSink:
    """Receives the HTTP tasks Cloud Tasks dispatches (``POST /<channel>``) and answers 200."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._received: list[Delivery] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                delivery = Delivery(
                    channel=self.path.strip("/"),
                    queue_id=self.headers.get("X-CloudTasks-QueueName", ""),
                    task_id=self.headers.get("X-CloudTasks-TaskName", ""),
                    logical_queue=self.headers.get("X-Dynastore-Queue", ""),
                    body=body,
                    headers={k: v for k, v in self.headers.items()},
                )
                with sink._lock:
                    sink._received.append(delivery)
                    sink._lock.notify_all()
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, name="task-sink", daemon=True)
        self._thread.start()

    def url(self, channel: str) -> str:
        return f"http://127.0.0.1:{self.port}/{channel}"

    def received(self, channel: str) -> list[Delivery]:
        with self._lock:
            return [d for d in self._received if d.channel == channel]

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.2))
        return True

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


_sink: TaskSink | None = None
_sink_lock = threading.Lock()


def task_sink() -> TaskSink:
    global _sink
    with _sink_lock:
        if _sink is None:
            _sink = TaskSink()
        return _sink


@dataclass
class GcpTestBackend:
    settings: Any
    adapters: Any
    stack: EmulatorStack
    tag: str
    deliver: Callable[[str], list[dict[str, Any]]]


@contextlib.contextmanager
def gcp_adapters(
    stack: EmulatorStack | None = None, *, deliver_timeout: float = 20.0, **settings: Any
) -> Iterator[GcpTestBackend]:
    """Fresh, isolated gcp adapters on the emulators (``stack`` or the process-wide one); ``settings``
    are further ``Settings`` fields (say ``gcp_bucket_per_catalog=True``)."""
    from dynastore.backends.gcp import build_adapters
    from dynastore.backends.gcp.gcs import GcsBlobStore
    from dynastore.backends.gcp.tasks_queue import CloudTasksQueue
    from dynastore.config import Settings

    stack = stack or shared_stack("firestore", "gcs", "tasks")
    stack.ensure("firestore", "gcs", "tasks")
    os.environ.update(stack.env())  # the Google SDKs read the emulator hosts from the environment
    tag = uuid.uuid4().hex[:10]
    sink = task_sink()
    built_settings = Settings(
        backend="gcp",
        gcp_project=stack.project,
        gcp_region=stack.location,
        gcp_bucket=f"dyn-{tag}",
        gcp_collection_prefix=f"t{tag}_",
        gcp_tasks_queue_prefix=f"t{tag}",
        gcp_run_task_url=sink.url(tag),
        gcp_tasks_service_account=TASKS_SERVICE_ACCOUNT,
        gcp_tasks_emulator_host=stack.emulators["tasks"].host,
        **settings,
    )
    adapters = build_adapters(built_settings)
    blobs, queue = adapters.blobs, adapters.queue
    assert isinstance(blobs, GcsBlobStore) and isinstance(queue, CloudTasksQueue)
    blobs.ensure_bucket(stack.location)
    handed: set[tuple[str, str]] = set()

    def deliver(name: str) -> list[dict[str, Any]]:
        """The messages of queue ``name`` due now, once each, as Cloud Tasks POSTed them.

        The emulator holds every queue paused; this lists the due tasks, resumes the queue until
        each of them reached the sink, and pauses it again.
        """
        from google.api_core import exceptions as gexc

        path = queue.queue_path(name)
        queue_id = path.rsplit("/", 1)[-1]
        try:
            tasks = list(queue.client.list_tasks(request={"parent": path}))
        except gexc.NotFound:
            tasks = []
        now = time.time()
        due = {
            (queue_id, t.name.rsplit("/", 1)[-1])
            for t in tasks
            if not t.schedule_time or t.schedule_time.timestamp() <= now
        }
        if due:
            queue.client.resume_queue(name=path)
            try:

                def arrived() -> bool:
                    return due <= {(d.queue_id, d.task_id) for d in sink.received(tag)}

                if not sink.wait(arrived, deliver_timeout):
                    raise AssertionError(f"the Cloud Tasks emulator did not deliver the due tasks of queue {name!r}")
            finally:
                with contextlib.suppress(gexc.NotFound):
                    queue.client.pause_queue(name=path)
        out: list[dict[str, Any]] = []
        for delivery in sink.received(tag):
            key = (delivery.queue_id, delivery.task_id)
            if delivery.queue_id == queue_id and key not in handed:
                handed.add(key)
                out.append(delivery.message)
        return out

    try:
        yield GcpTestBackend(built_settings, adapters, stack, tag, deliver)
    finally:
        with contextlib.suppress(Exception):
            for existing in queue.client.list_queues(request={"parent": queue.parent}):
                if existing.name.rsplit("/", 1)[-1].startswith(built_settings.gcp_tasks_queue_prefix + "-"):
                    queue.client.delete_queue(name=existing.name)
        adapters.close()
