"""Catalogs: create provisions storage, list/get/patch, delete retires (hidden at once)."""

from __future__ import annotations

import uuid

from .helpers import Api, assert_problem


def test_create_provisions_storage_and_leaves_an_audit_event(api: Api) -> None:
    # GIVEN a new id WHEN an editor creates the catalog
    catalog_id = f"proj-{uuid.uuid4().hex[:8]}"
    response = api.editor.post("/assets/catalogs", json={"id": catalog_id, "title": "Project", "keywords": ["x"]})
    # THEN it is active, bound to storage and findable at its Location
    assert response.status_code == 201, response.text
    doc = response.json()
    assert doc["status"] == "active" and doc["title"] == "Project" and doc["keywords"] == ["x"]
    assert doc["storage"]["bucket"] and doc["storage"]["prefix"]
    assert response.headers["location"].endswith(f"/assets/catalogs/{catalog_id}")
    assert api.reader.get(f"/assets/catalogs/{catalog_id}").json()["id"] == catalog_id
    events = api.services.adapters.store.list_audit(catalog_id, record_type="catalog", record_id=catalog_id).items
    assert [e["action"] for e in events] == ["create"]


def test_a_catalog_id_can_only_be_used_once(api: Api, catalog: str) -> None:
    assert_problem(api.editor.post("/assets/catalogs", json={"id": catalog}), 409, catalog)


def test_bad_catalog_bodies_are_400_and_write_nothing(api: Api) -> None:
    before = api.admin.get("/assets/catalogs", params={"include_retired": "true", "limit": 10000}).json()
    assert_problem(api.editor.post("/assets/catalogs", json={"title": "no id"}), 400, "id")
    assert_problem(api.editor.post("/assets/catalogs", json={"id": "has space"}), 400, "URL-safe")
    assert_problem(api.editor.post("/assets/catalogs", json={"id": "../etc"}), 400, "URL-safe")
    assert_problem(api.editor.post("/assets/catalogs", json={"id": "ok-id", "keywords": "notalist"}), 400, "keywords")
    assert_problem(api.editor.post("/assets/catalogs", json={"id": "ok-id", "colour": "red"}), 400, "colour")
    assert_problem(api.editor.post("/assets/catalogs", json=["a"]), 400, "JSON object")
    assert_problem(
        api.editor.post("/assets/catalogs", content=b"{bad json", headers={"content-type": "application/json"}),
        400,
        "not valid JSON",
    )
    assert_problem(api.editor.post("/assets/catalogs"), 400, "JSON body")
    after = api.admin.get("/assets/catalogs", params={"include_retired": "true", "limit": 10000}).json()
    assert len(after["catalogs"]) == len(before["catalogs"])


def test_list_pages_with_tokens(api: Api) -> None:
    # GIVEN a few catalogs
    made = {api.new_catalog("page") for _ in range(3)}
    # WHEN listed two at a time following next links
    seen: list[str] = []
    url: str | None = "/assets/catalogs?limit=2"
    while url:
        body = api.reader.get(url).json()
        assert body["numberReturned"] <= 2
        seen.extend(c["id"] for c in body["catalogs"])
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        assert bool(nxt) == bool(body["next"])
        url = nxt[0] if nxt else None
    # THEN each catalog appears exactly once
    assert len(seen) == len(set(seen)) and made <= set(seen)


def test_patch_merges_client_fields_and_refuses_system_fields(api: Api, catalog: str) -> None:
    response = api.editor.patch(f"/assets/catalogs/{catalog}", json={"description": "d", "metadata": {"a": 1}})
    assert response.status_code == 200 and response.json()["description"] == "d"
    response = api.editor.patch(f"/assets/catalogs/{catalog}", json={"metadata": {"b": 2}, "description": None})
    doc = response.json()
    assert doc["metadata"] == {"a": 1, "b": 2} and doc["description"] is None
    assert_problem(api.editor.patch(f"/assets/catalogs/{catalog}", json={"status": "retired"}), 400, "status")
    assert_problem(api.editor.patch(f"/assets/catalogs/{catalog}", json={"id": "other"}), 400, "id")
    assert_problem(api.editor.patch("/assets/catalogs/no-such-catalog", json={"title": "x"}), 404, "no-such-catalog")


def test_delete_retires_and_hides_at_once(api: Api) -> None:
    # GIVEN a catalog with an asset
    catalog_id = api.new_catalog()
    api.editor.post(f"/assets/catalogs/{catalog_id}/assets", json={"id": "a1", "href": "https://example.org/a1.tif"})
    # WHEN it is deleted
    response = api.admin.delete(f"/assets/catalogs/{catalog_id}")
    assert response.status_code == 200 and response.json()["status"] == "retired"
    assert response.json()["retired_at"]
    # THEN it is gone from reads, lists and searches, but its records stay for the cleanup
    assert_problem(api.reader.get(f"/assets/catalogs/{catalog_id}"), 404, "retired")
    assert_problem(api.reader.get(f"/assets/catalogs/{catalog_id}/assets/a1"), 404)
    listed = api.reader.get("/assets/catalogs", params={"limit": 10000}).json()["catalogs"]
    assert catalog_id not in {c["id"] for c in listed}
    retired = api.reader.get("/assets/catalogs", params={"limit": 10000, "include_retired": "true"}).json()
    assert catalog_id in {c["id"] for c in retired["catalogs"]}
    hits = api.reader.get("/assets/search", params={"q": "a1", "limit": 10000}).json()["assets"]
    assert catalog_id not in {h["catalog_id"] for h in hits}
    assert api.services.adapters.store.get_asset(catalog_id, "a1")["id"] == "a1"
    assert_problem(api.admin.delete(f"/assets/catalogs/{catalog_id}"), 404)
    assert_problem(api.editor.post("/assets/catalogs", json={"id": catalog_id}), 409, "retired")


def test_unknown_catalog_is_404_with_its_name(api: Api) -> None:
    assert_problem(api.reader.get("/assets/catalogs/never-made"), 404, "never-made")
