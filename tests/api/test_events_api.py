"""``POST /events/stac`` over HTTP: the seed 003 envelopes as written, bad envelopes as clear 4xx,
the role each method needs, and downloads that fall back to a mirror."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .helpers import Api, assert_problem

ESGF = Path(__file__).resolve().parents[1] / "events" / "esgf"
ITEM = "CMIP6.ScenarioMIP.UA.MCM-UA-1-0.ssp245.r1i1p1f2.Amon.psl.gn.v20190731"


def envelope(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((ESGF / f"{name}.json").read_text())
    return body


@pytest.fixture
def esgf_catalog(api: Api) -> str:
    catalog_id = api.new_catalog("esgf")
    api.add_collection(catalog_id, "cmip6")
    return catalog_id


def post(api: Api, catalog_id: str, body: Any, role: str = "editor") -> Any:
    client = api.clients[role]
    return client.post("/events/stac", params={"catalog_id": catalog_id}, json=body)


def item_url(catalog_id: str) -> str:
    return f"/stac/catalogs/{catalog_id}/collections/cmip6/items/{ITEM}"


def test_the_seed_envelopes_replace_update_hide_and_hard_delete(api: Api, esgf_catalog: str) -> None:
    # GIVEN the seed's replacement envelope WHEN an editor posts it THEN the item is published
    response = post(api, esgf_catalog, envelope("replace"))
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "applied" and response.json()["item"]["id"] == ITEM
    assert api.reader.get(item_url(esgf_catalog)).json()["properties"]["cmip6:retracted"] is False
    # WHEN the partial update is posted THEN the property changed
    assert post(api, esgf_catalog, envelope("partial_update")).json()["action"] == "update"
    assert api.reader.get(item_url(esgf_catalog)).json()["properties"]["cmip6:retracted"] is True
    # WHEN the soft delete is posted THEN readers get 404 and item search finds nothing
    assert post(api, esgf_catalog, envelope("soft_delete")).json()["action"] == "hide"
    assert_problem(api.reader.get(item_url(esgf_catalog)), 404)
    assert api.reader.get(f"/stac/catalogs/{esgf_catalog}/search", params={"ids": ITEM}).json()["features"] == []
    listing = api.reader.get(f"/stac/catalogs/{esgf_catalog}/collections/cmip6/items").json()
    assert listing["features"] == []
    # WHEN an editor posts the hard delete THEN 403; an admin may
    assert_problem(post(api, esgf_catalog, envelope("hard_delete")), 403, "admin")
    response = post(api, esgf_catalog, envelope("hard_delete"), role="admin")
    assert response.status_code == 200 and response.json()["action"] == "hard_delete"
    # AND the same envelope again gives the same outcome without a second write
    again = post(api, esgf_catalog, envelope("hard_delete"), role="admin")
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"


def test_without_catalog_id_the_configured_default_catalog_is_used(api: Api) -> None:
    # GIVEN the default catalog (DYNASTORE_ESGF_CATALOG_ID=esgf) with collection cmip6
    api.admin.post("/assets/catalogs", json={"id": "esgf", "title": "ESGF"})
    api.add_collection("esgf", "cmip6")
    # WHEN an envelope is posted without ?catalog_id THEN it lands there
    response = api.editor.post("/events/stac", json=envelope("replace"))
    assert response.status_code == 200, response.text
    assert api.reader.get(item_url("esgf")).status_code == 200


def _without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    node = body
    for name in path[:-1]:
        node = node[name]
    del node[path[-1]]
    return body


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        (lambda b: _without(b, "metadata", "publisher"), 400, ["envelope.metadata.publisher", "required"]),
        (lambda b: b["data"]["payload"].update(method="PATCH"), 400, ["envelope.data.payload.method", "DELETE"]),
        (lambda b: b["metadata"].update(schema_version="9.9"), 400, ["schema_version", "1.0.0"]),
        (lambda b: b["data"]["payload"]["item"].update(id="other"), 400, ["item.id", "differs from item_id"]),
        (lambda b: b["metadata"].update(time="yesterday"), 400, ["envelope.metadata.time", "RFC 3339"]),
        (lambda b: b["data"]["payload"].pop("item"), 400, ["needs `item`"]),
        (lambda b: b["data"].update(type="ATOM"), 400, ["envelope.data.type"]),
    ],
    ids=["no-publisher", "unknown-method", "schema-version", "item-id-mismatch", "bad-time", "no-item", "not-stac"],
)
def test_a_bad_envelope_is_a_clear_4xx(api: Api, esgf_catalog: str, change: Any, status: int, words: list[str]) -> None:
    # GIVEN the seed's replacement with one thing wrong
    body = envelope("replace")
    change(body)
    # WHEN posted THEN a problem naming the field, and nothing was written
    assert_problem(post(api, esgf_catalog, body), status, *words)
    assert api.reader.get(item_url(esgf_catalog)).status_code == 404


def test_a_non_object_body_and_an_unknown_collection_are_4xx(api: Api, esgf_catalog: str) -> None:
    assert_problem(post(api, esgf_catalog, [1, 2]), 400, "JSON object")
    body = envelope("replace")
    body["data"]["payload"]["collection_id"] = "cmip5"
    body["data"]["payload"]["item"]["collection"] = "cmip5"
    assert_problem(post(api, esgf_catalog, body), 404, "cmip5")


def test_a_reader_and_an_anonymous_caller_cannot_publish(api: Api, esgf_catalog: str) -> None:
    assert_problem(post(api, esgf_catalog, envelope("replace"), role="reader"), 403)
    assert_problem(post(api, esgf_catalog, envelope("replace"), role="anon"), 401)


def test_download_falls_back_to_a_mirror_when_the_primary_file_is_gone(api: Api, esgf_catalog: str) -> None:
    # GIVEN an item asset uploaded to the catalog, and a second copy registered as its mirror
    post(api, esgf_catalog, envelope("replace"))
    base = f"/assets/catalogs/{esgf_catalog}/collections/cmip6/items/{ITEM}/assets"
    primary = api.editor.post(f"{base}/upload", files={"file": ("psl.nc", b"primary copy")}).json()
    copy = api.editor.post(f"{base}/upload", files={"file": ("psl-copy.nc", b"mirror copy")}).json()
    patch = {"alternate": {"ORNL": {"href": copy["href"]}}}
    assert api.editor.patch(f"{base}/{primary['id']}", json=patch).status_code == 200
    # WHEN the primary file disappears from storage
    blobs = api.services.assets.blobs_of(primary)
    blobs.delete(primary["storage"]["key"])
    # THEN the download serves the mirror's bytes
    response = api.reader.get(f"{base}/{primary['id']}/download")
    assert response.status_code == 200 and response.content == b"mirror copy"
