"""The STAC API over real HTTP: landing pages, Transaction CRUD, item search and its extensions,
asset search, CQL2 on items and assets, pagination, CORS. Responses are validated offline against
the official STAC 1.1.0 schemas bundled with pystac."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import StacApi, assert_problem, collection, item
from .schemas import validate_item_collection, validate_stac

CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf"


GEOTIFF = "image/tiff; application=geotiff"


def _asset(path: str, media_type: str, role: str, size: int, title: str, **extra: Any) -> dict[str, Any]:
    """An inline asset at https://example.com/<path>."""
    href = f"https://example.com/{path}"
    return {"href": href, "type": media_type, "roles": [role], "file:size": size, "title": title, **extra}


@pytest.fixture(scope="module")
def data(stac_api: StacApi) -> dict[str, Any]:
    """A catalog with two collections, four items and a few assets of different kinds."""
    catalog_id = stac_api.new_catalog("search")
    stac_api.new_collection(catalog_id, "s2")
    stac_api.new_collection(catalog_id, "l8")
    b01 = _asset(
        "s2-1/B01.tif", GEOTIFF, "data", 100, "Band 1", metadata={"band": "B01"}, datetime="2024-01-01T00:00:00Z"
    )
    thumb = _asset("s2-1/thumb.png", "image/png", "thumbnail", 10, "Thumbnail")
    b02 = _asset("s2-2/B02.tif", GEOTIFF, "data", 300, "Band 2", metadata={"band": "B02"}, bbox=[10, 0, 11, 1])
    stac_api.post_items(
        catalog_id,
        "s2",
        [
            item(
                "s2-1",
                west=0,
                south=0,
                datetime="2024-01-01T00:00:00Z",
                cloud_cover=5,
                platform="Sentinel-2A",
                title="Alpine scene",
                assets={"s2-1-B01": b01, "s2-1-thumb": thumb},
            ),
            item(
                "s2-2",
                west=10,
                south=0,
                datetime="2024-02-01T00:00:00Z",
                cloud_cover=50,
                platform="sentinel-2b",
                keywords=["glacier"],
                assets={"s2-2-B02": b02},
            ),
            item(
                "s2-3",
                west=20,
                south=0,
                datetime="2024-03-01T00:00:00Z",
                cloud_cover=80,
                platform="Sentinel-2A",
                description="Coastal fog",
            ),
        ],
    )
    stac_api.post_items(
        catalog_id,
        "l8",
        [
            item("l8-1", west=0, south=0, datetime="2024-01-15T00:00:00Z", cloud_cover=20, platform="Landsat-8"),
        ],
    )
    return {"catalog": catalog_id}


def _ids(body: dict[str, Any]) -> list[str]:
    return sorted(f["id"] for f in body["features"])


def _asset_ids(body: dict[str, Any]) -> list[str]:
    return sorted(a["id"] for a in body["assets"])


# ----------------------------------------------------------------------------------- landing pages


def test_root_links_every_active_catalog_and_both_searches(stac_api: StacApi, data: dict[str, Any]) -> None:
    body = stac_api.reader.get("/stac").json()
    validate_stac(body)
    children = [link["href"] for link in body["links"] if link["rel"] == "child"]
    assert any(href.endswith(f"/stac/catalogs/{data['catalog']}") for href in children)
    rels = {link["rel"] for link in body["links"]}
    assert {"self", "root", "search", "asset-search", "conformance", "service-desc"} <= rels
    # WHEN a catalog is retired THEN the root stops linking it
    retired = stac_api.new_catalog("retired")
    assert stac_api.admin.delete(f"/assets/catalogs/{retired}").status_code in (200, 204)
    children = [link["href"] for link in stac_api.reader.get("/stac").json()["links"] if link["rel"] == "child"]
    assert not any(href.endswith(f"/catalogs/{retired}") for href in children)
    assert_problem(stac_api.reader.get(f"/stac/catalogs/{retired}"), 404, retired)


