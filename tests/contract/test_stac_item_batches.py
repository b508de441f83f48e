"""STAC contract, on every backend: a FeatureCollection POST is all-or-nothing (its items and their
inline assets land together or not at all), and the asset id of an item's inline asset does not
depend on the order items were loaded in (issue 14). Port level: ``MetadataStore.write_items``."""

from __future__ import annotations

from typing import Any

import pytest

from dynastore.bootstrap import Services, bootstrap
from dynastore.config import Settings
from dynastore.domain.search import AssetQuery
from dynastore.errors import Conflict, DynastoreError, Invalid
from dynastore.ports import AssetWrite, ItemWrite, MetadataStore

from .helpers import asset_doc, audit, catalog_doc, collection_doc, item_doc

ACTOR = "contract"


@pytest.fixture
def services(adapters: Any, tmp_path: Any) -> Services:
    svc = bootstrap(Settings(data_dir=tmp_path / "unused"), adapters)
    svc.catalogs.create({"id": "fc"}, actor=ACTOR)
    for col in ("s2", "s2b"):
        svc.stac.create_collection("fc", collection_doc(col, description=col, license="other"), actor=ACTOR)
    return svc


def _scene(item_id: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": item_id,
        "geometry": {"type": "Point", "coordinates": [1.0, 2.0]},
        "properties": {"datetime": "2024-01-01T00:00:00Z"},
        "links": [],
        "assets": {
            "visual": {"href": f"https://example.com/{item_id}/TCI.tif", "roles": ["visual"]},
            "B04": {"href": f"https://example.com/{item_id}/B04.tif", "roles": ["data"]},
        },
    }


def _asset_ids(services: Services, collection_id: str, item_id: str) -> list[str]:
    page = services.adapters.store.search_assets(
        AssetQuery(catalog_ids=("fc",), collection_id=collection_id, item_id=item_id, limit=100)
    )
    return sorted(d["id"] for d in page.items)


def _item_ids(services: Services, collection_id: str) -> list[str]:
    return [d["id"] for d in services.adapters.store.list_items("fc", collection_id, limit=100).items]


def test_feature_collection_whose_items_reuse_asset_keys_creates_every_item_with_its_assets(
    services: Services,
) -> None:
    # GIVEN a FeatureCollection whose two items both carry assets keyed visual and B04
    features = [_scene("S2A_1"), _scene("S2A_2")]
    # WHEN it is posted
    created = services.stac.create_items("fc", "s2", features, actor=ACTOR)
    # THEN both items exist, each with its own two asset records, keyed <item>.<key>
    assert [d["id"] for d in created] == ["S2A_1", "S2A_2"]
    assert _asset_ids(services, "s2", "S2A_1") == ["S2A_1.B04", "S2A_1.visual"]
    assert _asset_ids(services, "s2", "S2A_2") == ["S2A_2.B04", "S2A_2.visual"]
    rendered = services.stac.get_item_doc("fc", "s2", "S2A_2")
    assert rendered["id"] == "S2A_2"


def test_inline_asset_ids_do_not_depend_on_load_order(services: Services) -> None:
    # GIVEN the same two items loaded one by one, in opposite orders, into two collections
    for item_id in ("A", "B"):
        services.stac.create_item("fc", "s2", _scene(item_id), actor=ACTOR)
    for item_id in ("B2", "A2"):
        services.stac.create_item("fc", "s2b", _scene(item_id), actor=ACTOR)
    # THEN every item's assets get the same rule: <item>.<key>, the first item loaded included
    assert _asset_ids(services, "s2", "A") == ["A.B04", "A.visual"]
    assert _asset_ids(services, "s2", "B") == ["B.B04", "B.visual"]
    assert _asset_ids(services, "s2b", "B2") == ["B2.B04", "B2.visual"]
    assert _asset_ids(services, "s2b", "A2") == ["A2.B04", "A2.visual"]


def test_an_item_read_back_and_put_keeps_its_asset_records(services: Services) -> None:
    # GIVEN an item with inline assets, rendered as clients read it
    services.stac.create_item("fc", "s2", _scene("A"), actor=ACTOR)
    body = services.stac.get_item_doc("fc", "s2", "A")
    body["assets"] = {
        d["id"]: {"href": d["href"], "roles": d["roles"]}
        for d in services.adapters.store.get_assets("fc", ["A.visual", "A.B04"])
    }
    # WHEN it is PUT back as read (keys are the asset ids)
    services.stac.replace_item("fc", "s2", "A", body, actor=ACTOR)
    # THEN the same two records are updated: no A.A.visual appears
    assert _asset_ids(services, "s2", "A") == ["A.B04", "A.visual"]


