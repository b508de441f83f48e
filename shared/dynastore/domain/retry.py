"""One retry loop for read-decide-write steps that lose a race (optimistic concurrency).

A step reads a record, decides, and writes conditionally on what it read; when another writer got
in between, the write fails with ``Conflict`` (or a store's own "changed since read" signal) and
the step is simply run again, on fresh data. Callers choose the budget; this decides what
happens when it runs out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from dynastore.errors import Conflict, Unavailable

T = TypeVar("T")


def retry_on_conflict(
    step: Callable[[], T],
    *,
    attempts: int,
    exhausted: str | None = None,
    retry_on: tuple[type[BaseException], ...] = (Conflict,),
    backoff: float = 0.0,
) -> T:
    """Run ``step`` until it returns, at most ``attempts`` times, again whenever it raises one of
    ``retry_on``. Out of attempts: ``Unavailable(exhausted)`` (a 503: try later), or the last
    error itself when ``exhausted`` is None. ``backoff``: sleep ``backoff * n`` seconds after
    the n-th lost race (0: retry at once)."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    for attempt in range(1, attempts + 1):
        try:
            return step()
        except retry_on as exc:
            if attempt == attempts:
                if exhausted is None:
                    raise
                raise Unavailable(exhausted) from exc
            if backoff:
                time.sleep(backoff * attempt)
    raise AssertionError("unreachable")
