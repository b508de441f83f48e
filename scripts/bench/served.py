"""The project's app served by uvicorn on a free loopback port in a thread, for the benchmarks that time
requests over real HTTP (``load.py --http``, ``bulk.py --http``, ``reads.py``)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from dynastore.bootstrap import Services


@contextmanager
def served_client(services: Services, *, key: str = "bench-key", timeout: float = 300) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` with ``key`` on the app of ``services``; the server stops on exit."""
    import uvicorn

    from dynastore.api.app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}, timeout=timeout
        ) as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(timeout=10)