def test_feature_collection_reports_every_failing_feature_and_writes_nothing(services: Services) -> None:
    # GIVEN a FeatureCollection whose features 1 and 3 are invalid (a bad geometry, an ftp href)
    bad_asset = _scene("D")
    bad_asset["assets"]["B04"]["href"] = "ftp://example.com/B04.tif"
    features = [_scene("C"), {**_scene("X"), "geometry": 3}, _scene("E"), bad_asset]
    # WHEN it is posted
    with pytest.raises(Invalid) as caught:
        services.stac.create_items("fc", "s2", features, actor=ACTOR)
    # THEN one 400 names both failing features, and nothing was written
    assert "features[1]" in caught.value.detail and "features[3]" in caught.value.detail
    assert [e["index"] for e in caught.value.extra["errors"]] == [1, 3]
    assert _item_ids(services, "s2") == []
    assert _asset_ids(services, "s2", "C") == []


def test_feature_collection_with_an_existing_item_writes_nothing(services: Services) -> None:
    # GIVEN an existing item A
    services.stac.create_item("fc", "s2", _scene("A"), actor=ACTOR)
    # WHEN a FeatureCollection of a new item and A again is posted
    with pytest.raises(Conflict) as caught:
        services.stac.create_items("fc", "s2", [_scene("N"), _scene("A")], actor=ACTOR)
    # THEN 409 names feature 1, and the new item was not written
    assert "features[1]" in caught.value.detail
    assert _item_ids(services, "s2") == ["A"]
    assert _asset_ids(services, "s2", "N") == []


def _writes(catalog_id: str, collection_id: str, ids: list[str]) -> tuple[list[ItemWrite], list[AssetWrite], list[Any]]:
    items = [ItemWrite(item_doc(collection_id, i), expect_rev=0, audit=audit(catalog_id, "item", i)) for i in ids]
    assets = [
        AssetWrite(asset_doc(catalog_id, f"{i}.{k}", collection_id=collection_id, item_id=i), expect_rev=0)
        for i in ids
        for k in ("visual", "B04")
    ]
    return items, assets, [audit(catalog_id, "asset", w.doc["id"]) for w in assets]


@pytest.mark.parametrize("count", [3, 260], ids=["one-commit", "beyond-one-commit"])
def test_write_items_lands_nothing_when_one_item_conflicts(store: MetadataStore, count: int) -> None:
    # GIVEN a collection holding item "last"
    store.put_catalog(catalog_doc("wi"), expect_rev=0, audit=audit("wi", "catalog", "wi"))
    store.put_collection("wi", collection_doc("c"), expect_rev=0, audit=audit("wi", "collection", "c"))
    store.put_item("wi", item_doc("c", "last"), expect_rev=0, audit=audit("wi", "item", "last"))
    ids = [f"i{n:03d}" for n in range(count - 1)] + ["last"]
    items, assets, audits = _writes("wi", "c", ids)
    # WHEN items (and their assets) are written together, the last one expected to be new
    with pytest.raises(Conflict):
        store.write_items("wi", items, assets=assets, audits=audits)
    # THEN none of the other items nor any asset was written
    assert [d["id"] for d in store.list_items("wi", "c", limit=1000).items] == ["last"]
    assert store.get_assets("wi", [w.doc["id"] for w in assets]) == []


def test_write_items_lands_nothing_when_an_asset_conflicts(store: MetadataStore) -> None:
    # GIVEN an asset i001.B04 that exists already
    store.put_catalog(catalog_doc("wa"), expect_rev=0, audit=audit("wa", "catalog", "wa"))
    store.put_collection("wa", collection_doc("c"), expect_rev=0, audit=audit("wa", "collection", "c"))
    store.write_assets(
        [AssetWrite(asset_doc("wa", "i001.B04", collection_id="c", item_id="i001"), expect_rev=0)], audits=[]
    )
    items, assets, audits = _writes("wa", "c", ["i000", "i001"])
    # WHEN two items are written with assets expected to be new
    with pytest.raises(Conflict):
        store.write_items("wa", items, assets=assets, audits=audits)
    # THEN no item was written
    assert store.list_items("wa", "c").items == []


