"""Optimistic concurrency for client writes (ETag / If-Match).

A record's ETag is its revision (``"<rev>"``). A write that carries the revision the client read
(``if_rev``) must land on exactly that revision: a mismatch found on read, or a concurrent writer
that gets in between (the store's ``Conflict`` on ``expect_rev``), is ``PreconditionFailed`` (412).
Without ``if_rev`` the service still writes over the revision it read, and a race is a 409.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dynastore.errors import Conflict, PreconditionFailed
from dynastore.ports import Doc


def etag(doc: Doc) -> str:
    """The ETag header value of a stored record."""
    return f'"{doc.get("rev", 0)}"'


def expected_rev(current: Doc | None, if_rev: int | None, what: str = "the record") -> int:
    """The revision to write over: ``current``'s (0: create), after checking ``if_rev`` against it."""
    if current is None:
        if if_rev is not None:
            raise PreconditionFailed(f"{what} does not exist, so If-Match {if_rev} cannot hold")
        return 0
    rev = int(current.get("rev") or 0)
    if if_rev is not None and if_rev != rev:
        raise PreconditionFailed(
            f"{what} is at revision {rev}, not {if_rev} (If-Match): someone changed it since you read it; "
            "GET it again (new ETag), redo your change and retry"
        )
    return rev


@contextmanager
def precondition(if_rev: int | None, what: str = "the record") -> Iterator[None]:
    """Inside: a store ``Conflict`` (a writer got in between) is ``PreconditionFailed`` when the
    client sent If-Match."""
    try:
        yield
    except PreconditionFailed:
        raise
    except Conflict as exc:
        if if_rev is None:
            raise
        raise PreconditionFailed(
            f"{what} is no longer at revision {if_rev} (If-Match): it changed while this write ran; "
            "GET it again (new ETag), redo your change and retry"
        ) from exc
