"""pystac-client, unmodified, against a catalog root: open, search with bbox, datetime, filter, sortby,
fields, and page through 1,000 items at limit 50 seeing each exactly once."""

from __future__ import annotations

from typing import Any

import pytest
from pystac_client import Client

from .helpers import READER_KEY, StacApi, item

N_ITEMS = 1000
HEADERS = {"Authorization": f"Bearer {READER_KEY}"}


@pytest.fixture(scope="module")
def thousand(stac_api: StacApi) -> dict[str, Any]:
    catalog_id = stac_api.new_catalog("client")
    stac_api.new_collection(catalog_id, "grid")
    features = [
        item(
            f"cell-{i:04d}",
            west=-180 + (i % 100) * 3.0,
            south=-60 + (i // 100) * 10.0,
            datetime=f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00Z",
            cloud_cover=i % 100,
            platform="Sentinel-2A" if i % 2 else "Landsat-8",
        )
        for i in range(N_ITEMS)
    ]
    for start in range(0, N_ITEMS, 250):
        stac_api.post_items(catalog_id, "grid", features[start : start + 250])
    client = Client.open(f"{stac_api.base_url}/stac/catalogs/{catalog_id}", headers=HEADERS)
    return {"catalog": catalog_id, "client": client, "features": features}


def test_client_opens_the_catalog_root_and_sees_its_capabilities(thousand: dict[str, Any]) -> None:
    client: Client = thousand["client"]
    assert client.id == thousand["catalog"]
    for capability in ("ITEM_SEARCH", "FILTER", "SORT", "FIELDS", "QUERY", "COLLECTIONS"):
        assert client.conforms_to(capability), capability
    assert [c.id for c in client.get_collections()] == ["grid"]
    grid = client.get_collection("grid")
    assert grid is not None and grid.id == "grid"


def test_paging_through_1000_items_at_limit_50_sees_each_once(thousand: dict[str, Any]) -> None:
    client: Client = thousand["client"]
    search = client.search(collections=["grid"], limit=50)
    pages = list(search.pages_as_dicts())
    assert len(pages) == N_ITEMS // 50
    assert all(len(page["features"]) == 50 for page in pages)
    ids = [f["id"] for page in pages for f in page["features"]]
    assert len(ids) == N_ITEMS == len(set(ids))
    # counts are opt-in: pystac-client asks with the client's own query parameters
    with pytest.warns(UserWarning, match="numberMatched"):
        assert search.matched() is None
    counting = Client.open(client.self_href, headers=HEADERS, parameters={"count": "true"})
    assert counting.search(collections=["grid"], limit=50).matched() == N_ITEMS
    assert counting.search(collections=["grid"], limit=50, method="GET").matched() == N_ITEMS
    # the GET flavour pages the same way
    get_ids = [i.id for i in client.search(collections=["grid"], limit=50, method="GET").items()]
    assert sorted(get_ids) == sorted(ids)


def test_bbox_and_datetime(thousand: dict[str, Any]) -> None:
    client: Client = thousand["client"]
    features = thousand["features"]
    found = {i.id for i in client.search(bbox=[-180, -60, -170.5, -40.5], max_items=None).items()}
    # cells whose 1x1 degree square meets the box: west in {-180,-177,-174,-171}, south in {-60,-50,-40... no: <= -40.5}
    expected = {
        f["id"]
        for f in features
        if f["geometry"]["coordinates"][0][0][0] <= -170.5 and f["geometry"]["coordinates"][0][0][1] <= -40.5
    }
    assert found == expected and found
    window = client.search(datetime="2024-03-01T00:00:00Z/2024-03-31T23:59:59Z", max_items=None)
    expected = {f["id"] for f in features if f["properties"]["datetime"].startswith("2024-03")}
    assert {i.id for i in window.items()} == expected


def test_filter_sortby_and_fields(thousand: dict[str, Any]) -> None:
    client: Client = thousand["client"]
    features = thousand["features"]
    cql = {
        "op": "and",
        "args": [
            {"op": "<", "args": [{"property": "eo:cloud_cover"}, 3]},
            {"op": "like", "args": [{"property": "platform"}, "Sentinel%"]},
        ],
    }
    found = {i.id for i in client.search(filter=cql, max_items=None).items()}
    expected = {
        f["id"]
        for f in features
        if f["properties"]["eo:cloud_cover"] < 3 and f["properties"]["platform"].startswith("Sentinel")
    }
    assert found == expected and found
    text = client.search(
        filter="eo:cloud_cover < 3 AND platform LIKE 'Sentinel%'", filter_lang="cql2-text", max_items=None
    )
    assert {i.id for i in text.items()} == expected
    ordered = list(client.search(sortby="-properties.eo:cloud_cover", max_items=5).items_as_dicts())
    assert [f["properties"]["eo:cloud_cover"] for f in ordered] == [99] * 5
    slim = next(iter(client.search(ids=["cell-0007"], fields=["id", "properties.platform", "-links"]).items_as_dicts()))
    assert slim["id"] == "cell-0007" and slim["properties"] == {"platform": "Sentinel-2A"}
    assert "geometry" not in slim
