"""A durable task queue in SQLite, and the in-process worker that drains it.

Semantics (the local stand-in for Cloud Tasks / SQS):

- ``enqueue`` writes one row; with a ``dedup_key`` the same key on the same queue enqueues once
  (while the row is kept: until it is done for ``done_ttl_seconds``, like a task name).
- Delivery is at least once. A worker *leases* a message for ``lease_seconds`` (extended while the
  handler runs); success marks it ``done``, an exception puts it back ``ready`` after an
  exponential backoff, and after ``max_attempts`` deliveries it is ``dead`` (dead-lettered, kept
  for inspection, ``on_dead`` is called).
- A crash loses nothing: a lease held by a process that is gone (same host, pid not alive) is
  released when a worker starts, and any other expired lease is taken over when it runs out.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from dynastore.backends.local.sqlite_base import SqliteDatabase
from dynastore.errors import Invalid
from dynastore.ports import TaskQueueBase
from dynastore.process_ids import local_pid, new_process_id, pid_is_alive

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]
DeadHandler = Callable[[dict[str, Any], str], None]

SCHEMA = """
CREATE TABLE IF NOT EXISTS task_queue (
    name TEXT PRIMARY KEY,
    queue TEXT NOT NULL,
    dedup_key TEXT,
    message TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at REAL NOT NULL,
    lease_until REAL,
    owner TEXT,
    last_error TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS task_queue_dedup ON task_queue (queue, dedup_key) WHERE dedup_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS task_queue_ready ON task_queue (state, available_at);
CREATE INDEX IF NOT EXISTS task_queue_lease ON task_queue (state, lease_until);
CREATE INDEX IF NOT EXISTS task_queue_queue ON task_queue (queue, state);
"""
STATES = ("ready", "leased", "done", "dead")
_TASK_COLUMNS = "name, queue, dedup_key, message, state, attempts, available_at, lease_until, owner, last_error"


class SqliteTaskQueue(TaskQueueBase):
    """``ports.TaskQueue`` in SQLite with an in-process worker (``start_worker``/``stop``)."""

    local_worker = True

    def __init__(
        self,
        path: Path | str,
        *,
        max_attempts: int = 3,
        lease_seconds: float = 300.0,
        retry_base_seconds: float = 2.0,
        retry_max_seconds: float = 300.0,
        poll_seconds: float = 0.5,
        done_ttl_seconds: float = 3600.0,
    ) -> None:
        if max_attempts < 1:
            raise Invalid("max_attempts must be at least 1")
        self.db = SqliteDatabase(path)
        self.max_attempts = max_attempts
        self.lease_seconds = lease_seconds
        self.retry_base_seconds = retry_base_seconds
        self.retry_max_seconds = retry_max_seconds
        self.poll_seconds = poll_seconds
        self.done_ttl_seconds = done_ttl_seconds
        self.owner = new_process_id()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._in_flight: set[str] = set()
        self._in_flight_lock = threading.Lock()
        self._last_gc = 0.0
        self.db.executescript(f"BEGIN IMMEDIATE; {SCHEMA} COMMIT;")

    # ------------------------------------------------------------------ the port
    def enqueue(
        self, queue: str, message: dict[str, Any], *, dedup_key: str | None = None, delay_seconds: float = 0
    ) -> str:
        if not isinstance(queue, str) or not queue:
            raise Invalid("a queue name must be a non-empty string")
        if not isinstance(message, dict):
            raise Invalid("a task message must be a JSON object")
        if delay_seconds < 0:
            raise Invalid("delay_seconds must not be negative")
        try:
            body = orjson.dumps(message).decode()
        except TypeError as exc:
            raise Invalid(f"a task message must be JSON-serializable: {exc}") from exc
        if dedup_key is None:
            name = f"{queue}/{uuid.uuid4().hex}"
        else:
            name = f"{queue}/{hashlib.sha256(dedup_key.encode()).hexdigest()[:40]}"
        now = time.time()
        with self.db.write() as conn:
            inserted = conn.execute(
                "INSERT INTO task_queue (name, queue, dedup_key, message, state, attempts, available_at, created, "
                "updated) "
                "VALUES (?, ?, ?, ?, 'ready', 0, ?, ?, ?) ON CONFLICT DO NOTHING",
                (name, queue, dedup_key, body, now + delay_seconds, now, now),
            ).rowcount
            if not inserted and dedup_key is not None:
                row = conn.execute(
                    "SELECT name FROM task_queue WHERE queue = ? AND dedup_key = ?", (queue, dedup_key)
                ).fetchone()
                name = row[0] if row else name
        if inserted:
            self._wake.set()
        return name

    def delete_queue(self, queue: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM task_queue WHERE queue = ?", (queue,))

    def health(self) -> None:
        self.db.health()

    # ------------------------------------------------------------------ inspection
    def get_task(self, name: str) -> dict[str, Any] | None:
        row = self.db.query_one(
            f"SELECT {_TASK_COLUMNS} FROM task_queue WHERE name = ?",
            (name,),
        )
        return None if row is None else _task(row)

    def list_tasks(self, *, queue: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        where, params = [], []
        if queue is not None:
            where.append("queue = ?")
            params.append(queue)
        if state is not None:
            where.append("state = ?")
            params.append(state)
        sql = (
            f"SELECT {_TASK_COLUMNS} FROM task_queue"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY created, name"
        )
        return [_task(row) for row in self.db.query(sql, params)]

    # ------------------------------------------------------------------ leasing
    def claim(self, queues: Sequence[str] | None = None) -> dict[str, Any] | None:
        """Lease the next deliverable message (ready and due, or with an expired lease)."""
        while True:
            now = time.time()
            queue_sql = ""
            params: list[Any] = [now, now]
            if queues:
                queue_sql = f" AND queue IN ({', '.join('?' * len(queues))})"
                params.extend(queues)
            with self.db.write() as conn:
                row = conn.execute(
                    "UPDATE task_queue SET state = 'leased', lease_until = ?, owner = ?, attempts = attempts + 1, "
                    "updated = ? WHERE name = (SELECT name FROM task_queue WHERE "
                    "((state = 'ready' AND available_at <= ?) OR (state = 'leased' AND lease_until <= ?))"
                    f"{queue_sql} ORDER BY available_at LIMIT 1) "
                    f"RETURNING {_TASK_COLUMNS}",
                    [now + self.lease_seconds, self.owner, now, *params],
                ).fetchone()
                if row is None:
                    self._gc(conn, now)
                    return None
                task = _task(row)
                if task["attempts"] <= self.max_attempts:
                    return task
                # delivered max_attempts times already and its worker never answered (crashes)
                error = task["last_error"] or "the worker stopped answering (lease expired) on every attempt"
                conn.execute(
                    "UPDATE task_queue SET state = 'dead', lease_until = NULL, attempts = ?, last_error = ?, "
                    "updated = ? "
                    "WHERE name = ?",
                    (self.max_attempts, error, now, task["name"]),
                )
            self._dead(task, error)

    def ack(self, name: str) -> None:
        now = time.time()
        with self.db.write() as conn:
            conn.execute(
                "UPDATE task_queue SET state = 'done', lease_until = NULL, updated = ? WHERE name = ?", (now, name)
            )

    def nack(self, name: str, error: str) -> str:
        """Give a failed delivery back: ``ready`` after a backoff, or ``dead``. Returns the state."""
        now = time.time()
        with self.db.write() as conn:
            row = conn.execute("SELECT attempts FROM task_queue WHERE name = ?", (name,)).fetchone()
            if row is None:
                return "gone"
            attempts = row[0]
            if attempts >= self.max_attempts:
                state, available = "dead", now
            else:
                state = "ready"
                available = now + min(self.retry_base_seconds * 2 ** (attempts - 1), self.retry_max_seconds)
            conn.execute(
                "UPDATE task_queue SET state = ?, available_at = ?, lease_until = NULL, last_error = ?, updated = ? "
                "WHERE name = ?",
                (state, available, error[:4000], now, name),
            )
        return state

    def extend_leases(self, names: Sequence[str]) -> None:
        if not names:
            return
        now = time.time()
        with self.db.write() as conn:
            conn.executemany(
                "UPDATE task_queue SET lease_until = ? WHERE name = ? AND state = 'leased' AND owner = ?",
                [(now + self.lease_seconds, name, self.owner) for name in names],
            )

    def recover_orphans(self) -> int:
        """Release leases held by processes of this host that are no longer alive."""
        released = 0
        now = time.time()
        rows = self.db.query("SELECT name, owner FROM task_queue WHERE state = 'leased'")
        dead = [name for name, owner in rows if _owner_is_dead(owner, self.owner)]
        if dead:
            with self.db.write() as conn:
                for name in dead:
                    released += conn.execute(
                        "UPDATE task_queue SET state = 'ready', available_at = ?, lease_until = NULL, updated = ? "
                        "WHERE name = ? AND state = 'leased'",
                        (now, now, name),
                    ).rowcount
        return released

    def _gc(self, conn: Any, now: float) -> None:
        if now - self._last_gc < 60:
            return
        self._last_gc = now
        conn.execute(
            "DELETE FROM task_queue WHERE name IN "
            "(SELECT name FROM task_queue WHERE state = 'done' AND updated <= ? LIMIT 5000)",
            (now - self.done_ttl_seconds,),
        )

    # ------------------------------------------------------------------ processing
    _on_dead: DeadHandler | None = None

    def _dead(self, task: dict[str, Any], error: str) -> None:
        log.error("task %s on queue %s is dead-lettered: %s", task["name"], task["queue"], error)
        if self._on_dead is not None:
            try:
                self._on_dead(task["message"], error)
            except Exception:
                log.exception("on_dead callback failed for task %s", task["name"])

    def process_one(self, handler: Handler, queues: Sequence[str] | None = None) -> bool:
        """Claim one message and run ``handler`` on it (ack or nack). False if nothing was due."""
        task = self.claim(queues)
        if task is None:
            return False
        with self._in_flight_lock:
            self._in_flight.add(task["name"])
        try:
            handler(task["message"])
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("task %s failed (attempt %s/%s): %s", task["name"], task["attempts"], self.max_attempts, error)
            if self.nack(task["name"], error) == "dead":
                self._dead(task, error)
        else:
            self.ack(task["name"])
        finally:
            with self._in_flight_lock:
                self._in_flight.discard(task["name"])
        return True

    def drain(self, handler: Handler, *, queues: Sequence[str] | None = None, max_messages: int = 10_000) -> int:
        """Process every message that is due now, synchronously (tests, CLI). Returns how many."""
        count = 0
        while count < max_messages and self.process_one(handler, queues):
            count += 1
        return count

    def start_worker(
        self,
        handler: Handler,
        threads: int = 1,
        *,
        queues: Sequence[str] | None = None,
        on_dead: DeadHandler | None = None,
    ) -> None:
        """Run ``threads`` worker threads (daemon) until ``stop()``; also keeps leases alive."""
        if self._threads:
            raise Invalid("the worker is already running")
        self._on_dead = on_dead
        self._stop.clear()
        self.recover_orphans()
        for index in range(max(threads, 0)):
            thread = threading.Thread(
                target=self._work, args=(handler, queues), name=f"dynastore-worker-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        if threads > 0:
            keeper = threading.Thread(target=self._keep_leases, name="dynastore-lease-keeper", daemon=True)
            keeper.start()
            self._threads.append(keeper)

    def _work(self, handler: Handler, queues: Sequence[str] | None) -> None:
        while not self._stop.is_set():
            try:
                busy = self.process_one(handler, queues)
            except Exception:
                log.exception("task worker loop error")
                busy = False
            if not busy:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def _keep_leases(self) -> None:
        interval = max(self.lease_seconds / 3, 0.05)
        while not self._stop.wait(interval):
            with self._in_flight_lock:
                names = list(self._in_flight)
            with contextlib.suppress(Exception):
                self.extend_leases(names)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker threads (a running handler finishes first, up to ``timeout``)."""
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0))
        self._threads = []

    def close(self) -> None:
        self.stop()
        self.db.close()


def _task(row: Sequence[Any]) -> dict[str, Any]:
    name, queue, dedup_key, message, state, attempts, available_at, lease_until, owner, last_error = row
    return {
        "name": name,
        "queue": queue,
        "dedup_key": dedup_key,
        "message": orjson.loads(message),
        "state": state,
        "attempts": attempts,
        "available_at": available_at,
        "lease_until": lease_until,
        "owner": owner,
        "last_error": last_error,
    }


def _owner_is_dead(owner: str | None, me: str) -> bool:
    """Is the lease holder ``host:pid:token`` a process of this host that is gone?"""
    if owner == me:
        return False
    pid = local_pid(owner)
    if pid is None:
        return False
    # our own pid under another token: an earlier process that had it (containers restart with the same pid)
    return pid == os.getpid() or not pid_is_alive(pid)
