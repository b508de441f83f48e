"""STAC edits a client makes from what it read: GET → PUT round trips with If-Match, and item DELETE
that leaves its assets restorable and an audit entry for the item and for each asset."""

from __future__ import annotations

from typing import Any

from .helpers import HREF, LiveApi, assert_problem, item

ITEM = "/stac/catalogs/{c}/collections/s2/items/scene-1"


def test_item_get_then_put_round_trip_succeeds(api: LiveApi, catalog: str) -> None:
    # GIVEN an item with an inline asset (stored with created/updated and, locally, a file href)
    path = ITEM.format(c=catalog)
    body = item("scene-1", assets={"b04": {"href": HREF, "roles": ["data"], "title": "Red"}})
    assert api.editor.put(path, json=body).status_code == 200
    # WHEN a client GETs it, changes one property and PUTs the whole document back with its ETag
    got = api.reader.get(path)
    document: dict[str, Any] = got.json()
    document["properties"]["title"] = "edited"
    put = api.editor.put(path, json=document, headers={"If-Match": got.headers["etag"]})
    # THEN it is accepted, the change is stored, and the asset is unchanged (same href, same created)
    assert put.status_code == 200, put.text
    again = api.reader.get(path).json()
    assert again["properties"]["title"] == "edited"
    assert again["assets"]["scene-1.b04"]["href"] == HREF  # inline asset ids are <item>.<key>
    assert again["assets"]["scene-1.b04"]["created"] == document["assets"]["scene-1.b04"]["created"]


def test_item_round_trip_keeps_a_stored_file_href(api: LiveApi, catalog: str) -> None:
    # GIVEN an item asset whose bytes this service stores (rendered as the download URL + alternate.file)
    upload = api.editor.post(
        f"/assets/catalogs/{catalog}/collections/s2/items/scene-1/assets/upload",
        files={"file": ("B04.tif", b"II*\x00bytes", "image/tiff")},
        data={"metadata": '{"id": "b04"}'},
    )
    assert upload.status_code == 201, upload.text
    stored_href = upload.json()["href"]
    path = ITEM.format(c=catalog)
    got = api.reader.get(path)
    assert got.json()["assets"]["b04"]["href"].endswith("/download")
    # WHEN the item is PUT back as read
    put = api.editor.put(path, json=got.json(), headers={"If-Match": got.headers["etag"]})
    # THEN the asset still points at its stored file, and is still downloadable
    assert put.status_code == 200, put.text
    asset = api.reader.get(f"/assets/catalogs/{catalog}/collections/s2/items/scene-1/assets/b04").json()
    assert asset["href"] == stored_href
    assert api.reader.get(f"/assets/catalogs/{catalog}/collections/s2/items/scene-1/assets/b04/download").content


def test_collection_get_then_put_round_trip_succeeds(api: LiveApi, catalog: str) -> None:
    # GIVEN a collection as a client reads it
    path = f"/stac/catalogs/{catalog}/collections/s2"
    got = api.reader.get(path)
    document = got.json()
    document["title"] = "edited"
    # WHEN the whole document goes back with its ETag THEN it is accepted and stored
    put = api.editor.put(path, json=document, headers={"If-Match": got.headers["etag"]})
    assert put.status_code == 200, put.text
    assert api.reader.get(path).json()["title"] == "edited"
    # AND a second PUT of the same (now stale) read is refused
    assert_problem(api.editor.put(path, json=document, headers={"If-Match": got.headers["etag"]}), 412)


def test_item_delete_soft_deletes_its_assets_with_an_audit_entry_each(api: LiveApi, catalog: str) -> None:
    # GIVEN an item with two assets
    base = f"/assets/catalogs/{catalog}/collections/s2/items/scene-1/assets"
    for asset_id in ("b04", "b08"):
        assert api.editor.post(base, json={"id": asset_id, "href": HREF}).status_code == 201
    # WHEN an editor deletes the item
    assert api.editor.delete(ITEM.format(c=catalog)).status_code == 204
    # THEN the item is gone, its assets are soft-deleted (404 on read) and each has a delete audit entry
    assert api.reader.get(ITEM.format(c=catalog)).status_code == 404
    for asset_id in ("b04", "b08"):
        assert_problem(api.reader.get(f"{base}/{asset_id}"), 404, "deleted")
        history = api.reader.get(f"{base}/{asset_id}/history").json()["events"]
        assert history[0]["action"] == "delete" and history[0]["actor"]
        assert history[0]["details"]["via"] == "stac-item-delete"
    # AND the item's own deletion is audited
    item_events = api.services.adapters.store.list_audit(catalog, record_type="item", record_id="scene-1").items
    assert item_events[0]["action"] == "delete"
    assert item_events[0]["details"]["assets"] == 2
    # AND once the item is back, an asset can be restored
    assert_problem(api.editor.post(f"{base}/b04/restore"), 404, "scene-1")
    assert api.editor.put(ITEM.format(c=catalog), json=item("scene-1")).status_code == 201
    restored = api.editor.post(f"{base}/b04/restore")
    assert restored.status_code == 200 and restored.json()["status"] == "active"
