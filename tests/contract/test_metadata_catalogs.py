"""MetadataStore contract: catalogs, collections and items (CRUD, revisions, paging, cascades)."""

from __future__ import annotations

import pytest

from dynastore.errors import Conflict, Invalid, NotFound
from dynastore.ports import MetadataStore
from support.paging import all_items

from .helpers import asset_doc, audit, catalog_doc, collection_doc, item_doc, seed_catalog, write_new


def test_catalog_create_read_update_with_revisions(store: MetadataStore) -> None:
    # GIVEN a new catalog  WHEN it is created
    created = store.put_catalog(catalog_doc("demo", title="Demo"), expect_rev=0, audit=audit("demo", "catalog", "demo"))
    # THEN it is at revision 1 and reads back the same
    assert created["rev"] == 1
    assert store.get_catalog("demo") == created
    # AND creating it again conflicts
    with pytest.raises(Conflict):
        store.put_catalog(catalog_doc("demo"), expect_rev=0, audit=audit("demo", "catalog", "demo"))
    # WHEN updated over its revision  THEN revision 2
    updated = store.put_catalog({**created, "title": "Demo 2"}, expect_rev=1, audit=audit("demo", "catalog", "demo"))
    assert updated["rev"] == 2
    assert store.get_catalog("demo")["title"] == "Demo 2"
    # AND a write over the stale revision conflicts and changes nothing
    with pytest.raises(Conflict):
        store.put_catalog({**created, "title": "lost"}, expect_rev=1, audit=audit("demo", "catalog", "demo"))
    assert store.get_catalog("demo")["title"] == "Demo 2"
    # AND expect_rev=None writes unconditionally
    assert store.put_catalog({**updated, "title": "Demo 3"}, expect_rev=None, audit=audit("demo"))["rev"] == 3


def test_update_of_a_missing_record_conflicts(store: MetadataStore) -> None:
    with pytest.raises(Conflict):
        store.put_catalog(catalog_doc("ghost"), expect_rev=3, audit=audit("ghost", "catalog", "ghost"))
    with pytest.raises(NotFound):
        store.get_catalog("ghost")


def test_catalog_writes_leave_audit_events(store: MetadataStore) -> None:
    seed_catalog(store, "demo")
    store.put_catalog(catalog_doc("demo", title="x"), expect_rev=1, audit=audit("demo", "catalog", "demo", "update"))
    actions = [e["action"] for e in store.list_audit("demo", record_type="catalog", record_id="demo").items]
    assert actions == ["update", "create"]


def test_list_catalogs_pages_and_filters_by_status(store: MetadataStore) -> None:
    for n in range(7):
        status = "retired" if n % 3 == 0 else "active"
        store.put_catalog(catalog_doc(f"cat-{n}", status=status), expect_rev=0, audit=audit(f"cat-{n}", "catalog"))
    seen = [c["id"] for c in all_items(lambda token: store.list_catalogs(limit=3, token=token))]
    assert seen == [f"cat-{n}" for n in range(7)]
    assert [c["id"] for c in store.list_catalogs(status="retired").items] == ["cat-0", "cat-3", "cat-6"]


def test_collections_crud_and_paging(store: MetadataStore) -> None:
    seed_catalog(store, "demo")
    with pytest.raises(NotFound):
        store.get_collection("demo", "s2")
    created = store.put_collection("demo", collection_doc("s2"), expect_rev=0, audit=audit("demo", "collection", "s2"))
    assert created["rev"] == 1
    assert store.get_collection("demo", "s2")["id"] == "s2"
    with pytest.raises(Conflict):
        store.put_collection("demo", collection_doc("s2"), expect_rev=0, audit=audit("demo", "collection", "s2"))
    updated = store.put_collection(
        "demo", {**created, "title": "Sentinel-2"}, expect_rev=1, audit=audit("demo", "collection", "s2")
    )
    assert updated["rev"] == 2
    for n in range(4):
        store.put_collection("demo", collection_doc(f"c{n}"), expect_rev=0, audit=audit("demo", "collection"))
    # collections of another catalog stay apart
    seed_catalog(store, "other")
    store.put_collection("other", collection_doc("zz"), expect_rev=0, audit=audit("other", "collection"))
    first = store.list_collections("demo", limit=2)
    second = store.list_collections("demo", limit=2, token=first.next_token)
    third = store.list_collections("demo", limit=2, token=second.next_token)
    ids = [c["id"] for page in (first, second, third) for c in page.items]
    assert ids == ["c0", "c1", "c2", "c3", "s2"]
    assert third.next_token is None


def test_items_need_an_existing_collection(store: MetadataStore) -> None:
    seed_catalog(store, "demo")
    with pytest.raises(NotFound):
        store.put_item("demo", item_doc("nope", "i1"), expect_rev=0, audit=audit("demo", "item", "i1"))


