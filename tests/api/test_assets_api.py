"""Assets at the three levels: CRUD, scope checks, soft delete/restore, hard delete, history, audit."""

from __future__ import annotations

from typing import Any

import pytest

from .helpers import Api, assert_problem

HREF = "https://example.org/data/S2A_20240101_B04.TIF"


def level_path(catalog_id: str, level: str) -> str:
    base = f"/assets/catalogs/{catalog_id}"
    if level == "catalog":
        return f"{base}/assets"
    if level == "collection":
        return f"{base}/collections/s2/assets"
    return f"{base}/collections/s2/items/scene-1/assets"


LEVELS = ("catalog", "collection", "item")


@pytest.mark.parametrize("level", LEVELS)
def test_create_get_list_at_each_level(api: Api, scoped: str, level: str) -> None:
    base = level_path(scoped, level)
    # WHEN an editor creates an asset at this level
    body = {"id": "b04", "href": HREF, "roles": ["data"], "title": "Red band", "proj:epsg": 32633}
    response = api.editor.post(base, json=body)
    # THEN it is stored with its scope and its extension fields, and found where it was put
    assert response.status_code == 201, response.text
    doc = response.json()
    assert doc["id"] == "b04" and doc["status"] == "active" and doc["proj:epsg"] == 32633
    assert doc["catalog_id"] == scoped
    assert doc["collection_id"] == (None if level == "catalog" else "s2")
    assert doc["item_id"] == ("scene-1" if level == "item" else None)
    assert response.headers["location"].endswith(f"{base}/b04")
    assert api.reader.get(f"{base}/b04").json() == doc
    assert [a["id"] for a in api.reader.get(base).json()["assets"]] == ["b04"]
    # AND the other levels neither list it nor serve it
    for other in LEVELS:
        if other != level:
            assert api.reader.get(level_path(scoped, other)).json()["assets"] == []
            assert_problem(api.reader.get(f"{level_path(scoped, other)}/b04"), 404, "b04")


def test_asset_ids_are_unique_per_catalog(api: Api, scoped: str) -> None:
    api.editor.post(level_path(scoped, "catalog"), json={"id": "dup", "href": HREF})
    assert_problem(api.editor.post(level_path(scoped, "collection"), json={"id": "dup", "href": HREF}), 409, "dup")


def test_an_asset_without_id_gets_one(api: Api, catalog: str) -> None:
    doc = api.editor.post(level_path(catalog, "catalog"), json={"href": HREF}).json()
    assert doc["id"] and api.reader.get(f"{level_path(catalog, 'catalog')}/{doc['id']}").status_code == 200


def test_unknown_catalog_collection_and_item_are_404(api: Api, scoped: str) -> None:
    body = {"id": "x", "href": HREF}
    assert_problem(api.editor.post("/assets/catalogs/nowhere/assets", json=body), 404, "nowhere")
    assert_problem(api.editor.post(f"/assets/catalogs/{scoped}/collections/nope/assets", json=body), 404, "nope")
    assert_problem(
        api.editor.post(f"/assets/catalogs/{scoped}/collections/s2/items/ghost/assets", json=body), 404, "ghost"
    )
    assert_problem(api.reader.get(f"/assets/catalogs/{scoped}/collections/nope/assets"), 404, "nope")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"id": "x"}, ["href"]),
        ({"id": "x", "href": "ftp://host/x"}, ["href"]),
        ({"id": "x", "href": HREF, "roles": "data"}, ["roles"]),
        ({"id": "x", "href": HREF, "file:size": "big"}, ["file:size"]),
        ({"id": "x", "href": HREF, "file:size": -1}, ["file:size"]),
        ({"id": "x", "href": HREF, "file:size": 2**63}, ["file:size", "9223372036854775807"]),  # was a 500
        ({"id": "x", "href": HREF, "datetime": "not a date"}, ["RFC 3339"]),
        (
            {"id": "x", "href": HREF, "start_datetime": "2024-02-01T00:00:00Z", "end_datetime": "2024-01-01T00:00:00Z"},
            ["start"],
        ),
        ({"id": "x", "href": HREF, "colour": "red"}, ["colour"]),
        ({"id": "x", "href": HREF, "status": "deleted"}, ["status"]),
        ({"id": "x", "href": HREF, "catalog_id": "other"}, ["catalog_id"]),
        ({"id": "has space", "href": HREF}, ["URL-safe"]),
        ({"id": "a/b", "href": HREF}, ["URL-safe"]),
        ({"id": "..", "href": HREF}, ["URL-safe"]),
        ({"id": 5, "href": HREF}, ["id"]),
        (["not", "an", "object"], ["JSON object"]),
    ],
)
def test_bad_asset_bodies_are_400_and_write_nothing(api: Api, catalog: str, body: Any, words: list[str]) -> None:
    base = level_path(catalog, "catalog")
    assert_problem(api.editor.post(base, json=body), 400, *words)
    assert api.reader.get(base).json()["assets"] == []