def test_catalog_landing_page_is_a_stac_api_root(stac_api: StacApi, data: dict[str, Any]) -> None:
    catalog_id = data["catalog"]
    body = stac_api.reader.get(f"/stac/catalogs/{catalog_id}").json()
    validate_stac(body)
    assert body["id"] == catalog_id
    conforms = set(body["conformsTo"])
    for uri in (
        "https://api.stacspec.org/v1.0.0/core",
        "https://api.stacspec.org/v1.0.0/collections",
        "https://api.stacspec.org/v1.0.0/ogcapi-features",
        "https://api.stacspec.org/v1.0.0/item-search",
        "https://api.stacspec.org/v1.0.0/ogcapi-features/extensions/transaction",
        "https://api.stacspec.org/v1.0.0/item-search#sort",
        "https://api.stacspec.org/v1.0.0/item-search#fields",
        "https://api.stacspec.org/v1.0.0/item-search#query",
        "https://api.stacspec.org/v1.0.0-rc.2/item-search#filter",
        f"{CQL2}/advanced-comparison-operators",
        f"{CQL2}/basic-spatial-functions",
    ):
        assert uri in conforms, uri
    assert stac_api.reader.get(f"/stac/catalogs/{catalog_id}/conformance").json()["conformsTo"] == body["conformsTo"]
    by_rel = {link["rel"]: link for link in body["links"]}
    for rel in ("self", "root", "data", "conformance", "search", "asset-search", "service-desc"):
        assert rel in by_rel, rel
    assert {link["href"].rsplit("/", 1)[-1] for link in body["links"] if link["rel"] == "child"} == {"s2", "l8"}
    queryables = stac_api.reader.get(f"/stac/catalogs/{catalog_id}/queryables")
    assert queryables.status_code == 200 and "eo:cloud_cover" in queryables.json()["properties"]


def test_cors_lets_a_browser_read_the_api(stac_api: StacApi, data: dict[str, Any]) -> None:
    origin = "https://radiantearth.github.io"
    response = stac_api.reader.get(f"/stac/catalogs/{data['catalog']}", headers={"Origin": origin})
    assert response.headers.get("access-control-allow-origin") in ("*", origin)
    preflight = stac_api.anon.options(
        f"/stac/catalogs/{data['catalog']}/search",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,authorization",
        },
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]


# ----------------------------------------------------------------------------------- Transaction


def test_collection_transaction_crud_is_validated_and_audited(stac_api: StacApi) -> None:
    catalog_id = stac_api.new_catalog("tx")
    base = f"/stac/catalogs/{catalog_id}/collections"
    # WHEN a collection is created THEN 201 with Location and ETag, and it validates as STAC
    created = stac_api.editor.post(base, json=collection("tracks", keywords=["ais"]))
    assert created.status_code == 201, created.text
    assert created.headers["location"].endswith(f"{base}/tracks")
    validate_stac(created.json())
    assert_problem(stac_api.editor.post(base, json=collection("tracks")), 409, "exists")
    got = stac_api.reader.get(f"{base}/tracks")
    validate_stac(got.json())
    assert {link["rel"] for link in got.json()["links"]} >= {"self", "root", "parent", "items"}
    # PUT replaces, PATCH merges, a stale If-Match is refused
    etag = got.headers["etag"]
    put = stac_api.editor.put(
        f"{base}/tracks", json=collection("tracks", title="Tracks v2"), headers={"If-Match": etag}
    )
    assert put.status_code == 200 and put.json()["title"] == "Tracks v2"
    assert "keywords" not in put.json()
    assert_problem(stac_api.editor.patch(f"{base}/tracks", json={"title": "x"}, headers={"If-Match": etag}), 412)
    patched = stac_api.editor.patch(f"{base}/tracks", json={"description": "AIS tracks", "keywords": ["ais"]})
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "Tracks v2" and patched.json()["description"] == "AIS tracks"
    validate_stac(patched.json())
    listed = stac_api.reader.get(base).json()
    assert [c["id"] for c in listed["collections"]] == ["tracks"]
    # bad input → 400 problem+json, nothing written; readers cannot write
    assert_problem(stac_api.editor.post(base, json={**collection("bad"), "extent": {"spatial": 3}}), 400, "extent")
    assert_problem(stac_api.editor.post(base, json={**collection("bad id!")}), 400, "url-safe")
    assert_problem(stac_api.editor.post(base, content=b"{nope", headers={"content-type": "application/json"}), 400)
    assert stac_api.reader.get(f"{base}/bad").status_code == 404
    assert_problem(stac_api.reader.post(base, json=collection("r")), 403)
    assert_problem(stac_api.anon.get(base), 401)
    # DELETE removes it; every write left an audit event
    assert stac_api.editor.delete(f"{base}/tracks").status_code == 204
    assert_problem(stac_api.reader.get(f"{base}/tracks"), 404, "tracks")
    audit = stac_api.services.adapters.store.list_audit(catalog_id, record_type="collection", record_id="tracks")
    assert [e["action"] for e in reversed(audit.items)] == ["create", "replace", "update", "delete"]


