"""One item's assets page, on every backend: the records the store hands over (pre-rendered JSON
text where it keeps it: the local store's ``assets.record``, written with the document) make the
same page, field by field, as rendering each stored document, for assets of every shape: empty
members, extension fields, alternates, time ranges, versions with and without ``latest``, local
files (whose download URL names the request's host), deleted assets (absent)."""

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

N = 1_200
LINKS = Links("http://test.example")


def _shaped(n: int) -> dict[str, Any]:
    """Asset ``n`` of item s2/scene-1, one of eight shapes."""
    scope: dict[str, Any] = {"collection_id": "s2", "item_id": "scene-1", "roles": ["data"], "title": f"band {n}"}
    shape = n % 8
    if shape == 1:  # extension fields, alternates, checksum
        scope.update({"eo:bands": [{"name": "B04"}], "proj:epsg": 32633, "file:checksum": "1220abcd"})
        scope["alternate"] = {"s3": {"href": f"s3://mirror/{n}.tif"}}
    elif shape == 2:  # a time range and tags
        scope.update({"start_datetime": "2024-01-01T00:00:00Z", "end_datetime": "2024-01-02T00:00:00Z"})
        scope["tags"] = ["x", "y"]
    elif shape == 3:  # the latest version of a series
        scope.update({"version": f"2025-08-{n % 28 + 1:02d}T1112Z", "latest": True, "datetime": "2024-03-01T00:00:00Z"})
        scope["href"] = f"https://example.com/track@2025-08-{n % 28 + 1:02d}T1112Z.geojson"
    elif shape == 4:  # an older version
        scope.update({"version": "2025-07-01T1112Z", "latest": None, "metadata": {"k": [1, None]}})
    elif shape == 5:  # a local file: served through the asset API's download URL
        scope.update({"href": f"file:///data/demo/{n}.tif", "file:size": n, "description": "on disk"})
    elif shape == 6:  # empty members only
        scope.update({"roles": [], "title": None, "type": None})
    return asset_doc("demo", f"a-{n:05d}", **scope)


@pytest.fixture
def services(adapters: Adapters, tmp_path: Any) -> Services:
    store: MetadataStore = adapters.store
    seed_catalog(store, "demo")
    store.put_collection("demo", collection_doc("s2"), expect_rev=0, audit=audit("demo", "collection", "s2"))
    item = {**item_doc("s2", "scene-1"), "catalog_id": "demo"}  # as the STAC service stores it
    store.put_item("demo", item, expect_rev=0, audit=audit("demo", "item"))
    docs = [_shaped(n) for n in range(N)]
    for doc in docs[7::8]:  # shape 7: deleted
        doc.update({"status": "deleted", "deleted_at": "2025-01-01T00:00:00Z"})
    store.write_assets([AssetWrite(doc, 0) for doc in docs], audits=[])
    return bootstrap(Settings(data_dir=tmp_path / "unused"), adapters)


def _page(services: Services, limit: int, token: str | None = None) -> tuple[list[Any], str | None]:
    query = AssetQuery(catalog_ids=("demo",), limit=limit, token=token)
    page = services.stac.item_assets("demo", "s2", "scene-1", query)
    return orjson.loads(services.stac.item_asset_records_json(page.items, LINKS)), page.next_token


def _rendered(services: Services) -> list[Any]:
    """Every active asset of the item rendered from its stored document, in id order."""
    query = AssetQuery(catalog_ids=("demo",), collection_id="s2", item_id="scene-1", level="item", limit=N)
    docs = services.adapters.store.search_assets(query).items
    return services.stac.render_asset_records(docs, LINKS, in_item=True)


def test_the_spliced_page_equals_the_rendered_records_field_by_field(services: Services) -> None:
    # GIVEN 1,200 assets of one item in eight shapes, every eighth deleted
    # WHEN the item's assets are read on one page and in pages of 250
    whole, token = _page(services, N)
    paged: list[Any] = []
    token = None
    while True:
        records, token = _page(services, 250, token)
        paged.extend(records)
        if token is None:
            break
    # THEN both equal the records rendered from the stored documents, field by field, in id order
    expected = _rendered(services)
    assert len(whole) == len(expected) == N - N // 8
    assert whole == expected and paged == expected
    # AND deleted assets are absent, empty members left out, time fields under properties
    by_id = {r["id"]: r for r in whole}
    assert "a-00007" not in by_id
    assert by_id["a-00006"] == {"id": "a-00006", "href": "https://example.com/demo/a-00006", **_times(by_id["a-00006"])}
    assert by_id["a-00003"]["latest"] is True and "latest" not in by_id["a-00004"]
    assert sorted(by_id["a-00002"]["properties"]) == ["end_datetime", "start_datetime"]
    assert "start_datetime" not in by_id["a-00002"] and by_id["a-00002"]["tags"] == ["x", "y"]
    assert by_id["a-00001"]["eo:bands"] == [{"name": "B04"}] and by_id["a-00001"]["alternate"]["s3"]
    # AND a local file is served by the request's host, the file kept under alternate
    assert (
        by_id["a-00005"]["href"]
        == "http://test.example/assets/catalogs/demo/collections/s2/items/scene-1/assets/a-00005/download"
    )
    assert by_id["a-00005"]["alternate"] == {"file": {"href": "file:///data/demo/5.tif"}}


def _times(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in ("created", "updated")}


def test_a_rewrite_changes_the_record_with_the_document(services: Services) -> None:
    # GIVEN the latest version a-00003 and a local file a-00005
    store = services.adapters.store
    old = {d["id"]: d for d in store.get_assets("demo", ["a-00003", "a-00005"])}
    # WHEN a newer version takes over (latest cleared) and the file moves to a bucket
    store.write_assets(
        [
            AssetWrite({**old["a-00003"], "latest": None, "title": "older now"}, old["a-00003"]["rev"]),
            AssetWrite({**old["a-00005"], "href": "https://example.com/moved.tif"}, old["a-00005"]["rev"]),
        ],
        audits=[],
    )
    # THEN the page says so, as rendering the new documents does
    records, _ = _page(services, N)
    by_id = {r["id"]: r for r in records}
    assert "latest" not in by_id["a-00003"] and by_id["a-00003"]["title"] == "older now"
    assert by_id["a-00005"]["href"] == "https://example.com/moved.tif" and "alternate" not in by_id["a-00005"]
    assert records == _rendered(services)
