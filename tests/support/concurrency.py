"""Running calls at the same moment (races the tests provoke on purpose)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def at_once(n: int, call: Callable[[int], T], *, timeout: float | None = None) -> list[T]:
    """``call(0)`` .. ``call(n - 1)`` on ``n`` threads released together; their answers in that order
    (an exception in one is raised here)."""
    start = threading.Barrier(n, timeout=timeout)

    def run(i: int) -> T:
        start.wait()
        return call(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))
