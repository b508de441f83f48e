"""First-claimer-wins claims with a TTL, safe against a lost answer (backend-neutral rule).

A cloud SDK re-sends a write whose answer it did not get (gRPC/HTTP retry, botocore retry). A
conditional claim write whose first send was applied then fails its own condition on the re-send,
and would report the claim as held by someone else: the event (or task) is skipped although nobody
handled it. So each claim attempt writes its own ``token``; when a conditional write fails, the
claim is read back and is ours if it holds our token. The adapters only translate the three steps
to their SDK. (The local SQLite store needs none of this: its writes are not re-sent over a network.)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dynastore.errors import Unavailable

ATTEMPTS = 3  # rounds when the claim keeps vanishing between a failed write and its read (TTL removal)


@dataclass(frozen=True)
class Held:
    """A claim as read: its claimant's ``token`` (None for claims written without one), when it
    ends (``expires``, epoch seconds) and what a conditional takeover is made on (``version``)."""

    token: str | None
    expires: float
    version: Any = None


def new_token() -> str:
    return uuid.uuid4().hex


def claim_once(
    token: str,
    now: float,
    *,
    create: Callable[[], bool],
    read: Callable[[], Held | None],
    take_over: Callable[[Held], bool],
) -> bool:
    """True when this attempt (``token``) holds the claim, False when another live claim does.

    ``create()``: write the claim unless one exists (False: the condition failed). ``read()``: the
    current claim (consistent read), None if there is none. ``take_over(held)``: replace the expired
    claim ``held`` unless it changed since it was read (False: the condition failed). A failed
    condition is a win when the claim read back holds ``token``: an earlier send of this very write
    was applied."""
    for _ in range(ATTEMPTS):
        if create():
            return True
        held = read()
        if held is None:
            continue  # expired and removed between the write and the read: claim it afresh
        if held.token == token:
            return True
        if held.expires > now:
            return False
        if take_over(held):
            return True
        held = read()
        if held is None:
            continue
        return held.token == token  # ours if a re-sent takeover had gone through; else another's
    raise Unavailable("a claim kept vanishing while it was being taken; retry")
