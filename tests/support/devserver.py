"""Run ``dynastore dev`` (or another ``dynastore`` command) as a real subprocess on a data folder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

KEY = "dev-admin-key"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env(**extra: str) -> dict[str, str]:
    """This process's environment with an admin ``KEY``, quiet logs and no worker; ``extra`` wins."""
    return {
        **os.environ,
        "DYNASTORE_API_KEYS": f"{KEY}:admin",
        "DYNASTORE_LOG_LEVEL": "WARNING",
        "DYNASTORE_WORKER_THREADS": "0",
        **extra,
    }


def dynastore(*args: str) -> list[str]:
    """The command line of ``dynastore <args>`` in this interpreter."""
    return [sys.executable, "-m", "dynastore.cli", *args]


@contextmanager
def dev_server(data_dir: Path, **extra_env: str) -> Iterator[tuple[httpx.Client, subprocess.Popen[bytes]]]:
    """Start ``dynastore dev`` on a free port; yield an admin client once ``/health`` answers, and the process.

    On exit the server gets SIGTERM (SIGKILL if it does not stop). Its output goes to ``dev-<port>.log``
    next to ``data_dir`` and is quoted when it fails to start.
    """
    port = free_port()
    log_path = data_dir.parent / f"dev-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            dynastore("dev", "--port", str(port), "--data-dir", str(data_dir)),
            env=env(**extra_env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {KEY}"}, timeout=60
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"dynastore dev exited with {process.returncode}: {log_path.read_text()}")
                try:
                    if client.get("/health").status_code < 500:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"dynastore dev did not answer within 60 s: {log_path.read_text()}")
                time.sleep(0.1)
            yield client, process
        finally:
            client.close()
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)


def wait_until(predicate: Any, *, timeout: float, what: str, interval: float = 0.1) -> float:
    """Poll ``predicate`` until true; returns the seconds it took (raises with ``what`` after ``timeout``)."""
    start = time.monotonic()
    last: Any = None
    while time.monotonic() - start < timeout:
        last = predicate()
        if last:
            return time.monotonic() - start
        time.sleep(interval)
    raise AssertionError(f"{what} did not happen within {timeout} s (last check: {last!r})")
