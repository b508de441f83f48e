"""Hrefs stay inside their own catalog's storage; downloads redirect only to safe places (the local
backend; the cases that take ``backend_api`` or ``gcp_api`` run on the gcp emulators too).

Reproducers of issue 5 (an asset of catalog A pointing at catalog B's file, or anywhere on the
disk) and of the download-redirect part of issue 7, over HTTP.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from api.helpers import Api, assert_problem
from dynastore.backends.local.blobs import FolderBlobStore
from dynastore.domain.audit import audit_doc
from dynastore.ports import AssetWrite

from .conftest import ALLOWED_HOST, ALLOWED_PREFIX

SECRET = b"catalog B's private bytes"


def assets_of(catalog_id: str) -> str:
    return f"/assets/catalogs/{catalog_id}/assets"


@pytest.fixture
def victim(api: Api) -> dict[str, Any]:
    """Catalog B with one uploaded file (its record and href)."""
    catalog_id = api.new_catalog("victim")
    files = {"file": ("secret.bin", SECRET, "application/octet-stream")}
    response = api.editor.post(f"{assets_of(catalog_id)}/upload", files=files)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def blob_exists(api: Api, key: str) -> bool:
    return key in [info.key for info in api.services.adapters.blobs.list(key.rsplit("/", 1)[0] + "/")]


def write_legacy_record(api: Api, catalog_id: str, asset_id: str, href: str, storage: Any = None) -> None:
    """A record as the service wrote it before hrefs were checked (straight into the store)."""
    doc = {
        "id": asset_id,
        "href": href,
        "catalog_id": catalog_id,
        "collection_id": None,
        "item_id": None,
        "status": "active",
        "created": "2024-01-01T00:00:00Z",
        "updated": "2024-01-01T00:00:00Z",
        "deleted_at": None,
        "storage": storage,
        "rev": 0,
        "roles": [],
        "tags": [],
        "metadata": {},
        "alternate": {},
    }
    audit = audit_doc(catalog_id, "asset", asset_id, "create", "legacy")
    api.services.adapters.store.write_assets([AssetWrite(doc, 0)], audits=[audit])


def test_an_href_into_another_catalogs_storage_is_refused_on_every_write_path(api: Api, victim: dict[str, Any]) -> None:
    # GIVEN catalog B's uploaded file and an editor of catalog A
    attacker = api.new_catalog("attacker")
    base = assets_of(attacker)
    stolen = victim["href"]
    assert stolen.startswith("file://")
    rule = ("outside the storage of catalog", attacker, "DYNASTORE_HREF_ALLOWED_PREFIXES")
    # WHEN A registers B's file: create, PUT, PATCH of an existing asset, bulk
    assert_problem(api.editor.post(base, json={"id": "steal", "href": stolen}), 400, *rule)
    assert_problem(api.editor.put(f"{base}/steal", json={"href": stolen}), 400, *rule)
    assert api.editor.post(base, json={"id": "web", "href": "https://example.org/a.tif"}).status_code == 201
    assert_problem(api.editor.patch(f"{base}/web", json={"href": stolen}), 400, *rule)
    bulk = api.editor.post("/assets/bulk", json={"catalog_id": attacker, "assets": [{"id": "steal", "href": stolen}]})
    # THEN every path refuses it with the rule, and nothing of it is stored
    assert bulk.status_code == 200, bulk.text
    [result] = bulk.json()["results"]
    assert result["status"] == "error" and result["error"]["status"] == 400
    assert "outside the storage of catalog" in result["error"]["detail"]
    assert api.reader.get(f"{base}/steal").status_code == 404
    assert api.reader.get(f"{base}/web").json()["href"] == "https://example.org/a.tif"


@pytest.mark.parametrize(
    "href",
    [
        "file:///etc/passwd",
        "file:///etc/../etc/passwd",
        "gs://some-bucket-4f1c/B/secret.bin",
        "s3://some-bucket-4f1c/B/secret.bin",
        f"{ALLOWED_PREFIX}../other/x.tif",
    ],
)
def test_a_storage_href_outside_the_catalog_and_the_allow_list_is_refused(api: Api, catalog: str, href: str) -> None:
    response = api.editor.post(assets_of(catalog), json={"id": "x", "href": href})
    assert_problem(response, 400, "outside the storage of catalog", "DYNASTORE_HREF_ALLOWED_PREFIXES")


def test_a_file_href_into_the_data_folder_outside_the_catalog_is_refused(api: Api, catalog: str) -> None:
    # GIVEN the service's own files beside the bucket (its database, its key file), the bucket's
    # metadata tree and a file at the bucket's top, outside every catalog prefix
    blobs = api.services.adapters.blobs
    assert isinstance(blobs, FolderBlobStore)
    root = blobs.root
    paths = [p for p in api.data_dir.iterdir() if p != root] + [root / ".dynastore" / "x", root / "top.bin"]
    assert len(paths) >= 3
    for path in paths:
        # WHEN an asset points at one THEN it is refused
        response = api.editor.post(assets_of(catalog), json={"id": "x", "href": path.as_uri()})
        assert_problem(response, 400, "outside the storage of catalog")


def test_an_href_inside_the_own_catalog_registers_and_downloads(backend_api: Api) -> None:
    api = backend_api
    # GIVEN a file uploaded to catalog A (a file:// href locally, gs:// on gcp)
    catalog = api.new_catalog()
    files = {"file": ("own.bin", b"own bytes", "application/octet-stream")}
    uploaded = api.editor.post(f"{assets_of(catalog)}/upload", files=files).json()
    # WHEN a second asset of A points at it
    response = api.editor.post(assets_of(catalog), json={"id": "alias", "href": uploaded["href"]})
    # THEN it registers with the storage coordinates and downloads the bytes (on gcp: or redirects to them)
    assert response.status_code == 201, response.text
    assert response.json()["storage"]["key"] == f"{catalog}/own.bin"
    download = api.reader.get(f"{assets_of(catalog)}/alias/download", follow_redirects=False)
    if api.services.settings.backend == "gcp" and download.status_code == 307:
        assert f"{catalog}/own.bin" in download.headers["location"]
    else:
        assert download.content == b"own bytes"


@pytest.mark.gcp
def test_a_bucket_href_into_another_catalogs_prefix_is_refused_served_never_and_kept(gcp_api: Api) -> None:
    # Catalogs share the landing bucket on gcp, so catalog B's file is gs://{landing}/B/...: a key catalog
    # A's bucket store resolves, which only the catalog prefix check keeps out of A's reach.
    api = gcp_api
    # GIVEN catalog B's uploaded file in the shared landing bucket
    victim = api.new_catalog("victim")
    files = {"file": ("secret.bin", SECRET, "application/octet-stream")}
    uploaded = api.editor.post(f"{assets_of(victim)}/upload", files=files)
    assert uploaded.status_code == 201, uploaded.text
    stolen = uploaded.json()["href"]
    key = uploaded.json()["storage"]["key"]
    landing = api.services.adapters.blobs.bucket
    assert stolen == f"gs://{landing}/{key}" and key.startswith(f"{victim}/")
    attacker = api.new_catalog("attacker")
    base = assets_of(attacker)
    # WHEN catalog A registers it, or B's would-be dedicated bucket THEN 400 naming the rule
    for href in (stolen, f"gs://{landing}-{victim}/{key}"):
        response = api.editor.post(base, json={"id": "steal", "href": href})
        assert_problem(response, 400, "outside the storage of catalog", "DYNASTORE_HREF_ALLOWED_PREFIXES")
    # GIVEN a record of A at B's file written before the rule
    write_legacy_record(api, attacker, "stolen", stolen, {"bucket": landing, "key": key})
    # WHEN it is downloaded THEN no signed URL to B's object, no bytes
    response = api.reader.get(f"{base}/stolen/download", follow_redirects=False)
    assert_problem(response, 404, "cannot serve")
    # WHEN an admin hard-deletes it THEN B's object and record stay
    assert api.admin.delete(f"{base}/stolen", params={"hard": "true"}).status_code == 204
    assert api.services.adapters.blobs.get(key) == SECRET
    assert api.reader.get(f"{assets_of(victim)}/{uploaded.json()['id']}").json()["status"] == "active"


def test_an_allow_listed_reference_registers_but_is_never_served(api: Api, catalog: str) -> None:
    href = f"{ALLOWED_PREFIX}sentinel/B04.tif"
    response = api.editor.post(assets_of(catalog), json={"id": "ref", "href": href})
    assert response.status_code == 201, response.text
    assert response.json()["storage"] is None
    assert_problem(api.reader.get(f"{assets_of(catalog)}/ref/download"), 404, "cannot serve")


@pytest.fixture
def legacy(api: Api, victim: dict[str, Any]) -> str:
    """Catalog A with records written before hrefs were checked: ``stolen`` at B's file (with the
    storage coordinates the old code derived for it), ``passwd`` at a file elsewhere on the disk."""
    attacker = api.new_catalog("attacker")
    storage = {"bucket": victim["storage"]["bucket"], "key": victim["storage"]["key"]}
    write_legacy_record(api, attacker, "stolen", victim["href"], storage)
    write_legacy_record(api, attacker, "passwd", "file:///etc/passwd")
    return attacker


@pytest.mark.parametrize("asset_id", ["stolen", "passwd"])
def test_an_old_record_outside_its_catalog_is_not_downloaded(api: Api, legacy: str, asset_id: str) -> None:
    response = api.reader.get(f"{assets_of(legacy)}/{asset_id}/download", follow_redirects=False)
    assert_problem(response, 404, "cannot serve")
    assert SECRET not in response.content


def test_a_task_on_an_old_record_outside_its_catalog_does_not_read_the_file(api: Api, legacy: str) -> None:
    task = api.editor.post(
        f"{assets_of(legacy)}/stolen/tasks/checksum/execute", params={"mode": "sync-execute"}, json={}
    )
    assert 400 <= task.status_code < 500, task.text
    assert "storage" in task.json()["detail"]
    assert hashlib.sha256(SECRET).hexdigest() not in task.text


def test_a_hard_delete_of_an_old_record_keeps_the_other_catalogs_file(
    api: Api, legacy: str, victim: dict[str, Any]
) -> None:
    # WHEN an admin hard-deletes A's record at B's file
    base = assets_of(legacy)
    assert api.admin.delete(f"{base}/stolen", params={"hard": "true"}).status_code == 204
    # THEN A's record is gone, B's file and record stay, and the audit says no file was deleted
    assert api.reader.get(f"{base}/stolen").status_code == 404
    assert blob_exists(api, victim["storage"]["key"])
    victim_path = f"{assets_of(victim['catalog_id'])}/{victim['id']}"
    assert api.reader.get(victim_path).json()["status"] == "active"
    assert api.reader.get(f"{victim_path}/download").content == SECRET
    history = api.reader.get(f"{base}/stolen/history").json()["events"]
    assert history[0]["action"] == "hard_delete" and history[0]["details"]["deleted_file"] is False


def test_a_hard_delete_still_removes_the_own_uploaded_file(api: Api) -> None:
    catalog = api.new_catalog()
    files = {"file": ("mine.bin", b"mine", "application/octet-stream")}
    doc = api.editor.post(f"{assets_of(catalog)}/upload", files=files).json()
    assert api.admin.delete(f"{assets_of(catalog)}/{doc['id']}", params={"hard": "true"}).status_code == 204
    assert not blob_exists(api, doc["storage"]["key"])


@pytest.mark.parametrize(
    "href",
    [
        "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token",
        "http://example.org/plain-http.tif",
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1:8443/admin",
        "https://10.0.0.5/internal.tif",
        "https://localhost/x.tif",
    ],
)
def test_download_never_redirects_to_http_or_private_addresses(api: Api, catalog: str, href: str) -> None:
    # GIVEN an external asset (http:// may be registered: it is a reference, README "Hrefs and downloads")
    created = api.editor.post(assets_of(catalog), json={"id": "ext", "href": href})
    assert created.status_code == 201, created.text
    # WHEN it is downloaded THEN no redirect: a 404 naming the rule and the allow-list setting
    response = api.reader.get(f"{assets_of(catalog)}/ext/download", follow_redirects=False)
    body = assert_problem(response, 404, "does not redirect", "DYNASTORE_DOWNLOAD_ALLOWED_HOSTS")
    assert "location" not in response.headers and body["status"] == 404


@pytest.mark.parametrize(
    "href", ["https://example.org/public.tif", f"http://{ALLOWED_HOST}/x.tif", f"https://{ALLOWED_HOST}:8443/y.tif"]
)
def test_download_redirects_to_https_and_allow_listed_hosts(api: Api, catalog: str, href: str) -> None:
    api.editor.post(assets_of(catalog), json={"id": "ext", "href": href})
    response = api.reader.get(f"{assets_of(catalog)}/ext/download", follow_redirects=False)
    assert response.status_code == 307 and response.headers["location"] == href


@pytest.mark.parametrize("href", ["https://", "http:///path-only", "https://[::1/x"])
def test_a_web_href_without_a_host_is_refused(api: Api, catalog: str, href: str) -> None:
    assert_problem(api.editor.post(assets_of(catalog), json={"id": "x", "href": href}), 400, "host")


def test_the_retention_purge_of_an_old_record_keeps_the_other_catalogs_file(
    api: Api, legacy: str, victim: dict[str, Any]
) -> None:
    # GIVEN A's old record at B's file, soft-deleted
    assert api.editor.delete(f"{assets_of(legacy)}/stolen").status_code == 200
    # WHEN the retention purge runs past its deletion
    purged = api.services.lifecycle.purge_deleted_assets(legacy, "9999-12-31T00:00:00Z")
    # THEN A's record is purged and B's file is still there
    assert purged == 1
    assert blob_exists(api, victim["storage"]["key"])
    assert api.reader.get(f"{assets_of(victim['catalog_id'])}/{victim['id']}/download").content == SECRET
