"""A conditional write through Firestore replaces the stored document: a native field an older version
wrote and this one does not is gone after the next write (an update keeps what it does not name)."""

from __future__ import annotations

from typing import Any

import pytest

from dynastore.domain.audit import audit_doc
from support.stac_docs import store_catalog_with_item

pytestmark = pytest.mark.gcp


def test_a_field_the_stored_item_has_and_the_new_revision_lacks_is_deleted(gcp: Any) -> None:
    # GIVEN an item whose Firestore document also holds a field this version never writes
    store = gcp.adapters.store
    store_catalog_with_item(store)
    ref = store._item_ref("c", "s2", "i1")
    ref.update({"legacy_sort_key": "zzz"})
    assert "legacy_sort_key" in (ref.get().to_dict() or {})
    # WHEN the item is written again at its revision
    item = {"type": "Feature", "id": "i1", "collection": "s2", "catalog_id": "c", "properties": {"title": "v2"}}
    stored = store.put_item("c", item, expect_rev=1, audit=audit_doc("c", "item", "i1", "update"))
    # THEN the document holds exactly the new revision's fields
    fields = ref.get().to_dict() or {}
    assert stored["rev"] == 2 and fields["rev"] == 2
    assert "legacy_sort_key" not in fields
    assert store.get_item("c", "s2", "i1")["properties"]["title"] == "v2"
