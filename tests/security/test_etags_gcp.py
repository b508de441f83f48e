"""Lost updates on the gcp backend (GCS + Firestore emulators), the served app over real HTTP: of 20
parallel stale asset writers exactly one succeeds and 19 answer 412; stale catalog/item writes are refused."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dynastore.api.app import create_app
from dynastore.bootstrap import bootstrap
from dynastore.config import Settings
from support.live_api import KEYS, LiveApi, make_client

from .helpers import HREF, assert_problem, collection, item, race_stale_writers

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

pytestmark = pytest.mark.gcp


@pytest.fixture(scope="module")
def gcp_api(serve: Any) -> Iterator[LiveApi]:
    from infra.testing import gcp_adapters

    with gcp_adapters() as built:
        settings = Settings(
            **{
                **built.settings.model_dump(),
                "api_keys": ",".join(f"{key}:{role}" for role, key in KEYS.items()),
                "worker_threads": 0,
            }
        )
        services = bootstrap(settings, adapters=built.adapters)
        with serve(create_app(services)) as base_url:
            api = LiveApi(base_url, services, Path("."))
            api.clients = {role: make_client(base_url, key) for role, key in KEYS.items()}
            try:
                yield api
            finally:
                for client in api.clients.values():
                    client.close()


@pytest.fixture(scope="module")
def gcp_catalog(gcp_api: LiveApi) -> str:
    catalog_id = gcp_api.new_catalog()
    base = f"/stac/catalogs/{catalog_id}/collections"
    assert gcp_api.editor.post(base, json=collection("s2")).status_code == 201
    assert gcp_api.editor.post(f"{base}/s2/items", json=item("scene-1")).status_code == 201
    return catalog_id


def test_twenty_parallel_stale_asset_writers_exactly_one_wins(gcp_api: LiveApi, gcp_catalog: str) -> None:
    # GIVEN an item asset that 20 editors read (the same ETag)
    path = f"/assets/catalogs/{gcp_catalog}/collections/s2/items/scene-1/assets"
    assert gcp_api.editor.post(path, json={"id": "b04", "href": HREF}).status_code == 201
    # WHEN all 20 PUT their change with that If-Match at once
    answers = race_stale_writers(gcp_api, f"{path}/b04", lambda i: {"href": HREF, "title": f"writer {i}"})
    # THEN exactly one succeeds and 19 answer 412; the winner's change is stored under the winner's ETag
    assert Counter(a.status_code for a in answers) == {200: 1, 412: 19}, [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 200)
    stored = gcp_api.reader.get(f"{path}/b04")
    assert stored.json()["title"] == winner.json()["title"] and stored.headers["etag"] == winner.headers["etag"]


def test_stale_catalog_and_item_writes_are_refused(gcp_api: LiveApi, gcp_catalog: str) -> None:
    # GIVEN a catalog and an item read, then changed by someone else
    catalog_path = f"/assets/catalogs/{gcp_catalog}"
    item_path = f"/stac/catalogs/{gcp_catalog}/collections/s2/items/scene-1"
    seen_catalog = gcp_api.reader.get(catalog_path).headers["etag"]
    seen_item = gcp_api.reader.get(item_path).headers["etag"]
    assert gcp_api.editor.patch(catalog_path, json={"title": "meanwhile"}).status_code == 200
    assert gcp_api.editor.patch(item_path, json={"properties": {"title": "meanwhile"}}).status_code == 200
    # WHEN they are written with the stale ETags THEN 412 and nothing changes
    assert_problem(gcp_api.editor.patch(catalog_path, json={"title": "x"}, headers={"If-Match": seen_catalog}), 412)
    assert_problem(gcp_api.editor.delete(item_path, headers={"If-Match": seen_item}), 412)
    assert gcp_api.reader.get(catalog_path).json()["title"] == "meanwhile"
    assert gcp_api.reader.get(item_path).status_code == 200
