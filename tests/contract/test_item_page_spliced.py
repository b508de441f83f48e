"""Item pages with spliced embedded assets, on every backend: ``render_items(..., spliced=True)`` (the
embedded assets cut from the stores' page records, ``item_asset_members``) serializes to the very
bytes of the general rendering (every asset document parsed and rendered), for items with no, few
and more than ``item_embed_max`` assets, deleted assets, assets of every shape (metadata roles,
versions, time fields, local files, ``@`` in the storage key only, never changed or changed since),
inline assets and client links,
also through the Fields extension; a hidden (deleted) item is not found by id."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from dynastore.bootstrap import Adapters, Services, bootstrap
from dynastore.config import Settings
from dynastore.domain.search import ItemQuery
from dynastore.domain.stac_version import STAC_VERSION
from dynastore.ports import AssetWrite, ItemText, MetadataStore
from dynastore.services.stac import Fields, Links, apply_fields
from dynastore.services.stac.items import stored_item

from .helpers import asset_doc, audit, collection_doc, item_doc, seed_catalog

LINKS = Links("http://test.example")
WRITTEN, CHANGED = "2025-01-01T00:00:00.000000Z", "2025-02-01T00:00:00.000000Z"
BIG = 120  # above item_embed_max (100), also without its deleted assets


def _asset(item_id: str, n: int, shape: int) -> dict[str, Any]:
    fields: dict[str, Any] = {"collection_id": "s2", "item_id": item_id, "roles": ["data"], "title": f"band {n}"}
    # written once (the record leaves ``updated`` out, the Asset Object states it) or changed since
    fields.update({"created": WRITTEN, "updated": CHANGED if n % 5 == 4 else WRITTEN})
    if shape == 1:  # extension fields and an alternate
        fields.update({"eo:bands": [{"name": "B04"}], "file:size": n, "alternate": {"s3": {"href": f"s3://m/{n}"}}})
    elif shape == 2:  # a time range
        fields.update({"start_datetime": "2024-01-01T00:00:00Z", "end_datetime": "2024-01-02T00:00:00Z"})
    elif shape == 3:  # a version of a series, its file name carries the stamp
        fields.update({"version": f"2025-08-{n % 28 + 1:02d}T1112Z", "datetime": "2024-03-01T00:00:00Z"})
        fields["href"] = f"https://example.com/track@2025-08-{n % 28 + 1:02d}T1112Z.geojson"
    elif shape == 4:  # a metadata role: embedded first
        fields["roles"] = ["thumbnail"]
    elif shape == 5:  # a local file: served through the asset API's download URL
        fields.update({"href": f"file:///data/demo/{n}.tif", "description": "on disk"})
    elif shape == 6:  # the stamp only in the storage key (the href names a mirror)
        fields["storage"] = {"bucket": "b", "key": f"demo/track@2025-07-{n % 28 + 1:02d}T1112Z.tif"}
    elif shape == 7:  # empty members only
        fields.update({"roles": [], "title": None})
    elif shape == 8:  # an @ in the title only (not a versioned file name) and an extension field
        fields.update({"title": f"band {n} @ 10 m", "eo:bands": [{"name": "B08"}]})
    return asset_doc("demo", f"{item_id}.a{n:03d}", **fields)


# item id -> (assets, how many of the 9 shapes they cycle through: 1 = plain only); shape-k: its second
# asset of shape k among plain ones (each shape alone must keep its item from splicing what it cannot)
ITEMS = {
    "empty": (0, 1),
    "plain": (5, 1),
    "shapes": (18, 9),
    "big": (BIG, 1),
    "big-shapes": (BIG, 8),
    "hidden": (3, 1),
    "legacy": (3, 1),  # not in the service's stored form (an old stac_version, empty inline assets)
    "nested-links": (3, 1),  # a ``links`` member inside its properties too
    **{f"shape-{k}": (3, k) for k in range(1, 9)},
}


def _asset_docs() -> list[dict[str, Any]]:
    docs = [
        _asset(item_id, n, (shapes if n == 1 else 0) if item_id.startswith("shape-") else n % shapes)
        for item_id, (count, shapes) in ITEMS.items()
        for n in range(count)
    ]
    for doc in [d for d in docs if not d["item_id"].startswith("shape-")][2::9]:  # some assets deleted
        doc.update({"status": "deleted", "deleted_at": "2025-01-01T00:00:00Z"})
    return docs


@pytest.fixture
def services(adapters: Adapters, tmp_path: Any) -> Services:
    store: MetadataStore = adapters.store
    seed_catalog(store, "demo")
    store.put_collection("demo", collection_doc("s2"), expect_rev=0, audit=audit("demo", "collection", "s2"))
    for item_id in ITEMS:
        store.put_item("demo", _stored(item_id), expect_rev=0, audit=audit("demo", "item", item_id))
    store.write_assets([AssetWrite(doc, 0) for doc in _asset_docs()], audits=[])
    store.delete_item("demo", "s2", "hidden", audit=audit("demo", "item", "hidden", "hide"))
    return bootstrap(Settings(data_dir=tmp_path / "unused"), adapters)


def _stored(item_id: str) -> dict[str, Any]:
    """The item document as the STAC service stores it (``stored_item``), but for ``plain`` and ``legacy``."""
    if item_id in ("plain", "legacy"):
        item = {**item_doc("s2", item_id), "catalog_id": "demo"}
        if item_id == "plain":  # an inline asset and a client link kept in the item document
            item["assets"] = {"extra": {"href": "https://example.com/extra.txt", "roles": ["data"]}}
            item["links"] = [{"rel": "license", "href": "https://example.com/license"}]
        return item
    doc = {**item_doc("s2", item_id), "stac_version": STAC_VERSION, "stac_extensions": []}
    if item_id == "nested-links":
        doc["properties"]["links"] = []
    return stored_item(doc, "demo")


def _text(doc: dict[str, Any]) -> ItemText:
    """``search_item_texts``' answer for a document (for stores that do not answer it)."""
    plain = doc.get("links") == [] and "assets" not in doc
    return ItemText(
        doc["catalog_id"], doc["collection"], doc["id"], doc.get("rev", 0), orjson.dumps(doc).decode(), plain
    )


