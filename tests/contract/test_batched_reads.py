"""Batched reads, on every backend: ``get_items`` reads items by (collection, id) key in one go,
``item_asset_heads`` reads the first assets of a page of items at once, and the STAC item search
answers ``ids`` + ``collections`` through them with the same items, order and counts as a search."""

from __future__ import annotations

from typing import Any

import pytest

from dynastore.bootstrap import Adapters, Services, bootstrap
from dynastore.config import Settings
from dynastore.domain.search import ItemQuery
from dynastore.ports import AssetWrite, MetadataStore
from dynastore.services.stac import Links

from .helpers import asset_doc, audit, collection_doc, item_doc, seed_catalog


@pytest.fixture
def items(store: MetadataStore) -> MetadataStore:
    seed_catalog(store, "demo")
    for col in ("s2", "l8"):
        store.put_collection("demo", collection_doc(col), expect_rev=0, audit=audit("demo", "collection", col))
    for n in range(6):
        col = "s2" if n % 2 else "l8"
        doc = {**item_doc(col, f"scene-{n}"), "catalog_id": "demo"}  # as the STAC service stores it
        store.put_item("demo", doc, expect_rev=0, audit=audit("demo", "item"))
    return store


def test_get_items_reads_the_existing_keys_and_skips_the_rest(items: MetadataStore) -> None:
    # GIVEN items scene-0..5 (odd ones in s2, even ones in l8)
    keys = [("s2", "scene-3"), ("s2", "scene-0"), ("l8", "scene-0"), ("s2", "nope"), ("s2", "scene-3")]
    # WHEN they are read by key (one in the wrong collection, one missing, one twice)
    found = items.get_items("demo", keys)
    # THEN each existing item comes back once, with its stored document
    assert sorted((d["collection"], d["id"]) for d in found) == [("l8", "scene-0"), ("s2", "scene-3")]
    assert all(d["catalog_id"] == "demo" for d in found)
    assert items.get_items("demo", []) == []


def test_item_asset_heads_gives_the_first_active_assets_of_each_item(items: MetadataStore) -> None:
    # GIVEN scene-1 with four assets (one deleted), scene-3 with one, scene-5 with none
    writes = [
        asset_doc("demo", f"s1-{k}", collection_id="s2", item_id="scene-1") for k in "dcab"
    ] + [asset_doc("demo", "s3-a", collection_id="s2", item_id="scene-3")]
    writes[0]["status"] = "deleted"
    items.write_assets([AssetWrite(w, 0) for w in writes], audits=[])
    # WHEN the first two of each are read in one call
    heads = items.item_asset_heads("demo", [("s2", "scene-1"), ("s2", "scene-3"), ("s2", "scene-5")], 2)
    # THEN each item's active assets come in id order, up to the limit; an item without any is left out
    assert {k: [d["id"] for d in v] for k, v in heads.items()} == {
        ("s2", "scene-1"): ["s1-a", "s1-b"],
        ("s2", "scene-3"): ["s3-a"],
    }


@pytest.fixture
def services(adapters: Adapters, tmp_path: Any) -> Services:
    return bootstrap(Settings(data_dir=tmp_path / "unused", item_embed_max=3), adapters)


def _search(services: Services, **kw: Any) -> list[str]:
    page = services.stac.search_items(ItemQuery(catalog_ids=("demo",), **kw), count=True)
    assert page.next_token is None and page.matched == len(page.items)
    return [f"{d['collection']}/{d['id']}" for d in page.items]


def test_search_by_ids_and_collections_answers_like_a_search(items: MetadataStore, services: Services) -> None:
    # GIVEN ids in request order, with a missing one and one in the other collection
    ids = ("scene-5", "nope", "scene-1", "scene-2", "scene-3")
    # WHEN the search names the collections too (a keyed read) and when it does not (a search)
    keyed = _search(services, ids=ids, collections=("s2", "l8"))
    searched = _search(services, ids=ids)
    # THEN both find the same items in the search's order (catalog, collection, id), missing ids left out
    assert keyed == searched == ["l8/scene-2", "s2/scene-1", "s2/scene-3", "s2/scene-5"]
    # AND the other criteria still apply to what was read by key
    assert _search(services, ids=ids, collections=("s2",), q="scene-3") == ["s2/scene-3"]


def test_a_page_of_items_embeds_each_items_assets(items: MetadataStore, services: Services) -> None:
    # GIVEN scene-1 with five assets (over item_embed_max=3, so it also links to the rest) and scene-3 with one
    writes = [asset_doc("demo", f"s1-{k}", collection_id="s2", item_id="scene-1") for k in "abcde"]
    writes.append(asset_doc("demo", "s3-a", collection_id="s2", item_id="scene-3"))
    items.write_assets([AssetWrite(w, 0) for w in writes], audits=[])
    page = services.stac.search_items(ItemQuery(catalog_ids=("demo",), collections=("s2",)))
    # WHEN the page is rendered (the assets read once per page)
    rendered = {d["id"]: d for d in services.stac.render_items(page.items, Links("http://x"))}
    # THEN each item embeds what it would embed alone, and its assets link gives its total
    for item_id, total in (("scene-1", 5), ("scene-3", 1), ("scene-5", 0)):
        alone = services.stac.render_item(items.get_item("demo", "s2", item_id), Links("http://x"))
        assert rendered[item_id]["assets"] == alone["assets"]
        assert next(link for link in rendered[item_id]["links"] if link["rel"] == "assets")["count"] == total
    assert sorted(rendered["scene-1"]["assets"]) == ["s1-a", "s1-b", "s1-c"]
