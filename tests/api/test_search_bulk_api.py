"""Search (q, filters, query, paging), bulk upsert, bulk-get and the NDJSON export."""

from __future__ import annotations

import threading
from typing import Any

import orjson
import pytest

from .helpers import Api, assert_problem

NAME = "S2A_20240101_B04.TIF"


@pytest.fixture
def scene(api: Api) -> str:
    """A catalog with one asset named NAME at each level, plus neighbours that must not match."""
    catalog_id = api.new_catalog("srch")
    api.add_collection(catalog_id, "s2")
    api.add_item(catalog_id, "s2", "scene-1", bbox=[10, 40, 11, 41])
    api.add_item(catalog_id, "s2", "scene-2", bbox=[-60, -10, -59, -9])
    base = f"/assets/catalogs/{catalog_id}"
    records = [
        (f"{base}/assets", {"id": "cat-red", "href": f"https://x.org/c/{NAME}", "roles": ["data"], "tags": ["a"]}),
        (f"{base}/collections/s2/assets", {"id": "col-red", "href": f"https://x.org/s/{NAME}", "roles": ["data"]}),
        (
            f"{base}/collections/s2/items/scene-1/assets",
            {
                "id": "item-red",
                "href": f"https://x.org/i/{NAME}",
                "roles": ["data", "reflectance"],
                "tags": ["a", "b"],
                "type": "image/tiff; application=geotiff",
                "datetime": "2024-01-01T10:00:00Z",
                "metadata": {"cloud": 5, "band": "B04"},
            },
        ),
        (
            f"{base}/collections/s2/items/scene-2/assets",
            {
                "id": "item-nir",
                "href": "https://x.org/i/S2A_20240301_B08.TIF",
                "roles": ["data"],
                "datetime": "2024-03-01T10:00:00Z",
                "metadata": {"cloud": 50, "band": "B08"},
            },
        ),
        (f"{base}/assets", {"id": "readme", "href": "https://x.org/readme.pdf", "title": "Read me", "code": "RM-1"}),
    ]
    for path, body in records:
        response = api.editor.post(path, json=body)
        assert response.status_code == 201, response.text
    return catalog_id


def ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.text
    return {a["id"] for a in response.json()["assets"]}


def test_q_finds_the_file_name_whatever_the_case_at_every_level(api: Api, scene: str) -> None:
    for q in ("b04", "B04", "s2a_20240101_b04.tif"):
        assert ids(api.reader.get("/assets/search", params={"q": q, "catalog_id": scene})) == {
            "cat-red",
            "col-red",
            "item-red",
        }
    base = f"/assets/catalogs/{scene}"
    assert ids(api.reader.get(f"{base}/assets", params={"q": "b04"})) == {"cat-red"}
    assert ids(api.reader.get(f"{base}/collections/s2/assets", params={"q": "b04"})) == {"col-red"}
    assert ids(api.reader.get(f"{base}/collections/s2/items/scene-1/assets", params={"q": "b04"})) == {"item-red"}
    assert ids(api.reader.get("/assets/search", params={"q": "b04", "collection_id": "s2", "catalog_id": scene})) == {
        "col-red",
        "item-red",
    }
    assert ids(api.reader.get("/assets/search", params={"q": "b04", "item_id": "scene-1", "catalog_id": scene})) == {
        "item-red"
    }


def test_q_matches_id_code_and_title(api: Api, scene: str) -> None:
    assert ids(api.reader.get("/assets/search", params={"q": "rm-1", "catalog_id": scene})) == {"readme"}
    assert ids(api.reader.get("/assets/search", params={"q": "READ ME", "catalog_id": scene})) == {"readme"}
    assert ids(api.reader.get("/assets/search", params={"q": "col-r", "catalog_id": scene})) == {"col-red"}


