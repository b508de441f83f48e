"""Searches run off the event loop, each under a time budget (``DYNASTORE_SEARCH_TIMEOUT_SECONDS``).

The work runs in a worker thread inside ``domain.limits.time_budget``: the SQLite progress handler
and the paging loops stop it cooperatively once the budget is spent (503 problem). Should a call
not stop in time, the request still answers 503 shortly after the budget (the thread is abandoned
and ends at its next check), so a search never holds a client, or the event loop, past its budget.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
from fastapi import Request

from dynastore.api.deps import get_services
from dynastore.domain.limits import budget_exceeded, time_budget

T = TypeVar("T")
GRACE_SECONDS = 2.0  # after the budget, how long a thread may take to notice it before the 503


async def run_search(request: Request, work: Callable[[], T]) -> T:
    """``work()`` (parse, search, render) in a worker thread under the search time budget."""
    seconds = get_services(request).settings.search_timeout_seconds

    def budgeted() -> T:
        with time_budget(seconds):
            return work()

    with anyio.move_on_after(seconds + GRACE_SECONDS):
        return await anyio.to_thread.run_sync(budgeted, abandon_on_cancel=True)
    raise budget_exceeded(seconds)
