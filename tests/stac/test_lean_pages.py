"""Lean read pages: counts (``numberMatched``) only when asked, the same on every search path, and
asset records without per-asset links."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import StacApi, assert_problem, item


@pytest.fixture(scope="module")
def catalog(stac_api: StacApi) -> str:
    catalog_id = stac_api.new_catalog("lean")
    stac_api.new_collection(catalog_id, "s2")
    band = {"href": "https://x.org/b.tif", "type": "image/tiff", "roles": ["data"], "title": "Band"}
    features = [
        item(f"s-{n}", west=n, south=0, assets={f"s-{n}-b{k}": {**band, "title": f"Band {k}"} for k in range(3)})
        for n in range(5)
    ]
    stac_api.post_items(catalog_id, "s2", features)
    return catalog_id


def _searches(catalog: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, parameters) of every search that can count: 15 assets titled Band, 5 items."""
    return [
        ("GET", f"/stac/catalogs/{catalog}/asset-search", {"q": "band", "limit": 4}),
        ("POST", f"/stac/catalogs/{catalog}/asset-search", {"q": "band", "limit": 4}),
        ("GET", "/assets/search", {"q": "band", "limit": 4, "catalog_id": catalog}),
        ("POST", "/assets/search", {"q": "band", "limit": 4, "catalog_id": catalog}),
        ("GET", f"/stac/catalogs/{catalog}/search", {"limit": 2}),
        ("POST", f"/stac/catalogs/{catalog}/search", {"limit": 2}),
        ("GET", f"/stac/catalogs/{catalog}/collections/s2/items", {"limit": 2}),
        ("GET", f"/stac/catalogs/{catalog}/collections/s2/items/s-1/assets", {"limit": 2}),
    ]


EXPECTED = {"asset-search": 15, "/assets/search": 15, "/search": 5, "/items": 5, "/assets": 3}


def _expected(path: str) -> int:
    return next(n for suffix, n in EXPECTED.items() if path.endswith(suffix))


def _send(stac_api: StacApi, method: str, path: str, params: dict[str, Any], count: Any = None) -> Any:
    if method == "GET":
        query = params if count is None else {**params, "count": count}
        return stac_api.reader.get(path, params=query)
    body = params if count is None else {**params, "count": count}
    return stac_api.reader.post(path, json=body)


def test_searches_leave_numbermatched_out_unless_asked(stac_api: StacApi, catalog: str) -> None:
    for method, path, params in _searches(catalog):
        # GIVEN a search with more matches than one page WHEN it does not ask for a count
        plain = _send(stac_api, method, path, params)
        # THEN the page has no numberMatched (nothing was counted) but still says how many it returned
        assert plain.status_code == 200, (method, path, plain.text)
        assert "numberMatched" not in plain.json(), (method, path)
        assert plain.json()["numberReturned"] == params["limit"]
        # WHEN it asks (count=true in GET, "count": true in a POST body) THEN it gets the total
        counted = _send(stac_api, method, path, params, count="true" if method == "GET" else True)
        assert counted.json()["numberMatched"] == _expected(path), (method, path)
        # AND count=false is the default
        assert "numberMatched" not in _send(stac_api, method, path, params, count="false").json()


def test_a_post_search_takes_count_from_its_query_string(stac_api: StacApi, catalog: str) -> None:
    # GIVEN a client that adds count=true to the URL of every request (pystac-client's `parameters`)
    answer = stac_api.reader.post(f"/stac/catalogs/{catalog}/search?count=true", json={"limit": 1})
    # THEN a POST search counts too
    assert answer.json()["numberMatched"] == 5


@pytest.mark.parametrize("value", ["yes", "2"])
def test_count_takes_true_or_false(stac_api: StacApi, catalog: str, value: str) -> None:
    answer = stac_api.reader.get(f"/stac/catalogs/{catalog}/asset-search", params={"count": value})
    assert_problem(answer, 400, "count is true or false")


def test_asset_records_carry_no_derivable_links(stac_api: StacApi, catalog: str) -> None:
    # GIVEN an item's assets page and an asset search
    per_item = stac_api.reader.get(f"/stac/catalogs/{catalog}/collections/s2/items/s-2/assets").json()
    searched = stac_api.reader.get(f"/stac/catalogs/{catalog}/asset-search", params={"items": "s-2"}).json()
    # THEN no record carries links; the item's page names its item once, search records name theirs
    assert per_item["catalog"] == catalog and per_item["collection"] == "s2" and per_item["item"] == "s-2"
    for record in per_item["assets"]:
        assert set(record) == {"id", "href", "type", "roles", "title", "created"}  # never changed: no updated
    for record in searched["assets"]:
        assert "links" not in record
        assert (record["catalog"], record["collection"], record["item"]) == (catalog, "s2", "s-2")
    # AND a record's asset API URL follows from those references
    record = searched["assets"][0]
    asset = stac_api.reader.get(f"/assets/catalogs/{catalog}/collections/s2/items/s-2/assets/{record['id']}")
    assert asset.status_code == 200 and asset.json()["href"] == record["href"]