def test_search_across_catalogs_covers_every_active_catalog(api: Api, scene: str) -> None:
    other = api.new_catalog("srch")
    api.editor.post(f"/assets/catalogs/{other}/assets", json={"id": "o-red", "href": f"https://x.org/{NAME}"})
    found = api.reader.get("/assets/search", params={"q": "b04", "limit": 10000}).json()["assets"]
    assert {(a["catalog_id"], a["id"]) for a in found} >= {(scene, "item-red"), (other, "o-red")}
    both = api.reader.get("/assets/search", params={"q": "b04", "catalog_id": f"{scene},{other}"})
    assert ids(both) == {"cat-red", "col-red", "item-red", "o-red"}
    api.admin.delete(f"/assets/catalogs/{other}")
    found = api.reader.get("/assets/search", params={"q": "b04", "limit": 10000}).json()["assets"]
    assert other not in {a["catalog_id"] for a in found}
    assert_problem(api.reader.get("/assets/search", params={"catalog_id": other}), 404, other)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"roles": "reflectance"}, {"item-red"}),
        ({"roles": "reflectance,nothing"}, {"item-red"}),
        ({"tags": "a"}, {"cat-red", "item-red"}),
        ({"tags": "a,b"}, {"item-red"}),
        ({"type": "image/tiff; application=geotiff"}, {"item-red"}),
        ({"datetime": "2024-01-01T10:00:00Z"}, {"item-red"}),
        ({"datetime": "2024-02-01T00:00:00Z/.."}, {"item-nir"}),
        ({"datetime": "../2024-02-01T00:00:00Z"}, {"item-red"}),
        ({"bbox": "9,39,12,42"}, {"item-red"}),
        ({"query": '{"metadata.cloud": {"$lt": 10}}'}, {"item-red"}),
        ({"query": '{"metadata.cloud": {"$gte": 5, "$lte": 50}}'}, {"item-red", "item-nir"}),
        ({"query": '{"metadata.band": {"$in": ["B08", "B11"]}}'}, {"item-nir"}),
        ({"query": '{"metadata.band": {"$nin": ["B08"]}, "metadata.cloud": {"$exists": true}}'}, {"item-red"}),
        ({"query": '{"$or": [{"metadata.cloud": 50}, {"id": "readme"}]}'}, {"item-nir", "readme"}),
        # MongoDB semantics: $not also matches records without the field
        ({"query": '{"metadata.cloud": {"$not": {"$gt": 10}}}'}, {"item-red", "cat-red", "col-red", "readme"}),
        ({"query": '{"metadata.band": {"$ne": "B04"}}'}, {"item-nir"}),
        ({"query": '{"$and": [{"roles": "data"}, {"metadata.cloud": {"$gt": 10}}]}'}, {"item-nir"}),
        ({"ids": "readme,item-nir"}, {"readme", "item-nir"}),
    ],
)
def test_filters_narrow_results(api: Api, scene: str, params: dict[str, str], expected: set[str]) -> None:
    assert ids(api.reader.get("/assets/search", params={**params, "catalog_id": scene})) == expected


def test_post_search_takes_the_same_parameters_as_json(api: Api, scene: str) -> None:
    body = {"catalog_id": scene, "q": "b04", "roles": ["data"], "query": {"metadata.cloud": {"$lt": 10}}}
    assert ids(api.reader.post("/assets/search", json=body)) == {"item-red"}
    assert ids(api.reader.post("/assets/search", json={"catalog_id": [scene], "bbox": [9, 39, 12, 42]})) == {"item-red"}


def test_sortby_orders_results(api: Api, scene: str) -> None:
    response = api.reader.get("/assets/search", params={"catalog_id": scene, "sortby": "-id"})
    got = [a["id"] for a in response.json()["assets"]]
    assert got == sorted(got, reverse=True)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"limit": "10001"}, ["limit"]),
        ({"limit": "many"}, ["limit"]),
        ({"query": '{"metadata.cloud": {"$regex": "x"}}'}, ["$regex"]),
        ({"query": "{oops"}, ["query", "JSON"]),
        ({"bbox": "1,2"}, ["bbox"]),
        ({"datetime": "soon"}, ["datetime"]),
        ({"status": "archived"}, ["status"]),
        ({"sortby": "secret"}, ["sort"]),
        ({"colour": "red"}, ["colour"]),
        ({"catalog_id": "nowhere-at-all"}, ["nowhere-at-all"]),
        ({"token": "garbage!!"}, []),
    ],
)
def test_bad_search_parameters_are_4xx(api: Api, scene: str, params: dict[str, str], words: list[str]) -> None:
    response = api.reader.get("/assets/search", params=params)
    assert 400 <= response.status_code < 500, response.text
    assert_problem(response, response.status_code, *words)
    post = api.reader.post("/assets/search", json=params)
    assert 400 <= post.status_code < 500, post.text


def test_post_search_rejects_bad_bodies(api: Api) -> None:
    assert_problem(api.reader.post("/assets/search", json=["q"]), 400, "JSON object")
    assert_problem(api.reader.post("/assets/search", json={"limit": "x"}), 400, "limit")
    assert_problem(api.reader.post("/assets/search", json={"limit": 20000}), 400, "limit")
    assert_problem(api.reader.post("/assets/search", json={"roles": [1]}), 400, "roles")
    assert_problem(
        api.reader.post("/assets/search", content=b"{", headers={"content-type": "application/json"}), 400, "JSON"
    )


