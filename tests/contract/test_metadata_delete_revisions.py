"""MetadataStore contract: deletes over an expected revision (If-Match), and an item delete that
leaves its assets to the caller (the service soft-deletes them)."""

from __future__ import annotations

import pytest

from dynastore.errors import Conflict, NotFound
from dynastore.ports import AssetWrite, MetadataStore

from .helpers import asset_doc, audit, collection_doc, item_doc, seed_catalog, write_new


def _seed_item_with_asset(store: MetadataStore) -> None:
    seed_catalog(store, "demo")
    store.put_collection("demo", collection_doc("s2"), expect_rev=0, audit=audit("demo", "collection", "s2"))
    store.put_item("demo", item_doc("s2", "scene-1"), expect_rev=0, audit=audit("demo", "item", "scene-1"))
    write_new(store, asset_doc("demo", "b04", collection_id="s2", item_id="scene-1"))


def test_asset_delete_over_a_stale_revision_conflicts_and_keeps_it(store: MetadataStore) -> None:
    # GIVEN an asset at revision 1, then changed to revision 2
    seed_catalog(store, "demo")
    first = write_new(store, asset_doc("demo", "a"))[0]
    store.write_assets([AssetWrite({**first, "title": "t"}, 1)], audits=[audit("demo", "asset", "a", "update")])
    # WHEN it is deleted over revision 1 THEN Conflict, and it is still there without a delete audit
    with pytest.raises(Conflict):
        store.delete_asset("demo", "a", audit=audit("demo", "asset", "a", "hard_delete"), expect_rev=1)
    assert store.get_asset("demo", "a")["rev"] == 2
    assert "hard_delete" not in [e["action"] for e in store.list_audit("demo", record_type="asset").items]
    # AND over revision 2 it goes
    store.delete_asset("demo", "a", audit=audit("demo", "asset", "a", "hard_delete"), expect_rev=2)
    with pytest.raises(NotFound):
        store.get_asset("demo", "a")


def test_item_delete_over_a_stale_revision_conflicts_and_removes_nothing(store: MetadataStore) -> None:
    # GIVEN an item at revision 2 with an asset
    _seed_item_with_asset(store)
    store.put_item("demo", item_doc("s2", "scene-1"), expect_rev=1, audit=audit("demo", "item", "scene-1"))
    # WHEN it is deleted over revision 1 THEN Conflict, and neither it nor its asset is gone
    with pytest.raises(Conflict):
        store.delete_item("demo", "s2", "scene-1", audit=audit("demo", "item", "scene-1", "delete"), expect_rev=1)
    assert store.get_item("demo", "s2", "scene-1")["rev"] == 2
    assert [a["id"] for a in store.get_assets("demo", ["b04"])] == ["b04"]
    # AND over revision 2 it goes; its asset record stays (the service soft-deletes it)
    store.delete_item("demo", "s2", "scene-1", audit=audit("demo", "item", "scene-1", "delete"), expect_rev=2)
    with pytest.raises(NotFound):
        store.get_item("demo", "s2", "scene-1")
    assert [a["id"] for a in store.get_assets("demo", ["b04"])] == ["b04"]


def test_collection_delete_over_a_stale_revision_conflicts_and_removes_nothing(store: MetadataStore) -> None:
    # GIVEN a collection at revision 2 with an item and an item asset
    _seed_item_with_asset(store)
    store.put_collection("demo", collection_doc("s2", title="t"), expect_rev=1, audit=audit("demo", "collection"))
    # WHEN it is deleted over revision 1 THEN Conflict, and nothing under it is gone
    with pytest.raises(Conflict):
        store.delete_collection("demo", "s2", audit=audit("demo", "collection", "s2", "delete"), expect_rev=1)
    assert store.get_collection("demo", "s2")["rev"] == 2
    assert store.get_item("demo", "s2", "scene-1")["id"] == "scene-1"
    assert [a["id"] for a in store.get_assets("demo", ["b04"])] == ["b04"]
    # AND over revision 2 the whole collection goes
    store.delete_collection("demo", "s2", audit=audit("demo", "collection", "s2", "delete"), expect_rev=2)
    with pytest.raises(NotFound):
        store.get_collection("demo", "s2")
    assert store.get_assets("demo", ["b04"]) == []
