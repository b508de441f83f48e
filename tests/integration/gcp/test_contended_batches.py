"""Batch item writes racing for the same items on the Firestore emulator (a FeatureCollection POST,
a ``dynastore load`` batch, an upsert: ``write_items`` in one commit).

When each batch read its items inside its transaction, every racing batch read-locked them and then
committed: each commit waited for the others' locks until the emulator's lock timeout aborted them
all, attempt after attempt, and they ended as 503 after seconds. A batch now reads its items outside
any transaction and commits with a precondition per item on the version read (the collections still
checked in the transaction): one batch wins a round, the others re-read and re-plan (an upsert then
writes over the winner; a stale revision is a conflict). Each batch lands whole or not at all.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from threading import BrokenBarrierError
from typing import Any

import pytest
from google.api_core import exceptions as gexc
from google.cloud.firestore_v1 import batch as batch_module
from google.cloud.firestore_v1 import transaction as transaction_module
from test_contended_writes import _commits_released_together

from dynastore.domain.audit import audit_doc
from dynastore.errors import Conflict, NotFound
from dynastore.ports import AssetWrite, ItemWrite

pytestmark = pytest.mark.gcp

WRITERS = 5
IDS = ("a", "b", "c")


def _catalog_with_items(store: Any) -> None:
    store.put_catalog({"id": "c", "title": "c"}, expect_rev=0, audit=audit_doc("c", "catalog", "c", "create"))
    collection = {"type": "Collection", "id": "s2", "catalog_id": "c", "description": "d", "license": "l"}
    store.put_collection("c", collection, expect_rev=0, audit=audit_doc("c", "collection", "s2", "create"))
    store.write_items("c", _batch("v0", 0))


def _item(item_id: str, title: str) -> dict[str, Any]:
    return {"type": "Feature", "id": item_id, "collection": "s2", "catalog_id": "c", "properties": {"title": title}}


def _batch(title: str, expect_rev: int | None) -> list[ItemWrite]:
    return [ItemWrite(_item(i, title), expect_rev, audit_doc("c", "item", i, "replace")) for i in IDS]


def _titles(store: Any) -> dict[str, tuple[str, int]]:
    return {i: (doc["properties"]["title"], doc["rev"]) for i in IDS for doc in [store.get_item("c", "s2", i)]}


def _audit_ids(store: Any) -> set[str]:
    return {entry["id"] for entry in store.list_audit("c", record_type="item", limit=1000).items}


def _race(store: Any, monkeypatch: pytest.MonkeyPatch, expect_rev: int | None) -> tuple[list[Any], list[str], Any]:
    """``WRITERS`` batches of the same items, their commits released together; returns each one's
    outcome (its stored docs or the error), the ABORTED answers the database gave, and the batches."""
    barrier, aborted = _commits_released_together(monkeypatch, WRITERS)
    batches = [_batch(f"writer {k}", expect_rev) for k in range(WRITERS)]

    def write(k: int) -> Any:
        try:
            return store.write_items("c", batches[k])
        except Exception as exc:  # the outcome under test: which error, if any
            return exc
        finally:
            barrier.abort()  # one batch is done: the others no longer wait for it

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        outcomes = list(pool.map(write, range(WRITERS)))
    monkeypatch.undo()
    return outcomes, aborted, batches


def test_racing_batch_upserts_of_the_same_items_all_land_whole_without_lock_timeouts(
    gcp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN items a, b, c at revision 1, and batch writers whose commits reach the database together
    store = gcp.adapters.store
    _catalog_with_items(store)
    # WHEN each upserts all three (no expected revision: the last one wins)
    outcomes, aborted, batches = _race(store, monkeypatch, None)
    # THEN no commit deadlocked (none aborted by the emulator's lock timeout) and every batch landed
    assert aborted == []
    assert all(isinstance(o, list) for o in outcomes), outcomes
    # AND each batch wrote its three items at one revision each, the revisions 2..6 in turn
    revs = sorted(o[0]["rev"] for o in outcomes)
    assert revs == list(range(2, 2 + WRITERS))
    assert all({d["rev"] for d in o} == {o[0]["rev"]} for o in outcomes)
    # AND the items hold the last batch whole (never a mix of batches), at its revision
    last = max(range(WRITERS), key=lambda k: outcomes[k][0]["rev"])
    assert _titles(store) == {i: (f"writer {last}", 1 + WRITERS) for i in IDS}
    # AND every batch left its audit entries
    assert {w.audit["id"] for b in batches for w in b} <= _audit_ids(store)


def test_racing_batches_at_one_revision_one_lands_whole_the_others_conflict(
    gcp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN items a, b, c at revision 1, and batch writers whose commits reach the database together
    store = gcp.adapters.store
    _catalog_with_items(store)
    before = _audit_ids(store)
    # WHEN each replaces all three at revision 1 (If-Match on every item)
    outcomes, aborted, batches = _race(store, monkeypatch, 1)
    # THEN no commit deadlocked; exactly one batch won, the others lost the race (409/412, not 503)
    assert aborted == []
    winners = [k for k, o in enumerate(outcomes) if isinstance(o, list)]
    assert len(winners) == 1, outcomes
    assert all(type(o) is Conflict for k, o in enumerate(outcomes) if k != winners[0]), outcomes
    # AND the items hold the winner's batch whole at revision 2
    assert _titles(store) == {i: (f"writer {winners[0]}", 2) for i in IDS}
    # AND only the winner's audit entries exist: each entry matches a write that happened
    assert _audit_ids(store) - before == {w.audit["id"] for w in batches[winners[0]]}


def test_a_batch_with_one_stale_revision_conflicts_and_writes_nothing(gcp: Any) -> None:
    # GIVEN items a, b, c at revision 1
    store = gcp.adapters.store
    _catalog_with_items(store)
    before = _audit_ids(store)
    # WHEN a batch replaces a and b at revision 1 but c at revision 5 (stale)
    batch = _batch("new", 1)
    batch[2] = ItemWrite(_item("c", "new"), 5, audit_doc("c", "item", "c", "replace"))
    # THEN it is a conflict naming c, and nothing of it was written (items nor audit entries)
    with pytest.raises(Conflict, match="'c'"):
        store.write_items("c", batch)
    assert _titles(store) == {i: ("v0", 1) for i in IDS}
    assert _audit_ids(store) == before


def test_a_batch_into_a_missing_collection_is_not_found_and_writes_nothing(gcp: Any) -> None:
    # GIVEN items a, b, c in collection s2, and no collection s3
    store = gcp.adapters.store
    _catalog_with_items(store)
    # WHEN a batch writes a in s2 and x in s3
    batch = [
        *_batch("new", 1)[:1],
        ItemWrite({**_item("x", "new"), "collection": "s3"}, 0, audit_doc("c", "item", "x", "create")),
    ]
    # THEN s3 is named as missing and nothing was written
    with pytest.raises(NotFound, match="'s3'"):
        store.write_items("c", batch)
    assert _titles(store)["a"] == ("v0", 1)


def test_a_batch_whose_commit_answer_is_lost_answers_its_own_success(gcp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN items a, b, c at revision 1, and a Firestore whose first transaction commit answers ABORTED
    # after it went through
    store = gcp.adapters.store
    _catalog_with_items(store)
    calls: list[int] = []
    real = transaction_module.Transaction._commit

    def commit(self: Any) -> Any:
        result = real(self)
        calls.append(1)
        if len(calls) == 1:
            raise gexc.Aborted("the commit went through; its answer was lost")
        return result

    monkeypatch.setattr(transaction_module.Transaction, "_commit", commit)
    # WHEN the three are replaced at revision 1
    written = store.write_items("c", _batch("new", 1))
    # THEN the batch answers its own revision 2 for each (not a stale-revision conflict)
    assert calls and [d["rev"] for d in written] == [2, 2, 2]
    monkeypatch.undo()
    assert _titles(store) == {i: ("new", 2) for i in IDS}
    # AND a real stale writer still loses
    with pytest.raises(Conflict):
        store.write_items("c", _batch("late", 1))


def test_racing_deleters_of_one_item_one_deletes_it_the_others_find_it_gone(
    gcp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN item a at revision 1, and deleters whose commits (transaction or batch) reach the database together
    store = gcp.adapters.store
    _catalog_with_items(store)
    barrier, aborted = _commits_released_together(monkeypatch, WRITERS)
    real = batch_module.WriteBatch.commit

    def commit(self: Any, *args: Any, **kwargs: Any) -> Any:
        with contextlib.suppress(BrokenBarrierError):
            barrier.wait()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(batch_module.WriteBatch, "commit", commit)
    audits = [audit_doc("c", "item", "a", "delete") for _ in range(WRITERS)]

    def delete(k: int) -> Any:
        try:
            return store.delete_item("c", "s2", "a", audit=audits[k], expect_rev=1)
        except Exception as exc:  # the outcome under test: which error, if any
            return exc
        finally:
            barrier.abort()

    # WHEN they all delete it at revision 1
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        outcomes = list(pool.map(delete, range(WRITERS)))
    monkeypatch.undo()
    # THEN no commit deadlocked; one deleted it, the others found it gone (404, not 503)
    assert aborted == []
    assert outcomes.count(None) == 1, outcomes
    assert all(type(o) is NotFound for o in outcomes if o is not None), outcomes
    # AND only the winner's audit entry exists; b and c are untouched
    assert _audit_ids(store) & {a["id"] for a in audits} == {audits[outcomes.index(None)]["id"]}
    assert [d["id"] for d in store.get_items("c", [("s2", i) for i in IDS])] == ["b", "c"]


def test_a_bulk_write_failing_in_a_later_part_puts_back_the_parts_it_committed(
    gcp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN 250 assets at revision 1, and a bulk write too big for one commit (250 replaced, 200 new)
    # whose second part fails after another writer changed one record of its first part
    store = gcp.adapters.store
    store.put_catalog({"id": "c", "title": "c"}, expect_rev=0, audit=audit_doc("c", "catalog", "c", "create"))
    old = [f"old-{n:03d}" for n in range(250)]
    new = [f"new-{n:03d}" for n in range(200)]
    store.write_assets([AssetWrite(_asset(i, "v0"), 0) for i in old], audits=[])
    real = store._commit_part

    def commit_part(batch: Any, what: str) -> None:
        if what.endswith("part 2"):
            store.write_assets([AssetWrite(_asset(old[7], "other"), 2)], audits=[])
            raise Conflict(f"{what}: a record changed during a bulk write; retry")
        real(batch, what)

    monkeypatch.setattr(store, "_commit_part", commit_part)
    # WHEN the bulk write runs
    with pytest.raises(Conflict):
        store.write_assets([AssetWrite(_asset(i, "bulk"), None) for i in old + new], audits=[])
    # THEN what its first part wrote is put back, but the other writer's later version is left alone
    found = {d["id"]: (d["title"], d["rev"]) for d in store.get_assets("c", old + new)}
    assert found == {i: ("other", 3) if i == old[7] else ("v0", 1) for i in old}


def _asset(asset_id: str, title: str) -> dict[str, Any]:
    return {"id": asset_id, "catalog_id": "c", "href": f"https://example.com/{asset_id}", "title": title}