def test_items_crud_and_paging(store: MetadataStore) -> None:
    seed_catalog(store, "demo")
    store.put_collection("demo", collection_doc("s2"), expect_rev=0, audit=audit("demo", "collection", "s2"))
    created = store.put_item("demo", item_doc("s2", "scene-1"), expect_rev=0, audit=audit("demo", "item", "scene-1"))
    assert created["rev"] == 1
    assert store.get_item("demo", "s2", "scene-1")["geometry"]["type"] == "Point"
    with pytest.raises(Conflict):
        store.put_item("demo", item_doc("s2", "scene-1"), expect_rev=0, audit=audit("demo", "item", "scene-1"))
    with pytest.raises(Conflict):
        store.put_item("demo", item_doc("s2", "scene-1"), expect_rev=5, audit=audit("demo", "item", "scene-1"))
    assert store.put_item("demo", item_doc("s2", "scene-1", title="t"), expect_rev=1, audit=audit("demo"))["rev"] == 2
    with pytest.raises(NotFound):
        store.get_item("demo", "s2", "scene-x")
    for n in range(5):
        store.put_item("demo", item_doc("s2", f"i{n}"), expect_rev=0, audit=audit("demo", "item"))
    seen = [i["id"] for i in all_items(lambda token: store.list_items("demo", "s2", limit=4, token=token))]
    assert seen == ["i0", "i1", "i2", "i3", "i4", "scene-1"]


def test_delete_item_removes_only_the_item(store: MetadataStore) -> None:
    # GIVEN an item with a linked asset, and a collection-level asset
    seed_catalog(store, "demo")
    store.put_collection("demo", collection_doc("s2"), expect_rev=0, audit=audit("demo", "collection", "s2"))
    store.put_item("demo", item_doc("s2", "scene-1"), expect_rev=0, audit=audit("demo", "item", "scene-1"))
    write_new(
        store,
        asset_doc("demo", "b04", collection_id="s2", item_id="scene-1"),
        asset_doc("demo", "guide", collection_id="s2"),
    )
    # WHEN the item is deleted
    store.delete_item("demo", "s2", "scene-1", audit=audit("demo", "item", "scene-1", "delete"))
    # THEN the item is gone and both asset records stay (the service soft-deletes the item's assets)
    with pytest.raises(NotFound):
        store.get_item("demo", "s2", "scene-1")
    assert [a["id"] for a in store.get_assets("demo", ["b04", "guide"])] == ["b04", "guide"]
    with pytest.raises(NotFound):
        store.delete_item("demo", "s2", "scene-1", audit=audit("demo", "item", "scene-1", "delete"))


def test_delete_collection_cascades_atomically(store: MetadataStore) -> None:
    # GIVEN a collection with items, item assets and collection assets, and a catalog asset
    seed_catalog(store, "demo")
    for col in ("s2", "l8"):
        store.put_collection("demo", collection_doc(col), expect_rev=0, audit=audit("demo", "collection", col))
        store.put_item("demo", item_doc(col, "scene-1"), expect_rev=0, audit=audit("demo", "item"))
        write_new(
            store,
            asset_doc("demo", f"{col}-b04", collection_id=col, item_id="scene-1"),
            asset_doc("demo", f"{col}-guide", collection_id=col),
        )
    write_new(store, asset_doc("demo", "readme"))
    # WHEN one collection is deleted
    store.delete_collection("demo", "s2", audit=audit("demo", "collection", "s2", "delete"))
    # THEN everything under it is gone and nothing else is
    with pytest.raises(NotFound):
        store.get_collection("demo", "s2")
    with pytest.raises(NotFound):
        store.get_item("demo", "s2", "scene-1")
    remaining = {a["id"] for a in store.get_assets("demo", ["s2-b04", "s2-guide", "l8-b04", "l8-guide", "readme"])}
    assert remaining == {"l8-b04", "l8-guide", "readme"}
    assert store.get_item("demo", "l8", "scene-1")["id"] == "scene-1"
    trail = store.list_audit("demo", record_type="collection", record_id="s2").items
    assert trail[0]["action"] == "delete"
    with pytest.raises(NotFound):
        store.delete_collection("demo", "s2", audit=audit("demo", "collection", "s2", "delete"))


@pytest.mark.parametrize("limit", [0, -1, 10_001])
def test_out_of_range_limits_are_invalid(store: MetadataStore, limit: int) -> None:
    with pytest.raises(Invalid):
        store.list_catalogs(limit=limit)


def test_a_token_from_another_listing_is_invalid(store: MetadataStore) -> None:
    for n in range(3):
        seed_catalog(store, f"c{n}")
        store.put_collection(f"c{n}", collection_doc("x"), expect_rev=0, audit=audit(f"c{n}", "collection"))
    token = store.list_catalogs(limit=1).next_token
    assert token
    with pytest.raises(Invalid):
        store.list_audit("c0", limit=1, token=token)
    with pytest.raises(Invalid):
        store.list_catalogs(limit=1, token="not-a-token!!")
