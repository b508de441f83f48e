"""Writers racing for one item on the Firestore emulator (the flaky 20-writer If-Match test).

An item write must hold over its collection (a transaction). When every racing writer read-locked
the item in its transaction and then committed, each commit waited for the others' locks until the
emulator's lock timeout aborted them all, every attempt, until the SDK gave up: no writer won, and
each was told its revision was stale (412). The item is now written with a precondition on the
version read, outside the transaction's locks: one writer wins, the others find the new revision.
A transaction the database keeps aborting is contention (503: retry), never a stale revision.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier, BrokenBarrierError
from typing import Any

import pytest
from google.api_core import exceptions as gexc
from google.cloud.firestore_v1 import transaction as transaction_module

from dynastore.domain.audit import audit_doc
from dynastore.errors import Conflict, PreconditionFailed, Unavailable
from dynastore.services.revisions import precondition
from support.stac_docs import store_catalog_with_item

pytestmark = pytest.mark.gcp

WRITERS = 5


def _item(title: str) -> dict[str, Any]:
    return {"type": "Feature", "id": "i1", "collection": "s2", "catalog_id": "c", "properties": {"title": title}}


def _commits_released_together(monkeypatch: pytest.MonkeyPatch, parties: int) -> tuple[Barrier, list[str]]:
    """Every transaction commit waits until ``parties`` commits are ready, then all go at once (the
    race made certain); once the barrier is aborted, commits go straight through. Returns the barrier
    and the list of ABORTED answers the database gave to commits."""
    barrier = Barrier(parties, timeout=60)
    aborted: list[str] = []
    real = transaction_module.Transaction._commit

    def commit(self: Any) -> Any:
        with contextlib.suppress(BrokenBarrierError):
            barrier.wait()
        try:
            return real(self)
        except gexc.Aborted as exc:
            aborted.append(str(exc))
            raise

    monkeypatch.setattr(transaction_module.Transaction, "_commit", commit)
    return barrier, aborted


def test_racing_item_writers_at_one_revision_one_wins_the_others_find_it_changed(
    gcp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an item at revision 1, and writers whose commits all go to the database at the same moment
    store = gcp.adapters.store
    store_catalog_with_item(store, _item("v0"))
    barrier, aborted = _commits_released_together(monkeypatch, WRITERS)

    def write(i: int) -> str:
        try:
            with precondition(1, "item 'i1'"):  # as the service does for If-Match: "1"
                store.put_item("c", _item(f"writer {i}"), expect_rev=1, audit=audit_doc("c", "item", "i1", "update"))
            return f"writer {i}"
        except PreconditionFailed:
            return "412"
        finally:
            barrier.abort()  # one writer is done: the others no longer wait for it

    # WHEN they all replace it at revision 1 (the same If-Match)
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        outcomes = list(pool.map(write, range(WRITERS)))
    # THEN no commit deadlocked (none aborted by the emulator's lock timeout: that is how all could lose)
    assert aborted == []
    # AND exactly one wins, the others answer 412, and the item holds the winner's write at revision 2
    winners = [o for o in outcomes if o != "412"]
    assert len(winners) == 1 and outcomes.count("412") == WRITERS - 1, outcomes
    stored = store.get_item("c", "s2", "i1")
    assert stored["rev"] == 2 and stored["properties"]["title"] == winners[0]


def test_a_write_the_database_keeps_aborting_is_unavailable_not_a_stale_revision(
    gcp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an item at revision 1, and a Firestore that aborts every transaction commit (contention)
    store = gcp.adapters.store
    store_catalog_with_item(store, _item("v0"))

    def aborted(self: Any) -> Any:
        raise gexc.Aborted("Transaction lock timeout.")

    monkeypatch.setattr(transaction_module.Transaction, "_commit", aborted)
    # WHEN the item is replaced at its current revision
    with pytest.raises(Unavailable) as raised, precondition(1, "item 'i1'"):
        store.put_item("c", _item("new"), expect_rev=1, audit=audit_doc("c", "item", "i1", "update"))
    # THEN the answer is 503 (retry), not a Conflict/412 claiming someone changed it; nothing was written
    assert not isinstance(raised.value, Conflict) and raised.value.status == 503
    assert "retry" in str(raised.value)
    monkeypatch.undo()
    stored = store.get_item("c", "s2", "i1")
    assert stored["rev"] == 1 and stored["properties"]["title"] == "v0"
