"""Fixtures every test layer may use.

``serve_app(app)`` runs an ASGI app with uvicorn in a thread on a free 127.0.0.1 port and yields
its base URL: the API tests talk to it over real HTTP.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn

from support.devserver import free_port


@contextmanager
def serve_app(app: Any, *, startup_timeout: float = 20.0) -> Iterator[str]:
    """Serve ``app`` on a free port in a background thread; yields ``http://127.0.0.1:<port>``."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port} within {startup_timeout}s")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def serve() -> Any:
    """The ``serve_app`` context manager, as a fixture for tests that build their own app."""
    return serve_app
