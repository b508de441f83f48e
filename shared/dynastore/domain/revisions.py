"""Optimistic concurrency on records: the ``rev`` rule every metadata store applies."""

from __future__ import annotations

from dynastore.errors import Conflict


def check_rev(current: int | None, expect_rev: int | None, what: str) -> int:
    """The new revision of a record at ``current`` (None: absent) written with ``expect_rev``.

    ``expect_rev`` None writes whatever is there, 0 creates only, n replaces revision n only;
    anything else raises ``Conflict`` carrying the current revision.
    """
    if expect_rev is not None:
        if expect_rev == 0 and current is not None:
            raise Conflict(f"{what} already exists", current_rev=current)
        if expect_rev != 0 and current != expect_rev:
            found = "does not exist" if current is None else f"is at revision {current}"
            raise Conflict(f"{what} {found}, not at revision {expect_rev}; reload it and retry", current_rev=current)
    return (current or 0) + 1
