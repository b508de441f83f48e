"""The asset rules hold for assets written inline in a STAC item too: the href rule (services.hrefs)
and the record size cap (DYNASTORE_MAX_RECORD_BYTES), on POST, PUT and PATCH of an item."""

from __future__ import annotations

import pytest

from api.helpers import Api, assert_problem

from .helpers import item
from .test_hrefs_records import BIG, HREF, LIMIT_WORDS

HREF_RULE = ("outside the storage of catalog", "DYNASTORE_HREF_ALLOWED_PREFIXES")


def items_of(catalog_id: str) -> str:
    return f"/stac/catalogs/{catalog_id}/collections/s2/items"


def upload(api: Api, catalog_id: str, name: str) -> str:
    files = {"file": (name, b"catalog B's private bytes", "application/octet-stream")}
    response = api.editor.post(f"/assets/catalogs/{catalog_id}/collections/s2/assets/upload", files=files)
    assert response.status_code == 201, response.text
    return str(response.json()["href"])


@pytest.fixture
def stolen(api: Api, catalog: str) -> str:
    """The href of a file uploaded to another catalog (B)."""
    from .conftest import make_catalog

    return upload(api, make_catalog(api), "secret.bin")


def test_an_inline_asset_pointing_into_another_catalogs_storage_is_refused(api: Api, catalog: str, stolen: str) -> None:
    # GIVEN catalog A's collection and the href of catalog B's file
    base = items_of(catalog)
    # WHEN an editor of A posts an item whose inline asset points at it
    response = api.editor.post(base, json=item("steal-1", {"data": {"href": stolen}}))
    # THEN it is refused with the href rule, and nothing is stored
    assert_problem(response, 400, *HREF_RULE)
    assert api.reader.get(f"{base}/steal-1").status_code == 404
    assert (
        api.reader.get(f"/assets/catalogs/{catalog}/collections/s2/items/steal-1/assets/steal-1.data").status_code
        == 404
    )
    # AND neither PUT nor PATCH of an existing item can bring it in
    assert api.editor.post(base, json=item("ok-1", {"web": {"href": HREF}})).status_code == 201
    assert_problem(api.editor.put(f"{base}/ok-1", json=item("ok-1", {"web": {"href": stolen}})), 400, *HREF_RULE)
    patch = {"assets": {"web": {"href": stolen}}}
    assert_problem(api.editor.patch(f"{base}/ok-1", json=patch), 400, *HREF_RULE)
    stored = api.reader.get(f"/assets/catalogs/{catalog}/collections/s2/items/ok-1/assets/ok-1.web").json()
    assert stored["href"] == HREF


def test_an_inline_asset_inside_the_own_catalog_is_accepted(api: Api, catalog: str) -> None:
    # GIVEN a file uploaded to catalog A
    own = upload(api, catalog, "own.bin")
    # WHEN an item of A links it inline THEN it is written
    response = api.editor.post(items_of(catalog), json=item("own-1", {"data": {"href": own}}))
    assert response.status_code == 201, response.text


def test_an_oversized_inline_asset_is_refused(api: Api, catalog: str) -> None:
    base = items_of(catalog)
    # WHEN an item's inline asset would be a record above the cap (POST, then PUT and PATCH)
    response = api.editor.post(base, json=item("big-1", {"data": {"href": HREF, "metadata": BIG}}))
    # THEN 413 names the limit, and nothing is stored
    assert_problem(response, 413, *LIMIT_WORDS)
    assert api.reader.get(f"{base}/big-1").status_code == 404
    assert api.editor.post(base, json=item("small-1", {"data": {"href": HREF}})).status_code == 201
    big = {"data": {"href": HREF, "metadata": BIG}}
    assert_problem(api.editor.put(f"{base}/small-1", json=item("small-1", big)), 413, *LIMIT_WORDS)
    assert_problem(api.editor.patch(f"{base}/small-1", json={"assets": {"data": {"metadata": BIG}}}), 413, *LIMIT_WORDS)