def test_malformed_json_is_400(api: Api, catalog: str) -> None:
    base = level_path(catalog, "catalog")
    response = api.editor.post(base, content=b'{"id": "x", ', headers={"content-type": "application/json"})
    assert_problem(response, 400, "not valid JSON")
    api.editor.post(base, json={"id": "x", "href": HREF})
    assert_problem(
        api.editor.patch(f"{base}/x", content=b"nope", headers={"content-type": "application/json"}), 400, "JSON"
    )
    assert_problem(api.editor.put(f"{base}/x", content=b"[", headers={"content-type": "application/json"}), 400, "JSON")


def test_non_url_safe_ids_in_paths_are_400(api: Api, catalog: str) -> None:
    assert_problem(api.reader.get(f"/assets/catalogs/{catalog}/assets/bad%20id"), 400, "URL-safe")
    assert_problem(api.reader.get("/assets/catalogs/bad%20cat/assets"), 400, "URL-safe")
    assert_problem(api.editor.put(f"/assets/catalogs/{catalog}/assets/%C3%A9t%C3%A9", json={"href": HREF}), 400)


def test_put_creates_then_replaces(api: Api, catalog: str) -> None:
    base = level_path(catalog, "catalog")
    created = api.editor.put(f"{base}/p1", json={"href": HREF, "title": "one", "tags": ["t"]})
    assert created.status_code == 201 and created.json()["title"] == "one"
    replaced = api.editor.put(f"{base}/p1", json={"href": HREF, "title": "two"})
    assert replaced.status_code == 200
    doc = replaced.json()
    assert doc["title"] == "two" and doc["tags"] == [] and doc["created"] == created.json()["created"]
    assert doc["rev"] == created.json()["rev"] + 1
    assert_problem(api.editor.put(f"{base}/p1", json={"id": "other", "href": HREF}), 400, "differs")


def test_put_at_the_wrong_level_conflicts(api: Api, scoped: str) -> None:
    api.editor.post(level_path(scoped, "catalog"), json={"id": "lvl", "href": HREF})
    assert_problem(api.editor.put(f"{level_path(scoped, 'collection')}/lvl", json={"href": HREF}), 409, "another level")