def test_paging_visits_every_record_once_while_inserts_happen(api: Api) -> None:
    # GIVEN 60 assets
    catalog_id = api.new_catalog("page")
    bulk = [{"id": f"p{i:03d}", "href": f"https://x.org/p{i:03d}.tif", "title": f"page {i}"} for i in range(60)]
    assert api.editor.post("/assets/bulk", json={"catalog_id": catalog_id, "assets": bulk}).json()["created"] == 60
    # WHEN paging 7 at a time (GET next links) while another client inserts new assets
    stop = threading.Event()
    inserted: list[str] = []

    def insert() -> None:
        n = 0
        while not stop.is_set() and n < 200:
            asset_id = f"new{n:03d}"
            api.editor.post(f"/assets/catalogs/{catalog_id}/assets", json={"id": asset_id, "href": "https://x.org/n"})
            inserted.append(asset_id)
            n += 1

    writer = threading.Thread(target=insert)
    writer.start()
    seen: list[str] = []
    try:
        url: str | None = f"/assets/search?catalog_id={catalog_id}&limit=7&sortby=id"
        while url:
            body = api.reader.get(url).json()
            seen.extend(a["id"] for a in body["assets"])
            nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
            url = nxt[0] if nxt else None
    finally:
        stop.set()
        writer.join()
    # THEN every original record was seen exactly once, and nothing twice
    assert len(seen) == len(set(seen)), "a record was returned twice"
    assert {f"p{i:03d}" for i in range(60)} <= set(seen)
    # AND POST paging with token does the same
    seen_post: list[str] = []
    search_body: dict[str, Any] = {"catalog_id": catalog_id, "limit": 9}
    while True:
        page = api.reader.post("/assets/search", json=search_body).json()
        seen_post.extend(a["id"] for a in page["assets"])
        nxt = [link for link in page["links"] if link["rel"] == "next"]
        if not nxt:
            break
        search_body = nxt[0]["body"]
    assert sorted(seen_post) == sorted({*(f"p{i:03d}" for i in range(60)), *inserted})


def test_bulk_upsert_reports_per_record_results(api: Api) -> None:
    catalog_id = api.new_catalog("bulk")
    api.add_collection(catalog_id, "s2")
    first = [{"id": f"b{i}", "href": f"https://x.org/b{i}.tif"} for i in range(3)]
    response = api.editor.post("/assets/bulk", json={"catalog_id": catalog_id, "assets": first})
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 3
    # WHEN a mixed batch arrives: an update, an unchanged, a new collection asset, and bad records
    batch = [
        {"id": "b0", "href": "https://x.org/b0.tif", "title": "changed"},
        {"id": "b1", "href": "https://x.org/b1.tif"},
        {"id": "c0", "href": "https://x.org/c0.tif", "collection_id": "s2"},
        {"id": "bad id", "href": "https://x.org/x"},
        {"id": "nohref"},
        {"id": "c1", "href": "https://x.org/c1.tif", "collection_id": "missing"},
        {"id": "b2", "href": "https://x.org/b2.tif", "collection_id": "s2"},
        "not an object",
        {"href": "https://x.org/noid"},
    ]
    body = api.editor.post("/assets/bulk", json={"catalog_id": catalog_id, "assets": batch}).json()
    # THEN each record is reported and only valid ones are written
    statuses = [(r["index"], r["status"]) for r in body["results"]]
    assert statuses == [
        (0, "updated"),
        (1, "unchanged"),
        (2, "created"),
        (3, "error"),
        (4, "error"),
        (5, "error"),
        (6, "error"),
        (7, "error"),
        (8, "error"),
    ]
    assert (body["created"], body["updated"], body["unchanged"], body["error"]) == (1, 1, 1, 6)
    errors = {r["index"]: r["error"] for r in body["results"] if r["status"] == "error"}
    assert "URL-safe" in errors[3]["detail"] and errors[3]["status"] == 400
    assert "href" in errors[4]["detail"]
    assert errors[5]["status"] == 404 and "missing" in errors[5]["detail"]
    assert errors[6]["status"] == 409
    got = api.reader.post("/assets/bulk-get", json={"catalog_id": catalog_id, "ids": ["b0", "c0", "c1", "nohref"]})
    assert [a["id"] for a in got.json()["assets"]] == ["b0", "c0"]
    assert got.json()["assets"][0]["title"] == "changed"
    assert got.json()["missing"] == ["c1", "nohref"]
    actions = [e["action"] for e in api.audit(catalog_id, "b0")]
    assert actions == ["replace", "create"]


