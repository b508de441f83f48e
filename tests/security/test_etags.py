"""ETag / If-Match on assets, catalogs and STAC collections and items (lost updates, issue reproducer 6),
on every backend (the gcp cases on the GCS/Firestore emulators), the served app over real HTTP.

Every read of one record and every write answer carries ``ETag: "<rev>"``; a write with a stale
``If-Match`` answers 412 problem+json and changes nothing; a weak ``W/"<rev>"`` is accepted.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from .helpers import HREF, LiveApi, assert_problem, collection, item, race_stale_writers


@pytest.fixture(scope="module")
def api(backend_api: LiveApi) -> LiveApi:
    """Every test here runs on each backend."""
    return backend_api


def etag_of(response: httpx.Response) -> str:
    assert response.status_code < 300, response.text
    etag = response.headers.get("etag")
    assert etag, f"{response.request.method} {response.request.url} answered without an ETag"
    return etag


def asset_path(catalog_id: str, level: str = "item") -> str:
    base = f"/assets/catalogs/{catalog_id}"
    return {
        "catalog": f"{base}/assets",
        "collection": f"{base}/collections/s2/assets",
        "item": f"{base}/collections/s2/items/scene-1/assets",
    }[level]


def new_asset(api: LiveApi, catalog_id: str, level: str = "item", asset_id: str = "b04") -> str:
    response = api.editor.post(asset_path(catalog_id, level), json={"id": asset_id, "href": HREF, "title": "v0"})
    assert response.status_code == 201, response.text
    return f"{asset_path(catalog_id, level)}/{asset_id}"


# ------------------------------------------------------------------------------------------ assets


@pytest.mark.parametrize("level", ["catalog", "collection", "item"])
def test_every_asset_read_and_write_answers_the_revision_as_etag(api: LiveApi, catalog: str, level: str) -> None:
    # GIVEN a new asset: the create answer carries its revision
    created = api.editor.post(asset_path(catalog, level), json={"id": "b04", "href": HREF})
    assert etag_of(created) == f'"{created.json()["rev"]}"'
    path = f"{asset_path(catalog, level)}/b04"
    # WHEN it is read and changed in every way
    answers = [
        api.reader.get(path),
        api.editor.put(path, json={"href": HREF, "title": "put"}),
        api.editor.patch(path, json={"title": "patched"}),
        api.editor.delete(path),
        api.editor.post(f"{path}/restore"),
    ]
    # THEN each answer's ETag is the revision of the record it returns, and every write moves it on
    tags = [etag_of(a) for a in answers]
    assert tags == [f'"{a.json()["rev"]}"' for a in answers]
    assert len(set(tags[1:])) == 4 and tags[0] == etag_of(created)


def test_put_with_a_stale_if_match_is_refused_and_changes_nothing(api: LiveApi, catalog: str) -> None:
    # GIVEN an asset read by two editors, then changed by the first
    path = new_asset(api, catalog)
    seen = etag_of(api.reader.get(path))
    first = api.editor.put(path, json={"href": HREF, "title": "first"}, headers={"If-Match": seen})
    assert first.status_code == 200, first.text
    # WHEN the second writes with the ETag it read
    stale = api.editor.put(path, json={"href": HREF, "title": "second"}, headers={"If-Match": seen})
    # THEN 412 problem+json naming the current revision, and the first write stands
    assert_problem(stale, 412, "revision")
    assert api.reader.get(path).json()["title"] == "first"
    # AND with the current (weak) ETag the write goes through
    fresh = api.editor.put(path, json={"href": HREF, "title": "second"}, headers={"If-Match": f"W/{etag_of(first)}"})
    assert fresh.status_code == 200 and fresh.json()["title"] == "second"


@pytest.mark.parametrize("action", ["patch", "delete", "hard-delete"])
def test_patch_and_deletes_honour_if_match(api: LiveApi, catalog: str, action: str) -> None:
    # GIVEN an asset whose ETag an editor read before someone else changed it
    path = new_asset(api, catalog)
    stale = etag_of(api.reader.get(path))
    current = etag_of(api.editor.patch(path, json={"title": "meanwhile"}))

    def send(tag: str) -> httpx.Response:
        headers = {"If-Match": tag}
        if action == "patch":
            return api.editor.patch(path, json={"title": "mine"}, headers=headers)
        if action == "delete":
            return api.editor.delete(path, headers=headers)
        return api.admin.delete(path, params={"hard": "true"}, headers=headers)

    # WHEN the editor sends the write with the stale ETag THEN 412 and the record is as it was
    assert_problem(send(stale), 412, "revision")
    kept = api.reader.get(path)
    assert kept.status_code == 200 and kept.json()["title"] == "meanwhile" and etag_of(kept) == current
    # AND with the current ETag it goes through
    assert send(current).status_code in (200, 204)


def test_restore_honours_if_match(api: LiveApi, catalog: str) -> None:
    # GIVEN a soft-deleted asset, whose deletion answer carried the ETag
    path = new_asset(api, catalog)
    before = etag_of(api.reader.get(path))
    deleted = etag_of(api.editor.delete(path))
    # WHEN it is restored with the ETag of before the delete THEN 412; with the delete's ETag, restored
    assert_problem(api.editor.post(f"{path}/restore", headers={"If-Match": before}), 412, "revision")
    restored = api.editor.post(f"{path}/restore", headers={"If-Match": deleted})
    assert restored.status_code == 200 and restored.json()["status"] == "active"


def test_put_if_match_on_a_missing_asset_is_refused(api: LiveApi, catalog: str) -> None:
    # WHEN a client PUTs with If-Match an asset that does not exist THEN 412 and nothing is created
    path = f"{asset_path(catalog)}/ghost"
    assert_problem(api.editor.put(path, json={"href": HREF}, headers={"If-Match": '"3"'}), 412)
    assert api.reader.get(path).status_code == 404


def test_an_if_match_this_service_never_issued_is_refused(api: LiveApi, catalog: str) -> None:
    path = new_asset(api, catalog)
    assert_problem(api.editor.patch(path, json={"title": "x"}, headers={"If-Match": '"abc"'}), 412, "If-Match")
    assert api.reader.get(path).json()["title"] == "v0"


def test_twenty_parallel_stale_writers_exactly_one_wins(api: LiveApi, catalog: str) -> None:
    # GIVEN an asset that 20 editors read (the same ETag)
    path = new_asset(api, catalog)
    # WHEN all 20 PUT their change with that If-Match at once
    titles = [f"writer {i}" for i in range(20)]
    answers = race_stale_writers(api, path, lambda i: {"href": HREF, "title": titles[i]})
    # THEN exactly one succeeds, the 19 others answer 412 problem+json, and the winner's change is stored
    assert Counter(a.status_code for a in answers) == {200: 1, 412: 19}, [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 412:
            assert_problem(answer, 412)
    winner = next(a for a in answers if a.status_code == 200)
    stored = api.reader.get(path).json()
    assert stored["title"] == winner.json()["title"] and stored["title"] in titles
    assert api.reader.get(path).headers["etag"] == winner.headers["etag"]


# ---------------------------------------------------------------------------------------- catalogs


def test_catalog_reads_and_writes_carry_etags_and_honour_if_match(api: LiveApi) -> None:
    # GIVEN a catalog (the create answer has an ETag) read by an editor
    created = api.editor.post("/assets/catalogs", json={"id": "etag-cat", "title": "v0"})
    path = "/assets/catalogs/etag-cat"
    seen = etag_of(api.reader.get(path))
    assert seen == etag_of(created) == f'"{created.json()["rev"]}"'
    # WHEN someone else changes it, and the editor PATCHes with what it read
    changed = api.editor.patch(path, json={"title": "meanwhile"})
    current = etag_of(changed)
    assert current != seen
    # THEN 412 and the title stays; a stale retire is refused too
    assert_problem(api.editor.patch(path, json={"title": "mine"}, headers={"If-Match": seen}), 412, "revision")
    assert_problem(api.admin.delete(path, headers={"If-Match": seen}), 412, "revision")
    assert api.reader.get(path).json()["title"] == "meanwhile"
    # AND with the current ETag both go through, each answering the new ETag
    patched = api.editor.patch(path, json={"title": "mine"}, headers={"If-Match": current})
    assert patched.json()["title"] == "mine"
    retired = api.admin.delete(path, headers={"If-Match": f"W/{etag_of(patched)}"})
    assert retired.status_code == 200 and etag_of(retired) == f'"{retired.json()["rev"]}"'


# ------------------------------------------------------------------------------ STAC collections/items


def test_collection_delete_honours_if_match(api: LiveApi) -> None:
    # GIVEN a collection read before someone changed it
    catalog_id = api.new_catalog()
    base = f"/stac/catalogs/{catalog_id}/collections"
    assert api.editor.post(base, json=collection("c1")).status_code == 201
    seen = etag_of(api.reader.get(f"{base}/c1"))
    current = etag_of(api.editor.patch(f"{base}/c1", json={"title": "meanwhile"}))
    # WHEN it is deleted with the stale ETag THEN 412 and it is still there; with the current one it goes
    assert_problem(api.editor.delete(f"{base}/c1", headers={"If-Match": seen}), 412, "revision")
    assert api.reader.get(f"{base}/c1").status_code == 200
    assert api.editor.delete(f"{base}/c1", headers={"If-Match": current}).status_code == 204
    assert api.reader.get(f"{base}/c1").status_code == 404


def test_item_delete_honours_if_match(api: LiveApi, catalog: str) -> None:
    # GIVEN an item read before someone changed it
    path = f"/stac/catalogs/{catalog}/collections/s2/items/scene-1"
    seen = etag_of(api.reader.get(path))
    current = etag_of(api.editor.patch(path, json={"properties": {"title": "meanwhile"}}))
    # WHEN it is deleted with the stale ETag THEN 412 and it is still there; with the current one it goes
    assert_problem(api.editor.delete(path, headers={"If-Match": seen}), 412, "revision")
    assert api.reader.get(path).status_code == 200
    assert api.editor.delete(path, headers={"If-Match": current}).status_code == 204
    assert api.reader.get(path).status_code == 404


@pytest.mark.parametrize("kind", ["item", "collection"])
def test_twenty_parallel_stale_stac_writers_exactly_one_wins(api: LiveApi, catalog: str, kind: str) -> None:
    # GIVEN a STAC item (or collection) that 20 editors read with the same ETag
    base = f"/stac/catalogs/{catalog}/collections"
    path = f"{base}/s2/items/scene-1" if kind == "item" else f"{base}/s2"
    document: dict[str, Any] = item("scene-1") if kind == "item" else collection("s2")
    # WHEN all PUT a changed document with that If-Match at once
    answers = race_stale_writers(api, path, lambda i: {**document, "title": f"writer {i}"})
    # THEN one wins and the 19 others answer 412
    assert Counter(a.status_code for a in answers) == {200: 1, 412: 19}, [a.text for a in answers]