@pytest.mark.parametrize(
    ("method", "path", "fields"),
    [
        ("GET", "/stac/catalogs/{c}/collections/s2/items/s-1/assets", "-created,-updated,-roles"),
        ("GET", "/stac/catalogs/{c}/asset-search", "-created,-updated,-roles"),
        ("POST", "/stac/catalogs/{c}/asset-search", {"exclude": ["created", "updated", "roles"]}),
    ],
)
def test_fields_drops_members_of_asset_records(
    stac_api: StacApi, catalog: str, method: str, path: str, fields: Any
) -> None:
    # GIVEN an asset page asked with fields excluding members (the leanest page a client can ask for)
    url = path.format(c=catalog)
    params = {"items": "s-1", "limit": 10, "fields": fields} if "search" in url else {"limit": 10, "fields": fields}
    if method == "POST":
        params["items"] = ["s-1"]
    answer = stac_api.reader.get(url, params=params) if method == "GET" else stac_api.reader.post(url, json=params)
    # THEN every record keeps id and href and what was not excluded, and lacks what was
    assert answer.status_code == 200, answer.text
    records = answer.json()["assets"]
    assert len(records) == 3
    for record in records:
        assert record["id"] and record["href"] == "https://x.org/b.tif" and record["title"].startswith("Band")
        assert not {"created", "updated", "roles"} & set(record)


def test_fields_include_keeps_only_id_href_and_the_named_members(stac_api: StacApi, catalog: str) -> None:
    # GIVEN an item's asset page asked for titles only WHEN it is read
    answer = stac_api.reader.get(
        f"/stac/catalogs/{catalog}/collections/s2/items/s-1/assets", params={"fields": "title,-href"}
    )
    # THEN each record is its id, its href (always kept) and its title
    assert answer.status_code == 200, answer.text
    assert [sorted(r) for r in answer.json()["assets"]] == [["href", "id", "title"]] * 3


def test_a_changed_asset_says_when_on_its_item_page(stac_api: StacApi, catalog: str) -> None:
    # GIVEN an item whose one asset is changed after it was loaded
    stac_api.new_collection(catalog, "changing")
    band = {"href": "https://x.org/b.tif", "title": "Band"}
    stac_api.post_items(catalog, "changing", [item("c-1", assets={"c-1-a": band, "c-1-b": band})])
    path = f"/stac/catalogs/{catalog}/collections/changing/items/c-1"
    patched = stac_api.editor.patch(path, json={"assets": {"c-1-b": {"title": "Band, fixed"}}})
    assert patched.status_code == 200, patched.text
    # WHEN its assets are read
    records = {r["id"]: r for r in stac_api.reader.get(f"{path}/assets").json()["assets"]}
    # THEN the changed record states updated after created, the other created only
    assert records["c-1-b"]["updated"] > records["c-1-b"]["created"] == records["c-1-a"]["created"]
    assert "updated" not in records["c-1-a"]


def test_an_item_page_can_leave_out_ids(stac_api: StacApi, catalog: str) -> None:
    # GIVEN a client that wants only the files of an item (the leanest page: fields=-id,-created)
    answer = stac_api.reader.get(
        f"/stac/catalogs/{catalog}/collections/s2/items/s-1/assets", params={"fields": "-id,-created,-updated"}
    )
    # THEN each record is its href and STAC members, the page still naming its item once
    assert answer.status_code == 200, answer.text
    assert [sorted(r) for r in answer.json()["assets"]] == [["href", "roles", "title", "type"]] * 3
    assert answer.json()["item"] == "s-1"
    # AND on a search page (several items) a record keeps its id whatever fields says
    searched = stac_api.reader.get(f"/stac/catalogs/{catalog}/asset-search", params={"fields": "-id", "items": "s-1"})
    assert all(r["id"] for r in searched.json()["assets"])


@pytest.fixture(scope="module")
def many(stac_api: StacApi, catalog: str) -> str:
    """Collection ``many``: item m-1 with 30 assets (pages over the compression threshold)."""
    stac_api.new_collection(catalog, "many")
    band = {"href": "https://x.org/b.tif", "type": "image/tiff", "roles": ["data"]}
    stac_api.post_items(catalog, "many", [item("m-1", assets={f"m-1-{k}": band for k in range(30)})])
    return catalog


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/stac/catalogs/{c}/collections/many/items/m-1/assets", {}),
        ("/stac/catalogs/{c}/asset-search", {"collections": "many"}),
    ],
)
def test_asset_pages_are_gzipped_for_clients_that_accept_it(
    stac_api: StacApi, many: str, path: str, params: dict[str, str]
) -> None:
    url = path.format(c=many)
    # GIVEN an asset page over the compression threshold, asked without and with gzip
    plain = stac_api.reader.get(url, params=params, headers={"Accept-Encoding": "identity"})
    packed = stac_api.reader.get(url, params=params, headers={"Accept-Encoding": "br, gzip;q=0.8"})
    # THEN the gzip answer says so, is smaller on the wire and decodes to the same page
    assert plain.status_code == packed.status_code == 200, packed.text
    assert "content-encoding" not in plain.headers and packed.headers["content-encoding"] == "gzip"
    assert all("Accept-Encoding" in answer.headers["vary"] for answer in (plain, packed))
    assert packed.num_bytes_downloaded < len(plain.content) and packed.json() == plain.json()
    # AND a client that refuses gzip (q=0) gets the page as it is
    refused = stac_api.reader.get(url, params=params, headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers and refused.json() == plain.json()
