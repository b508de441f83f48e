"""STAC contract, on every backend: the STAC service's item CRUD, item search (CQL2, free text,
sort, exact keyset paging, counts) and bounded item asset embedding give the same answers on the
``adapters`` of any backend. What a backend must support for this: ``search_items`` / ``count_items``
with every ``ItemQuery`` field, and ``search_assets`` / ``count_assets`` with ``Not``, ``Or``,
``In``, ``Exists`` and ``Like`` filters (the item embedding uses them)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from dynastore.bootstrap import Adapters, Services, bootstrap
from dynastore.config import Settings
from dynastore.domain.cql2 import compile_cql2
from dynastore.domain.search import ItemQuery, SortKey, item_matches
from dynastore.errors import Conflict, Invalid, NotFound
from dynastore.ports import AssetWrite
from dynastore.services.stac import Links
from support.paging import all_items

from .helpers import collection_doc

ACTOR = "contract"
N = 40


@pytest.fixture
def services(adapters: Adapters, tmp_path: Any) -> Services:
    return bootstrap(Settings(data_dir=tmp_path / "unused", item_embed_max=3, stac_asset_history_max=2), adapters)


def _item(item_id: str, n: int) -> dict[str, Any]:
    west, south = float(n % 10), float(n // 10)
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        "id": item_id,
        "geometry": {"type": "Polygon", "coordinates": [[[west, south], [west + 1, south], [west + 1, south + 1],
                                                         [west, south + 1], [west, south]]]},
        "properties": {
            "datetime": f"2024-01-{1 + n % 5:02d}T00:00:00Z",  # many ties: sort tie-breakers matter
            "eo:cloud_cover": n % 7,
            "platform": "Sentinel-2A" if n % 2 else "landsat-8",
            "title": f"Scene {n}",
            "keywords": ["glacier"] if n % 9 == 0 else [],
        },
        "links": [],
        "assets": {},
    }


@pytest.fixture
def catalog(services: Services) -> str:
    services.catalogs.create({"id": "stacc"}, actor=ACTOR)
    for col in ("s2", "l8"):
        services.stac.create_collection(
            "stacc",
            collection_doc(col, description=col, license="other"),
            actor=ACTOR,
        )
    for n in range(N):
        services.stac.create_item("stacc", "s2" if n % 3 else "l8", _item(f"item-{n:03d}", n), actor=ACTOR)
    return "stacc"


def _all(services: Services, query: ItemQuery) -> list[dict[str, Any]]:
    return all_items(lambda token: services.stac.search_items(replace(query, token=token)))


@pytest.mark.parametrize(
    "cql",
    [
        "platform LIKE 'Sentinel%'",
        "CASEI(platform) = CASEI('LANDSAT-8')",
        "eo:cloud_cover IN (1, 3, 5)",
        "eo:cloud_cover BETWEEN 2 AND 4 AND collection = 's2'",
        "S_INTERSECTS(geometry, BBOX(2.5, 1.5, 4.5, 2.5))",
        "NOT (eo:cloud_cover < 5) OR id = 'item-000'",
        "datetime >= TIMESTAMP('2024-01-04T00:00:00Z')",
        "keywords = 'glacier'",
    ],
)
def test_item_search_with_cql2_pages_exactly(services: Services, catalog: str, cql: str) -> None:
    expr = compile_cql2(cql)
    everything = _all(services, ItemQuery(catalog_ids=(catalog,), limit=1000))
    expected = sorted(d["id"] for d in everything if item_matches(ItemQuery(catalog_ids=(catalog,), filter=expr), d))
    assert expected, f"the data set should have matches for {cql}"
    paged = _all(services, ItemQuery(catalog_ids=(catalog,), filter=expr, limit=4))
    ids = [d["id"] for d in paged]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == expected
    assert services.adapters.store.count_items(ItemQuery(catalog_ids=(catalog,), filter=expr)) == len(expected)


def test_sorted_paging_with_ties_visits_each_item_once(services: Services, catalog: str) -> None:
    query = ItemQuery(catalog_ids=(catalog,), sortby=(SortKey("datetime", "desc"),), limit=7)
    ids = [d["id"] for d in _all(services, query)]
    assert len(ids) == N == len(set(ids))
    datetimes = [services.stac.get_item_doc(catalog, "s2" if int(i[-3:]) % 3 else "l8", i)["properties"]["datetime"]
                 for i in ids]
    assert datetimes == sorted(datetimes, reverse=True)


def test_free_text_bbox_datetime_and_collections(services: Services, catalog: str) -> None:
    def ids(**kw: Any) -> list[str]:
        return sorted(d["id"] for d in _all(services, ItemQuery(catalog_ids=(catalog,), limit=100, **kw)))

    assert ids(q="glacier") == [f"item-{n:03d}" for n in range(N) if n % 9 == 0]
    assert ids(q="scene 5,SCENE 17") == ["item-005", "item-017"]
    assert ids(bbox=(0.2, 0.2, 0.4, 0.4)) == ["item-000"]
    assert ids(collections=("l8",)) == [f"item-{n:03d}" for n in range(0, N, 3)]
    window = ("2024-01-02T00:00:00.000000Z", "2024-01-03T00:00:00.000000Z")
    assert ids(datetime=window) == [f"item-{n:03d}" for n in range(N) if n % 5 in (1, 2)]


def test_item_crud_through_the_service(services: Services, catalog: str) -> None:
    stac = services.stac
    with pytest.raises(Conflict):
        stac.create_item(catalog, "s2", _item("item-001", 1), actor=ACTOR)
    with pytest.raises(Invalid):
        stac.create_item(catalog, "s2", {**_item("bad", 1), "properties": {"datetime": "never"}}, actor=ACTOR)
    with pytest.raises(NotFound):
        stac.create_item(catalog, "nope", _item("x", 1), actor=ACTOR)
    patched = stac.patch_item(catalog, "s2", "item-001", {"properties": {"eo:cloud_cover": 99}}, actor=ACTOR)
    assert patched["properties"]["eo:cloud_cover"] == 99 and patched["rev"] == 2
    stac.delete_item(catalog, "s2", "item-001", actor=ACTOR)
    with pytest.raises(NotFound):
        stac.get_item_doc(catalog, "s2", "item-001")
    actions = [e["action"] for e in services.adapters.store.list_audit(catalog, record_type="item",
                                                                        record_id="item-001").items]
    assert actions == ["delete", "update", "create"]


def test_item_embeds_a_bounded_selection_of_its_assets(services: Services, catalog: str) -> None:
    def asset(asset_id: str, **fields: Any) -> AssetWrite:
        doc = {"id": asset_id, "href": f"https://example.com/{asset_id}", "catalog_id": catalog, "collection_id": "s2",
               "item_id": "item-002", "roles": ["data"], "status": "active", "created": "2024-01-01T00:00:00.000000Z",
               "updated": "2024-01-01T00:00:00.000000Z", "rev": 0, **fields}
        return AssetWrite(doc, expect_rev=0)

    writes = [asset(f"data-{i:02d}") for i in range(10)]
    writes.append(asset("thumb", roles=["thumbnail"]))
    writes += [asset(f"track-v{i}", version=f"2025-08-0{i}T1112Z", href=f"https://example.com/track@2025-08-0{i}T1112Z.json")
               for i in range(1, 5)]
    services.adapters.store.write_assets(writes, audits=[])
    doc = services.stac.get_item_doc(catalog, "s2", "item-002")
    rendered = services.stac.render_item(doc, Links("http://example.test"))
    keys = set(rendered["assets"])
    assert "thumb" in keys
    # history max 2; a version is keyed by its file name (VERSIONS.md)
    tracks = sorted(k for k in keys if k.startswith("track@"))
    assert tracks == ["track@2025-08-03T1112Z.json", "track@2025-08-04T1112Z.json"]
    assert len([k for k in keys if k.startswith("data-")]) == 3  # item_embed_max 3
    assets_link = next(link for link in rendered["links"] if link["rel"] == "assets")
    assert assets_link["count"] == 15
    # and an item rendered without its assets (the Fields extension left them out) still counts them all
    bare = services.stac.render_item(doc, Links("http://example.test"), embed=False)
    assert bare["assets"] == {}
    assert next(link for link in bare["links"] if link["rel"] == "assets")["count"] == 15
