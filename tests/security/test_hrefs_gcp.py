"""The cross-catalog href reproducer on the gcp backend (GCS/Firestore/Cloud Tasks emulators), over HTTP.

Catalogs share the landing bucket there, so catalog B's file is ``gs://{landing}/B/...``: a key
catalog A's bucket store resolves, which only the catalog prefix check keeps out of A's reach.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.helpers import KEYS, Api, assert_problem, make_client
from dynastore.api.app import create_app
from dynastore.bootstrap import bootstrap

from .test_hrefs import SECRET, assets_of, write_legacy_record

pytestmark = pytest.mark.gcp

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


@pytest.fixture(scope="module")
def gcp_api(serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    from infra.testing import gcp_adapters

    keys = ",".join(f"{key}:{role}" for role, key in KEYS.items())
    with gcp_adapters(api_keys=keys) as built:
        services = bootstrap(built.settings, built.adapters)
        with serve(create_app(services)) as base_url:
            api = Api(base_url, services, tmp_path_factory.mktemp("gcp-hrefs"))
            api.clients = {role: make_client(base_url, key) for role, key in KEYS.items()}
            try:
                yield api
            finally:
                for client in api.clients.values():
                    client.close()


def test_a_bucket_href_into_another_catalogs_prefix_is_refused_served_never_and_kept(gcp_api: Api) -> None:
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


def test_an_own_bucket_href_registers_and_downloads(gcp_api: Api) -> None:
    api = gcp_api
    catalog = api.new_catalog()
    files = {"file": ("own.bin", b"own bytes", "application/octet-stream")}
    uploaded = api.editor.post(f"{assets_of(catalog)}/upload", files=files).json()
    response = api.editor.post(assets_of(catalog), json={"id": "alias", "href": uploaded["href"]})
    assert response.status_code == 201, response.text
    assert response.json()["storage"]["key"] == f"{catalog}/own.bin"
    download = api.reader.get(f"{assets_of(catalog)}/alias/download", follow_redirects=False)
    assert download.status_code in (200, 307), download.text
    if download.status_code == 307:
        assert f"{catalog}/own.bin" in download.headers["location"]
    else:
        assert download.content == b"own bytes"