def test_bulk_limits_and_shapes(api: Api, catalog: str) -> None:
    too_many = [{"id": f"x{i}", "href": "https://x.org/x"} for i in range(10_001)]
    assert_problem(api.editor.post("/assets/bulk", json={"catalog_id": catalog, "assets": too_many}), 400, "10000")
    assert_problem(api.editor.post("/assets/bulk", json={"catalog_id": catalog}), 400, "assets")
    assert_problem(api.editor.post("/assets/bulk", json="x"), 400, "assets")
    assert_problem(api.reader.post("/assets/bulk", json={"catalog_id": catalog, "assets": []}), 403)
    body = api.editor.post("/assets/bulk", json={"catalog_id": "nowhere", "assets": [{"id": "a", "href": "https://x"}]})
    assert body.json()["results"][0]["error"]["status"] == 404
    dupes = [{"id": "d", "href": "https://x.org/1"}, {"id": "d", "href": "https://x.org/2"}]
    result = api.editor.post("/assets/bulk", json={"catalog_id": catalog, "assets": dupes}).json()
    assert [r["status"] for r in result["results"]] == ["created", "error"]


def test_bulk_get_returns_assets_in_request_order_and_lists_missing(api: Api, scene: str) -> None:
    response = api.reader.post(
        "/assets/bulk-get", json={"catalog_id": scene, "ids": ["readme", "nope", "item-red", "readme"]}
    )
    assert response.status_code == 200
    body = response.json()
    assert [a["id"] for a in body["assets"]] == ["readme", "item-red"]
    assert body["missing"] == ["nope"]
    assert body["assets"][1]["metadata"] == {"cloud": 5, "band": "B04"}


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"ids": ["a"]}, 400, ["catalog_id"]),
        ({"catalog_id": "x"}, 400, ["ids"]),
        ({"catalog_id": "x", "ids": "a"}, 400, ["ids"]),
        ({"catalog_id": "x", "ids": [1]}, 400, ["ids"]),
        ({"catalog_id": "x", "ids": [], "extra": 1}, 400, ["extra"]),
        ({"catalog_id": "nowhere-cat", "ids": ["a"]}, 404, ["nowhere-cat"]),
        ({"catalog_id": "bad cat", "ids": ["a"]}, 400, ["URL-safe"]),
    ],
)
def test_bulk_get_bad_requests(api: Api, body: dict[str, Any], status: int, words: list[str]) -> None:
    assert_problem(api.reader.post("/assets/bulk-get", json=body), status, *words)


def test_bulk_get_limit(api: Api, catalog: str) -> None:
    ids_ = [f"i{i}" for i in range(10_001)]
    assert_problem(api.reader.post("/assets/bulk-get", json={"catalog_id": catalog, "ids": ids_}), 400, "10000")
    ok = api.reader.post("/assets/bulk-get", json={"catalog_id": catalog, "ids": ids_[:10_000]})
    assert ok.status_code == 200 and len(ok.json()["missing"]) == 10_000


def test_export_streams_ndjson_and_supports_since(api: Api, scene: str) -> None:
    response = api.reader.get(f"/assets/catalogs/{scene}/export")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [orjson.loads(line) for line in response.content.splitlines() if line]
    assert {d["id"] for d in lines} == {"cat-red", "col-red", "item-red", "item-nir", "readme"}
    updated = [d["updated"] for d in lines]
    assert updated == sorted(updated)
    # WHEN one asset changes after the last sync
    mark = updated[-1]
    api.editor.patch(f"/assets/catalogs/{scene}/assets/readme", json={"title": "new"})
    later = api.reader.get(f"/assets/catalogs/{scene}/export", params={"since": mark}).content.splitlines()
    assert "readme" in {orjson.loads(line)["id"] for line in later}
    assert len(later) < len(lines)
    # bad input
    assert_problem(api.reader.get(f"/assets/catalogs/{scene}/export", params={"since": "last week"}), 400, "since")
    assert_problem(api.reader.get("/assets/catalogs/nowhere-x/export"), 404, "nowhere-x")


def test_export_can_include_deleted_for_sync(api: Api, scene: str) -> None:
    api.editor.delete(f"/assets/catalogs/{scene}/assets/readme")
    plain = api.reader.get(f"/assets/catalogs/{scene}/export").content.splitlines()
    assert "readme" not in {orjson.loads(line)["id"] for line in plain}
    full = api.reader.get(f"/assets/catalogs/{scene}/export", params={"include_deleted": "true"}).content.splitlines()
    statuses = {orjson.loads(line)["id"]: orjson.loads(line)["status"] for line in full}
    assert statuses["readme"] == "deleted"
