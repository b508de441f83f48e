"""MetadataStore contract: STAC item search agrees with ``domain.search.item_matches``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from dynastore.domain.filters import Compare, Intersects, Like, from_mongo
from dynastore.domain.search import ItemQuery, SortKey, item_matches
from dynastore.errors import Invalid
from dynastore.ports import MetadataStore
from support.paging import all_items

from .helpers import audit, box, collection_doc, item_doc, seed_catalog


@pytest.fixture
def items(store: MetadataStore) -> list[dict[str, Any]]:
    stored = []
    for catalog in ("demo", "other"):
        seed_catalog(store, catalog)
        for col in ("s2", "l8"):
            store.put_collection(catalog, collection_doc(col), expect_rev=0, audit=audit(catalog, "collection", col))
    for n in range(30):
        catalog = "demo" if n < 24 else "other"
        col = "s2" if n % 3 else "l8"
        geometry: dict[str, Any] | None = box(n, 0, n + 2, 2) if n % 5 else {"type": "Point", "coordinates": [n, n]}
        props: dict[str, Any] = {"eo:cloud_cover": n % 11, "title": f"Scene {n} {'Alps' if n % 4 == 0 else 'Sea'}"}
        if n % 7 == 0:
            props.update(
                datetime=None,
                start_datetime=f"2024-01-{n % 28 + 1:02d}T00:00:00.000000Z",
                end_datetime=f"2024-02-{n % 28 + 1:02d}T00:00:00.000000Z",
            )
        else:
            props["datetime"] = f"2024-01-{n % 28 + 1:02d}T12:00:00.000000Z"
        doc = item_doc(col, f"scene-{n:02d}", geometry=geometry, **props)
        if n == 13:
            doc["geometry"], doc["bbox"] = None, [50, 50, 51, 51]
        stored.append(store.put_item(catalog, doc, expect_rev=0, audit=audit(catalog, "item")))
    return stored


def everything(store: MetadataStore, query: ItemQuery) -> list[dict[str, Any]]:
    return all_items(lambda token: store.search_items(replace(query, token=token)))


QUERIES = [
    ItemQuery(catalog_ids=("demo",)),
    ItemQuery(catalog_ids=("demo", "other"), collections=("l8",)),
    ItemQuery(catalog_ids=("demo",), ids=("scene-01", "scene-05", "scene-29")),
    ItemQuery(catalog_ids=("demo", "other"), bbox=(3.5, 0.5, 4.5, 1.5)),
    ItemQuery(catalog_ids=("demo", "other"), bbox=(50.2, 50.2, 60, 60)),
    ItemQuery(catalog_ids=("demo", "other"), intersects=box(9.9, 9.9, 10.1, 10.1)),
    ItemQuery(catalog_ids=("demo",), datetime=("2024-01-10T00:00:00.000000Z", "2024-01-12T00:00:00.000000Z")),
    ItemQuery(catalog_ids=("demo",), datetime=(None, "2024-01-03T00:00:00.000000Z")),
    ItemQuery(catalog_ids=("demo", "other"), q="alps"),
    ItemQuery(catalog_ids=("demo", "other"), q="scene 1,SEA"),
    ItemQuery(catalog_ids=("demo",), filter=from_mongo({"properties.eo:cloud_cover": {"$lt": 4}})),
    ItemQuery(catalog_ids=("demo",), filter=Like("properties.title", "%alps", casei=True)),
    ItemQuery(catalog_ids=("demo",), filter=Intersects("geometry", box(0, 0, 5, 0.5))),
    ItemQuery(catalog_ids=("demo",), filter=Compare("eq", "properties", {"x": 1})),
]


@pytest.mark.parametrize("query", QUERIES, ids=[f"q{n}" for n in range(len(QUERIES))])
def test_item_search_agrees_with_the_reference(
    store: MetadataStore, items: list[dict[str, Any]], query: ItemQuery
) -> None:
    catalogs = {i["id"]: c for c in ("demo", "other") for i in store.list_items(c, "s2", limit=100).items}
    catalogs.update({i["id"]: c for c in ("demo", "other") for i in store.list_items(c, "l8", limit=100).items})
    expected = sorted(i["id"] for i in items if catalogs[i["id"]] in query.catalog_ids and item_matches(query, i))
    found = everything(store, replace(query, limit=4))
    assert sorted(i["id"] for i in found) == expected
    assert len({i["id"] for i in found}) == len(found)
    assert store.count_items(query) == len(expected)


def test_item_search_sorts_and_pages(store: MetadataStore, items: list[dict[str, Any]]) -> None:
    query = ItemQuery(catalog_ids=("demo",), sortby=(SortKey("datetime", "desc"),), limit=5)
    found = everything(store, query)
    assert len(found) == 24
    keys = [i["properties"].get("datetime") or "" for i in found]
    assert keys == sorted(keys, reverse=True)
    default = everything(store, ItemQuery(catalog_ids=("demo",), limit=5))
    assert [(i["collection"], i["id"]) for i in default] == sorted((i["collection"], i["id"]) for i in default)


def test_item_search_rejects_bad_limits(store: MetadataStore) -> None:
    with pytest.raises(Invalid):
        store.search_items(ItemQuery(catalog_ids=("demo",), limit=0))
