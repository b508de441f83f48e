"""An item with 20,000 assets (seed 001): the item document stays small and says how many it has,
the per-item assets endpoint pages through all of them, datetime subsetting is exact at its ends,
and the item embeds its metadata assets and the latest versions of each versioned asset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from .helpers import StacApi, assert_problem, item
from .schemas import validate_stac

N_DATA = 20_000
T0 = datetime(2000, 1, 1, tzinfo=UTC)
VERSIONS = [f"2025-08-{day:02d}T1112Z" for day in range(1, 9)]  # 8 versions, history keeps 5


def _at(hour: int) -> str:
    return (T0 + timedelta(hours=hour)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def big(stac_api: StacApi) -> dict[str, Any]:
    catalog_id = stac_api.new_catalog("big")
    stac_api.new_collection(catalog_id, "era")
    stac_api.post_items(catalog_id, "era", [item("era5", datetime="2000-01-01T00:00:00Z")])
    scope = {"collection_id": "era", "item_id": "era5"}
    records = [
        {
            "id": f"era5-{i:05d}.nc",
            "href": f"https://example.com/era5/{i:05d}.nc",
            "type": "application/x-netcdf",
            "roles": ["data"],
            "datetime": _at(i),
            "file:size": 1000 + i,
            **scope,
        }
        for i in range(N_DATA)
    ]
    records.append(
        {
            "id": "era5-thumb.png",
            "href": "https://example.com/era5/thumb.png",
            "type": "image/png",
            "roles": ["thumbnail"],
            **scope,
        }
    )
    records.append(
        {
            "id": "era5-iso.xml",
            "href": "https://example.com/era5/iso.xml",
            "type": "application/xml",
            "roles": ["metadata"],
            **scope,
        }
    )
    for version in VERSIONS:
        records.append(
            {
                "id": f"track-{version}.geojson",
                "href": f"https://example.com/era5/track@{version}.geojson",
                "type": "application/geo+json",
                "roles": ["data", "track"],
                "version": version,
                **scope,
            }
        )
    for start in range(0, len(records), 10_000):
        response = stac_api.editor.post(
            "/assets/bulk", json={"catalog_id": catalog_id, "assets": records[start : start + 10_000]}
        )
        assert response.status_code == 200, response.text[:500]
        assert response.json()["error"] == 0, response.text[:500]
    return {
        "catalog": catalog_id,
        "total": len(records),
        "url": f"/stac/catalogs/{catalog_id}/collections/era/items/era5",
    }


def test_item_document_stays_small_and_links_to_all_its_assets(stac_api: StacApi, big: dict[str, Any]) -> None:
    response = stac_api.reader.get(big["url"])
    assert response.status_code == 200
    size = len(response.content)
    print(f"item document with {len(response.json()['assets'])} embedded assets: {size} bytes")
    assert size < 100_000, f"item document is {size} bytes"
    doc = response.json()
    validate_stac(doc)
    assets_link = next(link for link in doc["links"] if link["rel"] == "assets")
    assert assets_link["count"] == big["total"]
    assert assets_link["href"].endswith(f"{big['url']}/assets")
    keys = set(doc["assets"])
    # metadata-like assets are always embedded
    assert {"era5-thumb.png", "era5-iso.xml"} <= keys
    # the latest STAC_ASSET_HISTORY_MAX (5) versions of the versioned asset
    tracks = sorted(k for k in keys if k.startswith("track@"))  # a version is keyed by its file name
    assert tracks == sorted(f"track@{v}.geojson" for v in VERSIONS[-5:])
    # at most DYNASTORE_ITEM_EMBED_MAX (100) others
    others = [k for k in keys if k.startswith("era5-") and k.endswith(".nc")]
    assert len(others) == 100
    assert len(keys) == 2 + 5 + 100


def test_assets_endpoint_pages_through_every_asset_once(stac_api: StacApi, big: dict[str, Any]) -> None:
    seen: list[str] = []
    url: str | None = f"{stac_api.base_url}{big['url']}/assets?limit=5000&count=true"
    pages = 0
    while url:
        body = orjson.loads(stac_api.reader.get(url).content)
        pages += 1
        assert body["numberMatched"] == big["total"]
        seen.extend(record["id"] for record in body["assets"])
        first = body["assets"][0]
        assert body["item"] == "era5" and body["collection"] == "era" and "links" not in first and "item" not in first
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert pages == 5
    assert len(seen) == big["total"] == len(set(seen))


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        (f"{_at(100)}/{_at(199)}", list(range(100, 200))),
        (_at(12_345), [12_345]),
        (f"../{_at(2)}", [0, 1, 2]),
        (f"{_at(N_DATA - 3)}/..", [N_DATA - 3, N_DATA - 2, N_DATA - 1]),
        ("2000-01-01T00:00:00.000001Z/2000-01-01T01:00:00Z", [1]),
        ("2000-01-01T01:00:00Z/2000-01-01T01:59:59.999999Z", [1]),
    ],
)
def test_datetime_subsetting_is_exact_at_interval_ends(
    stac_api: StacApi, big: dict[str, Any], interval: str, expected: list[int]
) -> None:
    body = stac_api.reader.get(f"{big['url']}/assets", params={"datetime": interval, "roles": "data", "limit": 1000})
    assert body.status_code == 200, body.text
    ids = sorted(record["id"] for record in body.json()["assets"])
    assert ids == [f"era5-{i:05d}.nc" for i in expected]


def test_roles_and_paging_parameters_of_the_assets_endpoint(stac_api: StacApi, big: dict[str, Any]) -> None:
    body = stac_api.reader.get(f"{big['url']}/assets", params={"roles": "thumbnail,metadata"}).json()
    assert sorted(r["id"] for r in body["assets"]) == ["era5-iso.xml", "era5-thumb.png"]
    tracks = stac_api.reader.get(f"{big['url']}/assets", params={"roles": "track", "sortby": "-id", "limit": 3}).json()
    assert [r["id"] for r in tracks["assets"]] == [f"track-{v}.geojson" for v in reversed(VERSIONS[-3:])]
    assert_problem(stac_api.reader.get(f"{big['url']}/assets", params={"limit": "10001"}), 400, "limit")
    assert_problem(stac_api.reader.get(f"{big['url']}/assets", params={"datetime": "soon"}), 400, "datetime")
    assert_problem(
        stac_api.reader.get(f"/stac/catalogs/{big['catalog']}/collections/era/items/nope/assets"), 404, "nope"
    )
    # asset search across items finds the same records
    found = stac_api.reader.get(
        f"/stac/catalogs/{big['catalog']}/asset-search", params={"filter": '"file:size" BETWEEN 1000 AND 1004'}
    ).json()
    assert sorted(r["id"] for r in found["assets"]) == [f"era5-{i:05d}.nc" for i in range(5)]


@pytest.mark.parametrize(
    ("method", "fields"),
    [
        ("GET items", "-assets"),
        ("GET items", "id,properties.datetime"),
        ("GET search", "-assets"),
        ("POST search", {"exclude": ["assets"]}),
        ("POST search", {"include": ["id"]}),
    ],
)
def test_assets_link_says_the_real_count_when_fields_leave_assets_out(
    stac_api: StacApi, big: dict[str, Any], method: str, fields: Any
) -> None:
    # GIVEN an item with thousands of assets
    catalog = big["catalog"]
    # WHEN it is listed or searched with a `fields` parameter that leaves its assets out
    if method == "GET items":
        response = stac_api.reader.get(f"/stac/catalogs/{catalog}/collections/era/items", params={"fields": fields})
    elif method == "GET search":
        response = stac_api.reader.get(f"/stac/catalogs/{catalog}/search", params={"ids": "era5", "fields": fields})
    else:
        response = stac_api.reader.post(f"/stac/catalogs/{catalog}/search", json={"ids": ["era5"], "fields": fields})
    assert response.status_code == 200, response.text[:500]
    (feature,) = response.json()["features"]
    # THEN no assets are embedded, but the rel=assets link still says how many the item has in all
    assert "assets" not in feature
    assets_link = next(link for link in feature["links"] if link["rel"] == "assets")
    assert assets_link["count"] == big["total"]
    assert f"All {big['total']} assets" in assets_link["title"]
