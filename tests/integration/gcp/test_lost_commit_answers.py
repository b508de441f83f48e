"""A Firestore commit can go through while its answer is lost (the SDK sees ABORTED or re-sends the
commit, then runs the transaction again). The retry then finds its own write: the write must answer as
the success it was, not as a lost race (412 to the one writer that won)."""

from __future__ import annotations

from typing import Any

import pytest
from google.api_core import exceptions as gexc
from google.cloud.firestore_v1 import batch as batch_module
from google.cloud.firestore_v1 import transaction as transaction_module

from dynastore.domain.audit import audit_doc
from dynastore.errors import Conflict
from support.stac_docs import store_catalog_with_item

pytestmark = pytest.mark.gcp


def _lose_first_answer(monkeypatch: pytest.MonkeyPatch, owner: Any, method: str) -> list[int]:
    """``owner.method`` commits, then raises ABORTED the first time (the answer lost); counts calls."""
    calls: list[int] = []
    real = getattr(owner, method)

    def commit(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = real(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == 1:
            raise gexc.Aborted("the commit went through; its answer was lost")
        return result

    monkeypatch.setattr(owner, method, commit)
    return calls


def test_an_item_write_whose_commit_answer_is_lost_answers_its_own_success(
    gcp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an item at revision 1, and a Firestore whose first transaction commit answers ABORTED
    # after it went through
    store = gcp.adapters.store
    store_catalog_with_item(store)
    calls = _lose_first_answer(monkeypatch, transaction_module.Transaction, "_commit")
    # WHEN the item is replaced at revision 1 (If-Match)
    doc = {"type": "Feature", "id": "i1", "collection": "s2", "catalog_id": "c", "properties": {"title": "new"}}
    written = store.put_item("c", doc, expect_rev=1, audit=audit_doc("c", "item", "i1", "update"))
    # THEN the SDK ran it again, and the write answers its revision 2 (not a stale-revision conflict)
    assert calls and written["rev"] == 2
    assert store.get_item("c", "s2", "i1")["properties"] == {"title": "new"}
    # AND a real stale writer still loses
    with pytest.raises(Conflict):
        store.put_item("c", doc, expect_rev=1, audit=audit_doc("c", "item", "i1", "update"))


def test_a_compare_and_set_write_whose_commit_answer_is_lost_answers_its_own_success(
    gcp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a catalog at revision 1, and a Firestore whose first batch commit answers ABORTED after it
    # went through (the catalog is written by compare-and-set, not in a transaction)
    store = gcp.adapters.store
    store_catalog_with_item(store)
    calls = _lose_first_answer(monkeypatch, batch_module.WriteBatch, "commit")
    # WHEN the catalog is replaced at revision 1
    written = store.put_catalog(
        {"id": "c", "title": "renamed"}, expect_rev=1, audit=audit_doc("c", "catalog", "c", "update")
    )
    # THEN it answers revision 2, the catalog is renamed; a real stale writer still loses
    assert calls and written["rev"] == 2 and store.get_catalog("c")["title"] == "renamed"
    with pytest.raises(Conflict):
        store.put_catalog({"id": "c", "title": "x"}, expect_rev=1, audit=audit_doc("c", "catalog", "c", "update"))