def test_patch_is_a_json_merge_patch(api: Api, catalog: str) -> None:
    base = level_path(catalog, "catalog")
    api.editor.post(base, json={"id": "m", "href": HREF, "title": "t", "metadata": {"a": 1, "b": {"c": 2}}})
    response = api.editor.patch(
        f"{base}/m",
        json={"title": None, "metadata": {"b": {"d": 3}, "a": None}, "roles": ["data"]},
        headers={"content-type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["title"] is None and doc["metadata"] == {"b": {"c": 2, "d": 3}} and doc["roles"] == ["data"]
    assert_problem(api.editor.patch(f"{base}/m", json={"status": "deleted"}), 400, "status")
    assert_problem(api.editor.patch(f"{base}/m", json={"href": None}), 400, "href")
    assert_problem(api.editor.patch(f"{base}/m", json={"file:size": "x"}), 400, "file:size")
    assert_problem(api.editor.patch(f"{base}/missing", json={"title": "x"}), 404, "missing")
    assert api.reader.get(f"{base}/m").json()["metadata"] == {"b": {"c": 2, "d": 3}}


def test_soft_delete_hides_everywhere_and_restore_brings_it_back_unchanged(api: Api, scoped: str) -> None:
    # GIVEN an item-linked asset
    base = level_path(scoped, "item")
    original = api.editor.post(base, json={"id": "sd", "href": HREF, "title": "S2A_20240101_B04.TIF"}).json()
    # WHEN it is soft-deleted
    response = api.editor.delete(f"{base}/sd")
    assert response.status_code == 200 and response.json()["status"] == "deleted" and response.json()["deleted_at"]
    # THEN it answers 404, vanishes from lists, search and export, and bulk-get lists it as missing
    assert_problem(api.reader.get(f"{base}/sd"), 404, "deleted")
    assert api.reader.get(base).json()["assets"] == []
    assert api.reader.get("/assets/search", params={"q": "b04", "catalog_id": scoped}).json()["assets"] == []
    assert api.reader.get(f"/assets/catalogs/{scoped}/export").text.strip() == ""
    got = api.reader.post("/assets/bulk-get", json={"catalog_id": scoped, "ids": ["sd"]}).json()
    assert got == {"assets": [], "missing": ["sd"]}
    assert_problem(api.editor.patch(f"{base}/sd", json={"title": "x"}), 404)
    assert_problem(api.editor.delete(f"{base}/sd"), 404)
    # WHEN it is restored
    restored = api.editor.post(f"{base}/sd/restore")
    assert restored.status_code == 200
    # THEN it is back unchanged (only the revision and update time move)
    volatile = {"rev", "updated"}
    assert {k: v for k, v in restored.json().items() if k not in volatile} == {
        k: v for k, v in original.items() if k not in volatile
    }
    assert api.reader.get(f"{base}/sd").status_code == 200
    assert_problem(api.editor.post(f"{base}/sd/restore"), 409, "not deleted")


def test_hard_delete_needs_admin(api: Api, catalog: str) -> None:
    base = level_path(catalog, "catalog")
    api.editor.post(base, json={"id": "hd", "href": HREF})
    assert_problem(api.editor.delete(f"{base}/hd", params={"hard": "true"}), 403, "admin")
    assert_problem(api.reader.delete(f"{base}/hd"), 403)
    assert api.reader.get(f"{base}/hd").status_code == 200
    response = api.admin.delete(f"{base}/hd", params={"hard": "true"})
    assert response.status_code == 204
    assert_problem(api.reader.get(f"{base}/hd"), 404)
    assert api.reader.post("/assets/bulk-get", json={"catalog_id": catalog, "ids": ["hd"]}).json()["missing"] == ["hd"]
    # the audit trail stays after a hard delete
    history = api.reader.get(f"{base}/hd/history").json()["events"]
    assert [e["action"] for e in history][:1] == ["hard_delete"]


def test_hard_delete_of_a_soft_deleted_asset(api: Api, catalog: str) -> None:
    base = level_path(catalog, "catalog")
    api.editor.post(base, json={"id": "hd2", "href": HREF})
    api.editor.delete(f"{base}/hd2")
    assert api.admin.delete(f"{base}/hd2", params={"hard": "true"}).status_code == 204
    assert_problem(api.editor.post(f"{base}/hd2/restore"), 404)


def test_every_write_leaves_an_audit_event_in_history(api: Api, catalog: str) -> None:
    # GIVEN one asset taken through every kind of write
    base = level_path(catalog, "catalog")
    api.editor.post(base, json={"id": "au", "href": HREF})
    api.editor.put(f"{base}/au", json={"href": HREF, "title": "t"})
    api.editor.patch(f"{base}/au", json={"title": "u"})
    api.editor.delete(f"{base}/au")
    api.editor.post(f"{base}/au/restore")
    # THEN history lists them newest first, each with its actor
    response = api.reader.get(f"{base}/au/history")
    assert response.status_code == 200
    events = response.json()["events"]
    assert [e["action"] for e in events] == ["restore", "delete", "update", "replace", "create"]
    assert all(e["actor"].startswith("key-") and e["record_id"] == "au" for e in events)
    # AND history pages
    first = api.reader.get(f"{base}/au/history", params={"limit": 2}).json()
    assert len(first["events"]) == 2 and first["next"]
    rest = api.reader.get(f"{base}/au/history", params={"limit": 10, "token": first["next"]}).json()
    assert [e["action"] for e in first["events"] + rest["events"]] == [e["action"] for e in events]


def test_failed_writes_leave_no_audit_event(api: Api, catalog: str) -> None:
    base = level_path(catalog, "catalog")
    api.editor.post(base, json={"id": "fa", "href": HREF})
    api.editor.post(base, json={"id": "fa", "href": HREF})  # 409
    api.editor.patch(f"{base}/fa", json={"file:size": "x"})  # 400
    assert [e["action"] for e in api.audit(catalog, "fa")] == ["create"]


def test_history_of_an_unknown_asset_is_404(api: Api, catalog: str) -> None:
    assert_problem(api.reader.get(f"{level_path(catalog, 'catalog')}/nobody/history"), 404, "nobody")


def test_list_filters_and_limits(api: Api, scoped: str) -> None:
    base = level_path(scoped, "collection")
    for i in range(5):
        api.editor.post(base, json={"id": f"l{i}", "href": HREF, "roles": ["data" if i % 2 else "overview"]})
    assert {a["id"] for a in api.reader.get(base, params={"roles": "data"}).json()["assets"]} == {"l1", "l3"}
    assert_problem(api.reader.get(base, params={"limit": 10001}), 400, "limit")
    assert_problem(api.reader.get(base, params={"catalog_id": "x"}), 400, "path")
    assert_problem(api.reader.get(base, params={"query": '{"$where": 1}'}), 400, "$where")


def test_history_is_only_served_at_the_assets_own_level(api: Api, scoped: str) -> None:
    api.editor.post(level_path(scoped, "collection"), json={"id": "hist", "href": HREF})
    assert api.reader.get(f"{level_path(scoped, 'collection')}/hist/history").status_code == 200
    assert_problem(api.reader.get(f"{level_path(scoped, 'catalog')}/hist/history"), 404, "hist")
    assert_problem(api.reader.get(f"{level_path(scoped, 'item')}/hist/history"), 404, "hist")
