"""Uploads (multipart, streamed, create-only, checksummed), downloads and the uploads endpoint."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from .helpers import MAX_UPLOAD_BYTES, Api, assert_problem

TIFF_BYTES = b"II*\x00" + bytes(range(256)) * 40


def upload(api: Api, path: str, name: str, data: bytes, metadata: Any = None, role: str = "editor") -> Any:
    files: dict[str, Any] = {"file": (name, data, "application/octet-stream")}
    form = {"metadata": json.dumps(metadata)} if metadata is not None else None
    return api.clients[role].post(path, files=files, data=form)


def blob_keys(api: Api, catalog_id: str) -> list[str]:
    return [info.key for info in api.services.adapters.blobs.list(f"{catalog_id}/")]


def test_upload_stores_the_file_under_the_binding_and_records_size_and_checksum(api: Api, scoped: str) -> None:
    # WHEN a file is uploaded to an item
    base = f"/assets/catalogs/{scoped}/collections/s2/items/scene-1/assets"
    response = upload(api, f"{base}/upload", "S2A_20240101_B04.TIF", TIFF_BYTES, {"title": "Red", "roles": ["data"]})
    # THEN the asset points at {prefix}{collection}/{item}/{filename} with size and a sha2-256 multihash
    assert response.status_code == 201, response.text
    doc = response.json()
    key = f"{scoped}/s2/scene-1/S2A_20240101_B04.TIF"
    assert doc["storage"]["key"] == key
    assert doc["file:size"] == len(TIFF_BYTES)
    assert doc["file:checksum"] == "1220" + hashlib.sha256(TIFF_BYTES).hexdigest()
    assert doc["type"].startswith("image/tiff")
    assert doc["title"] == "Red" and doc["roles"] == ["data"] and doc["item_id"] == "scene-1"
    assert api.services.adapters.blobs.get(key) == TIFF_BYTES
    assert response.headers["location"].endswith(f"{base}/{doc['id']}")
    # AND the download streams the same bytes with the asset's media type
    download = api.reader.get(f"{base}/{doc['id']}/download")
    assert download.status_code == 200
    assert download.content == TIFF_BYTES
    assert download.headers["content-type"].startswith("image/tiff")
    assert "S2A_20240101_B04.TIF" in download.headers["content-disposition"]
    assert [e["action"] for e in api.audit(scoped, doc["id"])] == ["create"]


def test_uploading_versioned_file_names_to_an_item_ranks_them_at_once(api: Api, scoped: str) -> None:
    # GIVEN two versions of a track uploaded to an item, newest last (seed 004 file names)
    base = f"/assets/catalogs/{scoped}/collections/s2/items/scene-1/assets"
    old = upload(api, f"{base}/upload", "track@2025-08-10T0955Z.geojson", b'{"v": 1}')
    new = upload(api, f"{base}/upload", "track@2025-08-11T1112Z.geojson", b'{"v": 2}')
    # THEN the answer of the newest already carries its version and latest flag (no storage event needed)
    assert new.status_code == 201, new.text
    assert new.json()["version"] == "2025-08-11T11:12Z" and new.json()["latest"] is True
    # AND the older one lost the flag, and @latest resolves to the newest file's bytes
    older = api.reader.get(f"{base}/{old.json()['id']}").json()
    assert older["version"] == "2025-08-10T09:55Z" and not older.get("latest")
    assert api.reader.get(f"{base}/track@latest/download").content == b'{"v": 2}'
    # WHEN the newest version is soft-deleted THEN the older one is latest again; restored, it is not
    assert api.editor.delete(f"{base}/{new.json()['id']}").status_code == 200
    assert api.reader.get(f"{base}/{old.json()['id']}").json()["latest"] is True
    assert api.reader.get(f"{base}/track@latest/download").content == b'{"v": 1}'
    restored = api.editor.post(f"{base}/{new.json()['id']}/restore")
    assert restored.status_code == 200 and restored.json()["latest"] is True
    assert not api.reader.get(f"{base}/{old.json()['id']}").json().get("latest")


def test_upload_to_a_collection_with_an_explicit_id(api: Api, scoped: str) -> None:
    base = f"/assets/catalogs/{scoped}/collections/s2/assets"
    response = upload(api, f"{base}/upload", "guide.pdf", b"%PDF-1.7 hello", {"id": "guide"})
    assert response.status_code == 201, response.text
    doc = response.json()
    assert doc["id"] == "guide" and doc["type"] == "application/pdf" and doc["collection_id"] == "s2"
    assert api.reader.get(f"{base}/guide/download").content == b"%PDF-1.7 hello"


def test_uploads_are_create_only(api: Api, scoped: str) -> None:
    path = f"/assets/catalogs/{scoped}/collections/s2/assets/upload"
    first = upload(api, path, "same.txt", b"one")
    assert first.status_code == 201
    assert_problem(upload(api, path, "same.txt", b"two"), 409)
    asset_id = first.json()["id"]
    assert_problem(upload(api, path, "other.txt", b"two", {"id": asset_id}), 409, asset_id)
    assert api.services.adapters.blobs.get(f"{scoped}/s2/same.txt") == b"one"


@pytest.mark.parametrize("name", ["../escape.txt", "..\\escape.txt", "a/b.txt", "/etc/passwd", "..", ".hidden"])
def test_path_traversal_in_file_names_is_400_and_stores_nothing(api: Api, scoped: str, name: str) -> None:
    path = f"/assets/catalogs/{scoped}/collections/s2/assets/upload"
    assert_problem(upload(api, path, name, b"x"), 400, "file name")
    assert blob_keys(api, scoped) == []
    assert api.reader.get(f"/assets/catalogs/{scoped}/collections/s2/assets").json()["assets"] == []


def test_an_upload_over_the_limit_is_413_and_leaves_nothing(api: Api, scoped: str) -> None:
    path = f"/assets/catalogs/{scoped}/collections/s2/assets/upload"
    response = upload(api, path, "big.bin", b"x" * (MAX_UPLOAD_BYTES + 1))
    assert_problem(response, 413, "DYNASTORE_MAX_UPLOAD_BYTES")
    assert blob_keys(api, scoped) == []
    # exactly at the limit is fine
    assert upload(api, path, "limit.bin", b"x" * MAX_UPLOAD_BYTES).status_code == 201


def test_an_upload_over_the_limit_without_content_length_is_413(api: Api, scoped: str) -> None:
    # GIVEN a chunked body (no Content-Length), so only the streaming count can stop it
    boundary = "b0undary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()

    def body() -> Any:
        yield head
        for _ in range(MAX_UPLOAD_BYTES // 4096 + 2):
            yield b"y" * 4096
        yield f"\r\n--{boundary}--\r\n".encode()

    response = api.editor.post(
        f"/assets/catalogs/{scoped}/collections/s2/assets/upload",
        content=body(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_problem(response, 413)
    assert blob_keys(api, scoped) == []


@pytest.mark.parametrize(
    ("kwargs", "status", "words"),
    [
        ({"data": {"metadata": "{}"}}, 400, ["file"]),
        ({"files": {"file": ("a.txt", b"x")}, "data": {"metadata": "{nope"}}, 400, ["metadata", "JSON"]),
        ({"files": {"file": ("a.txt", b"x")}, "data": {"metadata": '{"href": "https://x.org/a"}'}}, 400, ["href"]),
        ({"files": {"file": ("a.txt", b"x")}, "data": {"metadata": '{"roles": "data"}'}}, 400, ["roles"]),
        ({"files": {"file": ("a.txt", b"x")}, "data": {"colour": "red"}}, 400, ["colour"]),
        ({"json": {"file": "x"}}, 400, ["multipart"]),
    ],
)
def test_bad_uploads_are_400(api: Api, scoped: str, kwargs: dict[str, Any], status: int, words: list[str]) -> None:
    response = api.editor.post(f"/assets/catalogs/{scoped}/collections/s2/assets/upload", **kwargs)
    assert_problem(response, status, *words)
    assert blob_keys(api, scoped) == []


def test_upload_needs_an_editor_and_an_existing_scope(api: Api, scoped: str) -> None:
    assert_problem(
        upload(api, f"/assets/catalogs/{scoped}/collections/s2/assets/upload", "r.txt", b"x", role="reader"), 403
    )
    assert_problem(upload(api, f"/assets/catalogs/{scoped}/collections/zz/assets/upload", "r.txt", b"x"), 404, "zz")
    assert_problem(upload(api, "/assets/catalogs/nowhere/assets/upload", "r.txt", b"x"), 404, "nowhere")
    assert blob_keys(api, scoped) == []


def test_hard_delete_removes_the_stored_file_but_not_external_ones(api: Api, scoped: str) -> None:
    base = f"/assets/catalogs/{scoped}/collections/s2/assets"
    doc = upload(api, f"{base}/upload", "gone.txt", b"bytes").json()
    key = doc["storage"]["key"]
    api.editor.post(base, json={"id": "ext", "href": "https://example.org/ext.tif"})
    assert_problem(api.editor.delete(f"{base}/{doc['id']}", params={"hard": "true"}), 403)
    assert api.services.adapters.blobs.get(key) == b"bytes"
    assert api.admin.delete(f"{base}/{doc['id']}", params={"hard": "true"}).status_code == 204
    assert key not in blob_keys(api, scoped)
    assert api.admin.delete(f"{base}/ext", params={"hard": "true"}).status_code == 204


def test_soft_delete_keeps_the_file(api: Api, scoped: str) -> None:
    base = f"/assets/catalogs/{scoped}/collections/s2/assets"
    doc = upload(api, f"{base}/upload", "kept.txt", b"kept").json()
    api.editor.delete(f"{base}/{doc['id']}")
    assert_problem(api.reader.get(f"{base}/{doc['id']}/download"), 404)
    assert api.services.adapters.blobs.get(doc["storage"]["key"]) == b"kept"


def test_download_of_an_external_https_asset_redirects(api: Api, scoped: str) -> None:
    base = f"/assets/catalogs/{scoped}/assets"
    api.editor.post(base, json={"id": "web", "href": "https://example.org/w.tif"})
    response = api.reader.get(f"{base}/web/download", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == "https://example.org/w.tif"
    # a bucket href outside the catalog's storage is not registered at all (README "Hrefs and downloads")
    refused = api.editor.post(base, json={"id": "gcs", "href": "gs://elsewhere/w.tif"})
    assert_problem(refused, 400, "outside the storage")


def test_uploads_endpoint_points_local_clients_at_the_multipart_upload(api: Api, scoped: str) -> None:
    response = api.editor.post(
        f"/assets/catalogs/{scoped}/uploads", json={"collection_id": "s2", "item_id": "scene-1", "filename": "B08.tif"}
    )
    assert response.status_code == 200, response.text
    target = response.json()
    assert target["signed"] is False and target["method"] == "POST"
    assert target["url"].endswith(f"/assets/catalogs/{scoped}/collections/s2/items/scene-1/assets/upload")
    assert target["key"] == f"{scoped}/s2/scene-1/B08.tif"
    # the target works
    files = {"file": ("B08.tif", TIFF_BYTES, "image/tiff")}
    assert api.editor.post(target["url"], files=files).status_code == 201
    assert_problem(api.editor.post(f"/assets/catalogs/{scoped}/uploads", json={"filename": "../x"}), 400, "file name")
    assert_problem(api.editor.post(f"/assets/catalogs/{scoped}/uploads", json={}), 400, "file name")
    assert_problem(
        api.editor.post(f"/assets/catalogs/{scoped}/uploads", json={"filename": "a", "collection_id": "q"}), 404, "q"
    )
    assert_problem(api.reader.post(f"/assets/catalogs/{scoped}/uploads", json={"filename": "a"}), 403)