def _page(services: Services) -> list[dict[str, Any]]:
    query = ItemQuery(catalog_ids=("demo",), ids=tuple(ITEMS), limit=len(ITEMS))
    return services.stac.search_items(query).items


def test_spliced_item_page_is_the_general_rendering_byte_for_byte(services: Services) -> None:
    # GIVEN a search by ids over items with 0, 5 (+ 1 inline), 18 mixed and 120 assets, some deleted, most
    # never changed (their records leave ``updated`` out), and a hidden item
    docs = _page(services)
    assert [d["id"] for d in docs] == sorted(set(ITEMS) - {"hidden"})
    # WHEN the page is rendered with spliced records and the general way
    spliced = orjson.dumps(services.stac.render_items(docs, LINKS, spliced=True))
    general = orjson.dumps(services.stac.render_items(docs, LINKS))
    # THEN both are the same bytes
    assert spliced == general
    # AND the page embeds what the rules say: deleted assets left out, at most 100 others
    features = {f["id"]: f for f in orjson.loads(spliced)}
    assert sorted(features["plain"]["assets"]) == ["extra", "plain.a000", "plain.a001", "plain.a003", "plain.a004"]
    assert features["plain"]["links"][-1] == {"rel": "license", "href": "https://example.com/license"}
    assert features["empty"]["assets"] == {}
    assert len(features["big"]["assets"]) == 100
    assets_link = features["big"]["links"][4]
    active = [d for d in _asset_docs() if d["item_id"] == "big" and d["status"] == "active"]
    assert assets_link["rel"] == "assets" and assets_link["count"] == len(active) > 100
    shapes = features["shapes"]["assets"]
    download = "http://test.example/assets/catalogs/demo/collections/s2/items/shapes/assets/shapes.a005/download"
    assert shapes["shapes.a005"]["href"] == download
    assert shapes["shapes.a011"]["start_datetime"].startswith("2024-01-01T00:00:00")
    # AND an embedded asset states ``updated`` only when it changed after it was written (as its record)
    assert "updated" not in features["plain"]["assets"]["plain.a000"]
    assert features["plain"]["assets"]["plain.a004"]["updated"] == CHANGED
    deleted = {d["id"] for d in _asset_docs() if d["status"] == "deleted" and d["item_id"] != "hidden"}
    embedded = {key for f in features.values() for key in f["assets"]}
    assert deleted and not deleted & embedded


@pytest.mark.parametrize(
    "fields",
    [
        Fields(include=("id", "properties.datetime")),
        Fields(exclude=("properties", "geometry")),
        Fields(include=("assets",), exclude=("bbox",)),
        Fields(exclude=("links",), from_defaults=True),
    ],
)
def test_fields_shape_the_spliced_page_like_the_general_one(services: Services, fields: Fields) -> None:
    # GIVEN the page of items found by id
    docs = _page(services)
    embed = fields.wants_assets()
    # WHEN the Fields extension shapes each item of both renderings
    spliced = [apply_fields(i, fields) for i in services.stac.render_items(docs, LINKS, embed=embed, spliced=True)]
    general = [apply_fields(i, fields) for i in services.stac.render_items(docs, LINKS, embed=embed)]
    # THEN the pages are the same bytes
    assert orjson.dumps(spliced) == orjson.dumps(general)


def test_items_rendered_from_their_stored_texts_are_the_general_rendering(services: Services) -> None:
    # GIVEN the items found by id as the store's texts (the local store answers a search by ids alone;
    # for the others, the texts of the documents their search returns)
    query = ItemQuery(catalog_ids=("demo",), ids=tuple(ITEMS), limit=len(ITEMS))
    docs = _page(services)
    answered = services.adapters.store.search_item_texts(query)
    texts = answered or [_text(d) for d in docs]
    # WHEN they are rendered from the texts and the general way
    rendered = services.stac.render_item_texts(texts, LINKS)
    general = orjson.dumps(services.stac.render_items(docs, LINKS))
    # THEN both are the same bytes, also through the service's search
    assert orjson.dumps(rendered) == general
    features = services.stac.search_item_features(query, LINKS)
    assert (features is None) == (answered is None)
    assert features is None or orjson.dumps(features.items) == general
    # AND the items in the stored form whose assets splice were not parsed (the others were)
    as_text = {orjson.loads(bytes(orjson.dumps(r)))["id"] for r in rendered if isinstance(r, orjson.Fragment)}
    assert as_text == {"empty", "shape-1", "shape-7"} or answered is None  # shape-8: an @ in its search text
