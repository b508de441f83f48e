"""MetadataStore contract: asset writes (revisions, atomicity), bulk reads, export, audit trail."""

from __future__ import annotations

import pytest

from dynastore.errors import Conflict, Invalid, NotFound
from dynastore.ports import AssetWrite, MetadataStore
from support.paging import all_items

from .helpers import asset_doc, audit, seed_catalog, write_new


def test_write_and_read_an_asset(store: MetadataStore) -> None:
    seed_catalog(store, "demo")
    doc = asset_doc("demo", "S2A_B04.TIF", title="Band 4", roles=["data"], metadata={"cloud": 3, "tile": "T31"})
    [stored] = write_new(store, doc)
    # THEN the store sets rev 1 and returns the document as stored
    assert stored == {**doc, "rev": 1}
    assert store.get_asset("demo", "S2A_B04.TIF") == stored
    with pytest.raises(NotFound):
        store.get_asset("demo", "nope")
    with pytest.raises(NotFound):
        store.get_asset("other-catalog", "S2A_B04.TIF")


def test_revisions_and_conflicts(store: MetadataStore) -> None:
    seed_catalog(store, "demo")
    [v1] = write_new(store, asset_doc("demo", "a"))
    # create-only on an existing asset conflicts
    with pytest.raises(Conflict):
        write_new(store, asset_doc("demo", "a", title="dup"))
    # update over the current revision
    [v2] = store.write_assets([AssetWrite({**v1, "title": "v2"}, expect_rev=1)], audits=[audit("demo")])
    assert v2["rev"] == 2
    # stale revision conflicts and changes nothing
    with pytest.raises(Conflict):
        store.write_assets([AssetWrite({**v1, "title": "stale"}, expect_rev=1)], audits=[audit("demo")])
    assert store.get_asset("demo", "a")["title"] == "v2"
    # an expected revision on a missing asset conflicts
    with pytest.raises(Conflict):
        store.write_assets([AssetWrite(asset_doc("demo", "ghost"), expect_rev=2)], audits=[audit("demo")])
    # unconditional write
    [v3] = store.write_assets([AssetWrite({**v2, "title": "v3"}, expect_rev=None)], audits=[audit("demo")])
    assert v3["rev"] == 3


def test_write_assets_is_all_or_nothing(store: MetadataStore) -> None:
    # GIVEN an existing asset
    seed_catalog(store, "demo")
    write_new(store, asset_doc("demo", "taken"))
    before = len(store.list_audit("demo", limit=1000).items)
    # WHEN a batch of new assets includes one create-only write of the existing asset
    batch = [AssetWrite(asset_doc("demo", f"new-{n}"), expect_rev=0) for n in range(50)]
    batch.insert(25, AssetWrite(asset_doc("demo", "taken", title="clobber"), expect_rev=0))
    with pytest.raises(Conflict):
        store.write_assets(batch, audits=[audit("demo", "asset", w.doc["id"]) for w in batch])
    # THEN none of the batch was written, not even the audit events
    assert store.get_assets("demo", [f"new-{n}" for n in range(50)]) == []
    assert store.get_asset("demo", "taken").get("title") is None
    assert len(store.list_audit("demo", limit=1000).items) == before


def test_a_malformed_document_in_a_batch_writes_nothing(store: MetadataStore) -> None:
    seed_catalog(store, "demo")
    bad = {k: v for k, v in asset_doc("demo", "x").items() if k != "id"}
    with pytest.raises(Invalid):
        store.write_assets(
            [AssetWrite(asset_doc("demo", "ok"), expect_rev=0), AssetWrite(bad, expect_rev=0)], audits=[audit("demo")]
        )
    assert store.get_assets("demo", ["ok"]) == []


