"""The SQLite task queue's worker: acks, retries with backoff, dead letters, crash redelivery."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from dynastore.backends.local.queue import SqliteTaskQueue


def wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "dynastore.db"


def test_the_worker_runs_messages_and_acks_them(db: Path) -> None:
    queue = SqliteTaskQueue(db, poll_seconds=0.05)
    seen: list[dict[str, Any]] = []
    queue.start_worker(seen.append, threads=2)
    try:
        names = [queue.enqueue("demo", {"n": n}) for n in range(10)]
        wait_until(lambda: len(seen) == 10)
        wait_until(lambda: all(queue.get_task(n)["state"] == "done" for n in names))  # type: ignore[index]
    finally:
        queue.close()
    assert sorted(m["n"] for m in seen) == list(range(10))


def test_failures_are_retried_with_backoff_then_dead_lettered(db: Path) -> None:
    queue = SqliteTaskQueue(db, max_attempts=3, retry_base_seconds=0.05, poll_seconds=0.02)
    attempts: list[float] = []
    dead: list[tuple[dict[str, Any], str]] = []

    def handler(message: dict[str, Any]) -> None:
        attempts.append(time.monotonic())
        raise RuntimeError("boom")

    queue.start_worker(handler, threads=1, on_dead=lambda m, e: dead.append((m, e)))
    try:
        name = queue.enqueue("demo", {"job": "j1"})
        wait_until(lambda: dead)
    finally:
        queue.close()
    assert len(attempts) == 3
    task = SqliteTaskQueue(db).get_task(name)
    assert task is not None and task["state"] == "dead" and "boom" in task["last_error"]
    assert dead == [({"job": "j1"}, "RuntimeError: boom")]


def test_retry_delays_grow_exponentially_up_to_a_cap(db: Path) -> None:
    queue = SqliteTaskQueue(db, max_attempts=5, retry_base_seconds=10, retry_max_seconds=30)
    name = queue.enqueue("demo", {})
    delays = []
    for _ in range(4):
        queue.db.connection().execute("UPDATE task_queue SET available_at = 0 WHERE name = ?", (name,))
        task = queue.claim()
        assert task is not None
        assert queue.nack(name, "boom") == "ready"
        updated, available = queue.db.query_one("SELECT updated, available_at FROM task_queue WHERE name = ?", (name,))
        delays.append(round(available - updated, 6))
    assert delays == [10, 20, 30, 30]
    queue.db.connection().execute("UPDATE task_queue SET available_at = 0 WHERE name = ?", (name,))
    assert queue.claim() is not None
    assert queue.nack(name, "boom") == "dead"


def test_a_failure_then_success_is_acked(db: Path) -> None:
    queue = SqliteTaskQueue(db, retry_base_seconds=0.01)
    calls: list[int] = []

    def flaky(message: dict[str, Any]) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("transient")

    name = queue.enqueue("demo", {})
    queue.drain(flaky)
    time.sleep(0.05)
    queue.drain(flaky)
    assert len(calls) == 2
    assert queue.get_task(name)["state"] == "done"  # type: ignore[index]


def test_a_message_survives_a_restart(db: Path) -> None:
    first = SqliteTaskQueue(db)
    first.enqueue("demo", {"job": "j1"}, dedup_key="j1")
    first.close()
    second = SqliteTaskQueue(db)
    seen: list[dict[str, Any]] = []
    assert second.drain(seen.append) == 1
    assert seen == [{"job": "j1"}]
    # the dedup key still holds after the restart
    second.enqueue("demo", {"job": "j1"}, dedup_key="j1")
    assert second.drain(seen.append) == 0


def test_a_lease_whose_worker_crashed_is_redelivered_after_it_expires(db: Path) -> None:
    crashed = SqliteTaskQueue(db, lease_seconds=1.5)
    other = SqliteTaskQueue(db, lease_seconds=1.5)
    crashed.enqueue("demo", {"job": "j1"})
    assert crashed.claim() is not None  # leased, then the worker "dies" without ack
    assert other.claim() is None  # still leased
    time.sleep(1.7)
    task = other.claim()
    assert task is not None and task["message"] == {"job": "j1"} and task["attempts"] == 2


def test_leases_of_a_dead_process_are_released_when_a_worker_starts(db: Path) -> None:
    # GIVEN a message leased by a process that has exited (long lease: it would not expire soon)
    script = (
        "import sys; from dynastore.backends.local.queue import SqliteTaskQueue; "
        f"q = SqliteTaskQueue({str(db)!r}, lease_seconds=3600); q.enqueue('demo', {{'job': 'j1'}}); "
        "assert q.claim() is not None"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    queue = SqliteTaskQueue(db, poll_seconds=0.05)
    assert queue.claim() is None
    # WHEN a worker starts in a new process  THEN the message is delivered again
    seen: list[dict[str, Any]] = []
    queue.start_worker(seen.append, threads=1)
    try:
        wait_until(lambda: seen)
    finally:
        queue.close()
    assert seen == [{"job": "j1"}]


def test_a_long_handler_keeps_its_lease(db: Path) -> None:
    queue = SqliteTaskQueue(db, lease_seconds=1.0, poll_seconds=0.02)
    calls: list[int] = []
    done = threading.Event()

    def slow(message: dict[str, Any]) -> None:
        calls.append(1)
        time.sleep(2.5)
        done.set()

    queue.start_worker(slow, threads=2)
    try:
        queue.enqueue("demo", {})
        assert done.wait(5)
        time.sleep(0.1)
    finally:
        queue.close()
    assert len(calls) == 1


def test_a_message_that_keeps_crashing_its_worker_is_dead_lettered(db: Path) -> None:
    queue = SqliteTaskQueue(db, max_attempts=2, lease_seconds=0.05)
    queue.enqueue("demo", {"poison": True})
    assert queue.claim() is not None
    time.sleep(0.1)
    assert queue.claim() is not None
    time.sleep(0.1)
    assert queue.claim() is None  # third delivery would exceed max_attempts
    [task] = queue.list_tasks(state="dead")
    assert task["message"] == {"poison": True}


def test_delayed_delivery(db: Path) -> None:
    queue = SqliteTaskQueue(db)
    queue.enqueue("demo", {"n": 1}, delay_seconds=1.0)
    assert queue.claim() is None
    time.sleep(1.2)
    assert queue.claim() is not None
