"""An SDK client given as-is or made on first use (a cold start that never touches a service does
not import its SDK)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class LazyClient:
    """``client``: the client itself, or a function that makes it; ``get()`` makes it once, thread-safely."""

    def __init__(self, client: Any | Callable[[], Any]) -> None:
        self._client = None if callable(client) else client
        self._factory = client if callable(client) else None
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    assert self._factory is not None
                    self._client = self._factory()
        return self._client

    @property
    def made(self) -> Any:
        """The client if it exists already, else None (closing must not make one)."""
        return self._client