def test_item_transaction_crud_with_inline_assets(stac_api: StacApi) -> None:
    catalog_id = stac_api.new_catalog("txi")
    stac_api.new_collection(catalog_id, "tracks")
    base = f"/stac/catalogs/{catalog_id}/collections/tracks/items"
    body = item(
        "Bluefin-12",
        assets={"track": {"href": "https://example.com/t.geojson", "type": "application/geo+json", "roles": ["data"]}},
    )
    created = stac_api.editor.post(base, json=body)
    assert created.status_code == 201, created.text
    assert created.headers["content-type"].startswith("application/geo+json")
    doc = created.json()
    validate_stac(doc)
    assert doc["collection"] == "tracks" and doc["bbox"] == [10.0, 40.0, 11.0, 41.0]
    # an inline asset's id is <item>.<key> whatever other items hold (keys starting with the item id stay as sent)
    assert doc["assets"]["Bluefin-12.track"]["href"] == "https://example.com/t.geojson"
    assert doc["properties"]["created"] and doc["properties"]["updated"]
    # the inline asset is a first-class asset record of the item
    record = stac_api.reader.get(
        f"/assets/catalogs/{catalog_id}/collections/tracks/items/Bluefin-12/assets/Bluefin-12.track"
    )
    assert record.status_code == 200 and record.json()["item_id"] == "Bluefin-12"
    assert_problem(stac_api.editor.post(base, json=body), 409, "exists")
    # a second item using the same asset key gets its own record by the same rule
    other = stac_api.editor.post(
        base, json=item("Bluefin-13", assets={"track": {"href": "https://example.com/u.json"}})
    )
    assert other.status_code == 201 and list(other.json()["assets"]) == ["Bluefin-13.track"]
    # PATCH merges properties; assets: {key: null} deletes that asset (by its key or its id)
    patched = stac_api.editor.patch(
        f"{base}/Bluefin-12", json={"properties": {"sys:state": "final"}, "assets": {"track": None}}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["properties"]["sys:state"] == "final"
    assert patched.json()["properties"]["datetime"] == "2024-01-01T10:00:00.000000Z"
    assert patched.json()["assets"] == {}
    # PUT replaces the item (and upserts its assets)
    put = stac_api.editor.put(f"{base}/Bluefin-12", json=item("Bluefin-12", datetime="2025-08-11T11:12:00Z"))
    assert put.status_code == 200 and put.json()["properties"]["datetime"] == "2025-08-11T11:12:00.000000Z"
    assert "sys:state" not in put.json()["properties"]
    # invalid items → 400 with the reason, nothing written
    for bad, word in (
        ({**item("x1"), "geometry": {"type": "Polygon", "coordinates": "nope"}}, "geometry"),
        ({**item("x2"), "properties": {"datetime": "yesterday"}}, "datetime"),
        ({**item("x3"), "properties": {}}, "datetime"),
        ({**item("x4"), "collection": "other"}, "collection"),
        ({**item("x5"), "assets": {"a": {"href": "ftp://nope"}}}, "href"),
        ({**item("x6"), "bbox": "0,0,1,1"}, "bbox"),
    ):
        assert_problem(stac_api.editor.post(base, json=bad), 400, word)
        assert stac_api.reader.get(f"{base}/{bad['id']}").status_code == 404
    assert_problem(
        stac_api.editor.post(f"/stac/catalogs/{catalog_id}/collections/nope/items", json=item("y")), 404, "nope"
    )
    # a FeatureCollection is all-or-nothing: one bad feature and none is written
    batch = {"type": "FeatureCollection", "features": [item("fc-1"), {**item("fc-2"), "geometry": 3}, item("fc-3")]}
    assert_problem(stac_api.editor.post(base, json=batch), 400, "features[1]")
    assert stac_api.reader.get(f"{base}/fc-1").status_code == 404
    dup = {"type": "FeatureCollection", "features": [item("fc-1"), item("Bluefin-13")]}
    assert_problem(stac_api.editor.post(base, json=dup), 409, "Bluefin-13")
    assert stac_api.reader.get(f"{base}/fc-1").status_code == 404
    # DELETE removes the item and its assets; every write was audited
    assert stac_api.editor.delete(f"{base}/Bluefin-12").status_code == 204
    assert_problem(stac_api.reader.get(f"{base}/Bluefin-12"), 404)
    audit = stac_api.services.adapters.store.list_audit(catalog_id, record_type="item", record_id="Bluefin-12")
    assert [e["action"] for e in reversed(audit.items)] == ["create", "update", "replace", "delete"]


# ----------------------------------------------------------------------------------- item search


def test_search_by_collections_ids_bbox_intersects_and_datetime(stac_api: StacApi, data: dict[str, Any]) -> None:
    search = f"/stac/catalogs/{data['catalog']}/search"
    get = stac_api.reader.get
    response = get(search, params={"collections": "s2", "count": "true"})
    assert response.headers["content-type"].startswith("application/geo+json")
    validate_item_collection(response.json())
    assert _ids(response.json()) == ["s2-1", "s2-2", "s2-3"]
    assert response.json()["numberMatched"] == 3 and response.json()["numberReturned"] == 3
    assert _ids(get(search, params={"ids": "s2-2,l8-1"}).json()) == ["l8-1", "s2-2"]
    assert _ids(get(search, params={"bbox": "0.5,0.5,10.5,0.7"}).json()) == ["l8-1", "s2-1", "s2-2"]
    intersects = {"type": "Point", "coordinates": [20.5, 0.5]}
    assert _ids(stac_api.reader.post(search, json={"intersects": intersects}).json()) == ["s2-3"]
    # datetime intervals include their ends, open ends work
    assert _ids(get(search, params={"datetime": "2024-01-15T00:00:00Z/2024-02-01T00:00:00Z"}).json()) == [
        "l8-1",
        "s2-2",
    ]
    assert _ids(get(search, params={"datetime": "../2024-01-01T00:00:00Z"}).json()) == ["s2-1"]
    assert _ids(get(search, params={"datetime": "2024-03-01T00:00:00Z"}).json()) == ["s2-3"]
    assert _ids(get(search, params={"datetime": "2024-02-01T00:00:01Z/.."}).json()) == ["s2-3"]
    # the root searches across catalogs
    across = stac_api.reader.post("/stac/search", json={"ids": ["s2-1"], "collections": ["s2"]}).json()
    assert [f["id"] for f in across["features"]] == ["s2-1"]
    assert across["features"][0]["links"][0]["href"].endswith(
        f"/stac/catalogs/{data['catalog']}/collections/s2/items/s2-1"
    )
    # bad parameters → 400
    assert_problem(get(search, params={"bbox": "1,2,3"}), 400, "bbox")
    assert_problem(get(search, params={"datetime": "2024-13-01T00:00:00Z"}), 400, "datetime")
    assert_problem(get(search, params={"limit": "0"}), 400, "limit")
    # a limit over the maximum is capped (OGC API Features), not refused
    assert get(search, params={"limit": "100000"}).json()["numberReturned"] == 4
    assert_problem(get(search, params={"datetime": "2024-01-01"}), 400, "RFC 3339")
    assert_problem(get(search, params={"datetime": "2024-01-01T00:00:00"}), 400, "RFC 3339")
    assert_problem(stac_api.reader.post(search, json={"bbox": "0,0,1,1"}), 400, "bbox")
    assert_problem(get(search, params={"colections": "s2"}), 400, "colections")


@pytest.mark.parametrize(
    ("cql", "expected"),
    [
        ("platform LIKE 'Sentinel%'", ["s2-1", "s2-3"]),
        ("CASEI(platform) LIKE CASEI('sentinel-2%')", ["s2-1", "s2-2", "s2-3"]),
        ("CASEI(platform) = CASEI('SENTINEL-2B')", ["s2-2"]),
        ("platform IN ('Landsat-8', 'sentinel-2b')", ["l8-1", "s2-2"]),
        ("eo:cloud_cover BETWEEN 20 AND 50", ["l8-1", "s2-2"]),
        ("S_INTERSECTS(geometry, BBOX(9.5, 0.2, 20.5, 0.4))", ["s2-2", "s2-3"]),
        ("S_INTERSECTS(geometry, POINT(0.5 0.5))", ["l8-1", "s2-1"]),
        ("eo:cloud_cover < 30 AND NOT (collection = 'l8')", ["s2-1"]),
        ("eo:cloud_cover > 60 OR id = 'l8-1'", ["l8-1", "s2-3"]),
        ("datetime >= TIMESTAMP('2024-02-01T00:00:00Z')", ["s2-2", "s2-3"]),
        ("keywords IS NULL AND collection = 's2'", ["s2-1", "s2-3"]),
    ],
)
def test_cql2_filters_on_item_properties(
    stac_api: StacApi, data: dict[str, Any], cql: str, expected: list[str]
) -> None:
    search = f"/stac/catalogs/{data['catalog']}/search"
    # GIVEN CQL2 text over GET
    text = stac_api.reader.get(search, params={"filter": cql, "filter-lang": "cql2-text"})
    assert text.status_code == 200, text.text
    assert _ids(text.json()) == expected
    # AND the same filter as CQL2 JSON over POST
    import cql2

    tree = cql2.parse_text(cql).to_json()
    posted = stac_api.reader.post(search, json={"filter": tree, "filter-lang": "cql2-json"})
    assert posted.status_code == 200, posted.text
    assert _ids(posted.json()) == expected
    # AND on the collection's items endpoint (OGC API Features filter)
    items = stac_api.reader.get(f"/stac/catalogs/{data['catalog']}/collections/s2/items", params={"filter": cql})
    assert _ids(items.json()) == [i for i in expected if i.startswith("s2")]


@pytest.mark.parametrize(
    "bad",
    ["eo:cloud_cover <<< 3", "platform LIKE", "S_INTERSECTS(geometry, POLYGON((0 0, 1 0)))x", "(a = 1"],
)
def test_invalid_cql2_is_a_400_with_the_parser_message(stac_api: StacApi, data: dict[str, Any], bad: str) -> None:
    search = f"/stac/catalogs/{data['catalog']}/search"
    body = assert_problem(stac_api.reader.get(search, params={"filter": bad}), 400, "invalid CQL2 text")
    assert "expected" in body["detail"] or "-->" in body["detail"]
    body = assert_problem(stac_api.reader.post(search, json={"filter": {"op": "=", "args": [1]}}), 400, "CQL2 JSON")
    assert "not valid" in body["detail"]
    assert_problem(stac_api.reader.get(search, params={"filter": "a = 1", "filter-lang": "ecql"}), 400, "filter-lang")
    assert_problem(
        stac_api.reader.get(f"/stac/catalogs/{data['catalog']}/asset-search", params={"filter": bad}), 400, "CQL2"
    )
    assert_problem(stac_api.reader.get("/assets/search", params={"filter": bad}), 400, "CQL2")


def test_sortby_fields_query_and_free_text(stac_api: StacApi, data: dict[str, Any]) -> None:
    search = f"/stac/catalogs/{data['catalog']}/search"
    get, post = stac_api.reader.get, stac_api.reader.post
    # Sort
    desc = get(search, params={"sortby": "-datetime"}).json()
    assert [f["id"] for f in desc["features"]] == ["s2-3", "s2-2", "l8-1", "s2-1"]
    asc = post(search, json={"sortby": [{"field": "properties.datetime", "direction": "asc"}]}).json()
    assert [f["id"] for f in asc["features"]] == ["s2-1", "l8-1", "s2-2", "s2-3"]
    assert_problem(get(search, params={"sortby": "-nope"}), 400, "sort")
    # Fields
    slim = get(search, params={"ids": "s2-1", "fields": "id,properties.eo:cloud_cover,-links"}).json()["features"][0]
    assert slim["id"] == "s2-1" and slim["properties"] == {"eo:cloud_cover": 5}
    assert "geometry" not in slim and "assets" not in slim
    trimmed = post(search, json={"ids": ["s2-1"], "fields": {"exclude": ["assets", "properties.platform"]}}).json()
    feature = trimmed["features"][0]
    assert "assets" not in feature and "platform" not in feature["properties"] and feature["geometry"]
    nested = get(search, params={"ids": "s2-1", "fields": "-properties,+properties.platform"}).json()["features"][0]
    assert nested["properties"] == {"platform": "Sentinel-2A"} and "geometry" not in nested
    defaults = post(search, json={"ids": ["s2-1"], "fields": {"include": [], "exclude": ["geometry"]}}).json()
    feature = defaults["features"][0]
    assert "geometry" not in feature and set(feature["properties"]) == {"datetime"} and feature["bbox"]
    assert_problem(post(search, json={"fields": None}), 400, "fields")
    # Query extension
    queried = post(search, json={"query": {"eo:cloud_cover": {"gte": 20, "lt": 80}, "platform": {"startsWith": "Sen"}}})
    assert _ids(queried.json()) == []
    queried = post(
        search, json={"query": {"eo:cloud_cover": {"gte": 20, "lte": 80}, "platform": {"startsWith": "Sen"}}}
    )
    assert _ids(queried.json()) == ["s2-3"]
    assert _ids(get(search, params={"query": '{"platform": {"in": ["Landsat-8"]}}'}).json()) == ["l8-1"]
    # a number sent as text compares as that number too
    assert _ids(post(search, json={"query": {"eo:cloud_cover": {"lte": "20"}}}).json()) == ["l8-1", "s2-1"]
    assert _ids(post(search, json={"query": {"eo:cloud_cover": {"neq": "5"}}}).json()) == ["l8-1", "s2-2", "s2-3"]
    assert_problem(post(search, json={"query": {"platform": {"like": "x"}}}), 400, "like")
    # Free text: id, title, description, keywords; comma-separated terms are any-of
    assert _ids(get(search, params={"q": "alpine"}).json()) == ["s2-1"]
    assert _ids(get(search, params={"q": "GLACIER,fog"}).json()) == ["s2-2", "s2-3"]
    assert _ids(get(search, params={"q": "l8-"}).json()) == ["l8-1"]


def test_item_search_pagination_get_and_post(stac_api: StacApi, data: dict[str, Any]) -> None:
    search = f"/stac/catalogs/{data['catalog']}/search"
    seen: list[str] = []
    url: str | None = f"{stac_api.base_url}{search}?limit=1&sortby=-datetime"
    while url:
        body = stac_api.reader.get(url).json()
        seen.extend(f["id"] for f in body["features"])
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert seen == ["s2-3", "s2-2", "l8-1", "s2-1"]
    seen = []
    request: dict[str, Any] | None = {"limit": 3, "collections": ["s2"], "count": True}
    while request is not None:
        body = stac_api.reader.post(search, json=request).json()
        assert body["numberMatched"] == 3
        seen.extend(f["id"] for f in body["features"])
        nxt = next((link for link in body["links"] if link["rel"] == "next"), None)
        if nxt is not None:
            assert nxt["method"] == "POST" and nxt["body"]["collections"] == ["s2"]
        request = nxt["body"] if nxt else None
    assert seen == ["s2-1", "s2-2", "s2-3"]


# ----------------------------------------------------------------------------------- asset search


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"roles": "data"}, ["s2-1-B01", "s2-2-B02"]),
        ({"roles": "thumbnail"}, ["s2-1-thumb"]),
        ({"type": "image/png"}, ["s2-1-thumb"]),
        ({"q": "band"}, ["s2-1-B01", "s2-2-B02"]),
        ({"items": "s2-2"}, ["s2-2-B02"]),
        ({"filter": "metadata.band LIKE 'B0%'"}, ["s2-1-B01", "s2-2-B02"]),
        ({"filter": "CASEI(title) = CASEI('BAND 2')"}, ["s2-2-B02"]),
        ({"filter": '"file:size" IN (10, 300)'}, ["s2-1-thumb", "s2-2-B02"]),
        ({"filter": '"file:size" BETWEEN 50 AND 150'}, ["s2-1-B01"]),
        ({"filter": "S_INTERSECTS(geometry, BBOX(10.2, 0.2, 10.4, 0.4))"}, ["s2-2-B02"]),
        ({"filter": "item = 's2-1' AND NOT (roles = 'thumbnail')"}, ["s2-1-B01"]),
        ({"filter": "\"file:size\" > 200 OR title LIKE 'Thumb%'"}, ["s2-1-thumb", "s2-2-B02"]),
        ({"datetime": "2024-01-01T00:00:00Z"}, ["s2-1-B01"]),
        ({"bbox": "9.5,0.2,10.5,0.4"}, ["s2-2-B02"]),
    ],
)
def test_asset_search_filters_asset_fields(
    stac_api: StacApi, data: dict[str, Any], params: dict[str, str], expected: list[str]
) -> None:
    search = f"/stac/catalogs/{data['catalog']}/asset-search"
    body = stac_api.reader.get(search, params=params)
    assert body.status_code == 200, body.text
    assert _asset_ids(body.json()) == expected
    body_params: dict[str, Any] = dict(params)
    if "bbox" in body_params:  # a JSON body carries bbox as an array
        body_params["bbox"] = [float(v) for v in params["bbox"].split(",")]
    posted = stac_api.reader.post(search, json=body_params)
    assert _asset_ids(posted.json()) == expected
    # the asset API's search compiles CQL2 over the same asset fields
    if "filter" in params:
        core = stac_api.reader.get("/assets/search", params={"catalog_id": data["catalog"], "filter": params["filter"]})
        assert core.status_code == 200, core.text
        assert sorted(a["id"] for a in core.json()["assets"]) == expected


def test_asset_records_name_their_item_without_per_asset_links(stac_api: StacApi, data: dict[str, Any]) -> None:
    body = stac_api.reader.get("/stac/asset-search", params={"ids": "s2-1-B01", "catalog_id": data["catalog"]}).json()
    assert body["type"] == "AssetCollection" and body["numberReturned"] == 1
    record = body["assets"][0]
    assert record["item"] == "s2-1" and record["collection"] == "s2" and record["catalog"] == data["catalog"]
    assert record["href"] == "https://example.com/s2-1/B01.tif" and record["roles"] == ["data"]
    assert record["properties"]["datetime"] == "2024-01-01T00:00:00.000000Z"
    assert "links" not in record  # lean: the item's URL follows from catalog, collection and item
    fetched = stac_api.reader.get(f"/stac/catalogs/{record['catalog']}/collections/s2/items/{record['item']}")
    assert fetched.status_code == 200 and fetched.json()["id"] == "s2-1"
    assert "s2-1-B01" in fetched.json()["assets"]