def test_write_items_stores_items_assets_and_audits(store: MetadataStore) -> None:
    # GIVEN a collection
    store.put_catalog(catalog_doc("ws"), expect_rev=0, audit=audit("ws", "catalog", "ws"))
    store.put_collection("ws", collection_doc("c"), expect_rev=0, audit=audit("ws", "collection", "c"))
    items, assets, audits = _writes("ws", "c", ["a", "b"])
    # WHEN two items and their assets are written together
    stored = store.write_items("ws", items, assets=assets, audits=audits)
    # THEN each is stored at rev 1, with its assets and every audit event
    assert [(d["id"], d["rev"]) for d in stored] == [("a", 1), ("b", 1)]
    assert sorted(d["id"] for d in store.get_assets("ws", [w.doc["id"] for w in assets])) == [
        "a.B04",
        "a.visual",
        "b.B04",
        "b.visual",
    ]
    assert len(store.list_audit("ws", record_type="asset").items) == 4
    assert len(store.list_audit("ws", record_type="item").items) == 2
    # AND a write to a missing collection is refused with nothing written
    missing, _, _ = _writes("ws", "nope", ["z"])
    with pytest.raises(DynastoreError):
        store.write_items("ws", missing)


def test_bulk_post_whose_last_item_fails_at_write_time_writes_nothing(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN 30 valid items, and another writer that creates the LAST item's asset record just before
    # the batch is written (the batch was planned with that asset new)
    features = [_scene(f"L{n:02d}") for n in range(30)]
    store = services.adapters.store
    real_write_items = store.write_items

    def racing_write_items(catalog_id: str, items: Any, **kwargs: Any) -> Any:
        store.write_assets(
            [AssetWrite(asset_doc("fc", "L29.visual", collection_id="s2", item_id="L29"), expect_rev=0)], audits=[]
        )
        return real_write_items(catalog_id, items, **kwargs)

    monkeypatch.setattr(store, "write_items", racing_write_items)
    # WHEN they are posted in one request
    with pytest.raises(Conflict) as caught:
        services.stac.create_items("fc", "s2", features, actor=ACTOR)
    # THEN 409 says nothing was written: no item, and no asset but the other writer's
    assert "nothing was written" in caught.value.detail
    assert _item_ids(services, "s2") == []
    planned = [f"L{n:02d}.{k}" for n in range(30) for k in ("visual", "B04")]
    assert [d["id"] for d in store.get_assets("fc", planned)] == ["L29.visual"]


def test_bulk_and_one_by_one_loads_in_any_order_give_the_same_asset_ids(services: Services) -> None:
    # GIVEN the same three items loaded in one batch into s2, and one by one in reverse order into s2b
    services.stac.create_items("fc", "s2", [_scene("P1"), _scene("P2"), _scene("P3")], actor=ACTOR)
    for item_id in ("P3b", "P2b", "P1b"):
        services.stac.create_item("fc", "s2b", _scene(item_id), actor=ACTOR)
    # THEN every item has the ids <item>.<key>, whichever way it was loaded
    for item_id in ("P1", "P2", "P3"):
        assert _asset_ids(services, "s2", item_id) == [f"{item_id}.B04", f"{item_id}.visual"]
        assert _asset_ids(services, "s2b", f"{item_id}b") == [f"{item_id}b.B04", f"{item_id}b.visual"]


def test_bulk_upsert_replaces_existing_items_and_keeps_their_asset_records(services: Services) -> None:
    # GIVEN an item U1 with two inline assets
    services.stac.create_item("fc", "s2", _scene("U1"), actor=ACTOR)
    # WHEN U1 (with a new href) and a new U2 are upserted twice (a re-run)
    changed = _scene("U1")
    changed["assets"]["visual"]["href"] = "https://example.com/U1/TCI-v2.tif"
    for _ in range(2):
        services.stac.create_items("fc", "s2", [changed, _scene("U2")], actor=ACTOR, upsert=True)
    # THEN both exist once, U1's asset record is updated in place (same id), nothing duplicated
    assert _item_ids(services, "s2") == ["U1", "U2"]
    assert _asset_ids(services, "s2", "U1") == ["U1.B04", "U1.visual"]
    assert services.adapters.store.get_asset("fc", "U1.visual")["href"] == "https://example.com/U1/TCI-v2.tif"
