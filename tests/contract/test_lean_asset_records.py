"""Lean asset records on every backend: a record states ``updated`` only when the asset changed after it
was created (else ``updated`` is ``created``), on an item's assets page (pre-rendered records on local,
rendered documents elsewhere) and on asset search pages alike."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from dynastore.bootstrap import Adapters, Services, bootstrap
from dynastore.config import Settings
from dynastore.domain.search import AssetQuery
from dynastore.ports import AssetWrite, MetadataStore
from dynastore.services.stac import Links

from .helpers import asset_doc, audit, collection_doc, item_doc, seed_catalog

LINKS = Links("http://test.example")
WRITTEN, CHANGED = "2025-01-01T00:00:00.000000Z", "2025-02-01T00:00:00.000000Z"


@pytest.fixture
def services(adapters: Adapters, tmp_path: Any) -> Services:
    store: MetadataStore = adapters.store
    seed_catalog(store, "demo")
    store.put_collection("demo", collection_doc("s2"), expect_rev=0, audit=audit("demo", "collection", "s2"))
    store.put_item("demo", {**item_doc("s2", "scene-1"), "catalog_id": "demo"}, expect_rev=0, audit=audit("demo"))
    scope = {"collection_id": "s2", "item_id": "scene-1", "roles": ["data"], "created": WRITTEN}
    docs = [
        asset_doc("demo", "never-changed", **scope, updated=WRITTEN),
        asset_doc("demo", "changed", **scope, updated=CHANGED),
        asset_doc("demo", "on-disk", **scope, updated=WRITTEN, href="file:///d/x.tif", datetime="2024-01-01T00:00:00Z"),
    ]
    store.write_assets([AssetWrite(doc, 0) for doc in docs], audits=[])
    return bootstrap(Settings(data_dir=tmp_path / "unused"), adapters)


def _item_page(services: Services) -> dict[str, Any]:
    page = services.stac.item_assets("demo", "s2", "scene-1", AssetQuery(catalog_ids=("demo",)))
    return {r["id"]: r for r in orjson.loads(services.stac.item_asset_records_json(page.items, LINKS))}


def _search_page(services: Services) -> dict[str, Any]:
    page = services.stac.search_assets(AssetQuery(catalog_ids=("demo",), item_id="scene-1"))
    return {r["id"]: r for r in services.stac.render_asset_records(page.items, LINKS)}


@pytest.mark.parametrize("read", [_item_page, _search_page], ids=["item-assets", "asset-search"])
def test_a_record_states_updated_only_when_the_asset_changed(services: Services, read: Any) -> None:
    # GIVEN an asset never changed, one changed after it was created, and a local file never changed
    # WHEN an asset page is read
    records = read(services)
    # THEN the never-changed records carry created only (updated is the same instant)
    assert records["never-changed"]["created"] == WRITTEN and "updated" not in records["never-changed"]
    assert records["on-disk"]["created"] == WRITTEN and "updated" not in records["on-disk"]
    # AND the changed one says when it changed
    assert (records["changed"]["created"], records["changed"]["updated"]) == (WRITTEN, CHANGED)
    # AND the local file is served through the download URL, its time only under properties
    assert records["on-disk"]["href"].endswith("/assets/on-disk/download")
    assert records["on-disk"]["properties"] == {"datetime": "2024-01-01T00:00:00.000000Z"}
    assert "datetime" not in records["on-disk"]


def test_both_pages_make_the_same_records(services: Services) -> None:
    # GIVEN the item's assets WHEN read on the item's page and found by asset search
    in_item, searched = _item_page(services), _search_page(services)
    # THEN each record is the same but for the search page's scope references
    scope = {"catalog", "collection", "item"}
    assert in_item == {k: {m: v for m, v in r.items() if m not in scope} for k, r in searched.items()}