def test_the_same_asset_twice_in_one_batch_applies_in_order(store: MetadataStore) -> None:
    seed_catalog(store, "demo")
    first = asset_doc("demo", "a", title="one")
    out = store.write_assets(
        [AssetWrite(first, expect_rev=0), AssetWrite({**first, "title": "two"}, expect_rev=1)], audits=[audit("demo")]
    )
    assert [d["rev"] for d in out] == [1, 2]
    assert store.get_asset("demo", "a")["title"] == "two"


def test_get_assets_returns_existing_documents_of_any_status(store: MetadataStore) -> None:
    seed_catalog(store, "demo")
    seed_catalog(store, "other")
    docs = [asset_doc("demo", f"a{n:04d}", status="deleted" if n % 7 == 0 else "active") for n in range(1200)]
    write_new(store, *docs)
    write_new(store, asset_doc("other", "a0001"))
    wanted = [f"a{n:04d}" for n in range(0, 1200, 2)] + ["missing-1", "missing-2"]
    found = store.get_assets("demo", wanted)
    assert sorted(d["id"] for d in found) == sorted(wanted[:-2])
    assert all(d["catalog_id"] == "demo" for d in found)
    assert {d["status"] for d in found} == {"active", "deleted"}
    assert store.get_assets("demo", []) == []


def test_hard_delete_keeps_the_audit_trail(store: MetadataStore) -> None:
    seed_catalog(store, "demo")
    write_new(store, asset_doc("demo", "a"))
    store.delete_asset("demo", "a", audit=audit("demo", "asset", "a", "hard_delete"))
    with pytest.raises(NotFound):
        store.get_asset("demo", "a")
    with pytest.raises(NotFound):
        store.delete_asset("demo", "a", audit=audit("demo", "asset", "a", "hard_delete"))
    trail = store.list_audit("demo", record_type="asset", record_id="a").items
    assert [e["action"] for e in trail] == ["hard_delete", "create"]


def test_audit_trail_is_newest_first_and_pages(store: MetadataStore) -> None:
    seed_catalog(store, "demo")
    for n in range(12):
        store.write_assets(
            [AssetWrite(asset_doc("demo", "a", title=str(n)))], audits=[audit("demo", "asset", "a", f"u{n}")]
        )
    write_new(store, asset_doc("demo", "b"))
    audit_of_a = all_items(
        lambda token: store.list_audit("demo", record_type="asset", record_id="a", limit=5, token=token)
    )
    actions = [e["action"] for e in audit_of_a]
    assert actions == [f"u{n}" for n in reversed(range(12))]
    assert store.list_audit("demo", limit=1).items[0]["record_id"] == "b"
    assert store.list_audit("elsewhere").items == []


def test_export_streams_in_updated_order_with_since(store: MetadataStore) -> None:
    # GIVEN assets updated at known times, some deleted, some in another catalog
    seed_catalog(store, "demo")
    seed_catalog(store, "other")
    docs = []
    for n in range(2500):
        updated = f"2024-01-{1 + n % 28:02d}T00:00:00.000000Z"
        status = "deleted" if n % 10 == 0 else "active"
        docs.append(asset_doc("demo", f"a{n:05d}", updated=updated, status=status))
    # (no audit events: they are not what export reads, and they double the transactions moto replays)
    store.write_assets([AssetWrite(doc, expect_rev=0) for doc in docs], audits=[])
    write_new(store, asset_doc("other", "x"))
    # WHEN exported
    exported = list(store.export_assets("demo"))
    # THEN every active asset once, in (updated, id) order
    expected = sorted((d for d in docs if d["status"] == "active"), key=lambda d: (d["updated"], d["id"]))
    assert [d["id"] for d in exported] == [d["id"] for d in expected]
    # AND since keeps updated >= since
    since = "2024-01-20T00:00:00.000000Z"
    assert [d["id"] for d in store.export_assets("demo", since=since)] == [
        d["id"] for d in expected if d["updated"] >= since
    ]
    # AND statuses selects what to include
    everything = list(store.export_assets("demo", statuses=("active", "deleted")))
    assert len(everything) == 2500


def test_health(store: MetadataStore) -> None:
    store.health()
