"""A search by ids renders an item's embedded assets from what the store keeps for the page
(``item_asset_members``; the local store keeps each item's members text in ``item_members``): after
every kind of change to the item's assets, the page is still the general rendering, byte for byte,
with the change in it. On every backend."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from dynastore.bootstrap import Adapters, Services, bootstrap
from dynastore.config import Settings
from dynastore.domain.events import StorageEvent
from dynastore.domain.search import ItemQuery
from dynastore.services.asset_files import UploadBuffer
from dynastore.services.assets import Scope
from dynastore.services.stac import Links
from dynastore.services.stac_events import parse_envelope
from dynastore.services.versions.publish import PublishedFile

from .helpers import audit, collection_doc

LINKS = Links("http://test.example")
CAT, COL = "demo", "s2"
ITEMS = ("a", "b")  # "b": an untouched neighbour on the same page
ESGF = Path(__file__).resolve().parents[1] / "events" / "esgf"
ESGF_ITEM = "CMIP6.ScenarioMIP.UA.MCM-UA-1-0.ssp245.r1i1p1f2.Amon.psl.gn.v20190731"


def _item(item_id: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "stac_version": "1.1.0",
        "id": item_id,
        "geometry": None,
        "properties": {"datetime": "2024-01-01T00:00:00Z"},
        "links": [],
        "assets": {
            key: {"href": f"https://example.com/{item_id}/{key}.tif", "roles": ["data"], "title": key}
            for key in ("B02", "B03", "visual")
        },
    }


@pytest.fixture
def services(adapters: Adapters, tmp_path: Path) -> Services:
    built = bootstrap(Settings(data_dir=tmp_path / "unused"), adapters)
    built.catalogs.create({"id": CAT}, actor="setup")
    built.stac.create_collection(CAT, collection_doc(COL, license="other"), actor="setup")
    built.stac.create_items(CAT, COL, [_item(i) for i in ITEMS], actor="setup")
    return built


def by_id(services: Services, catalog_id: str = CAT, ids: tuple[str, ...] = ITEMS) -> dict[str, dict[str, Any]]:
    """The features of a search by ids as the STAC search answers it, checked against the general
    rendering of the same items (every asset document parsed and rendered)."""
    query = ItemQuery(catalog_ids=(catalog_id,), ids=ids, limit=len(ids))
    docs = services.stac.search_items(query).items
    general = orjson.dumps(services.stac.render_items(docs, LINKS))
    features = services.stac.search_item_features(query, LINKS)
    answered = orjson.dumps(features.items) if features is not None else None
    spliced = orjson.dumps(services.stac.render_items(docs, LINKS, spliced=True))
    assert spliced == general
    assert answered is None or answered == general
    return {f["id"]: f for f in orjson.loads(general)}


def _ids(services: Services) -> dict[str, str]:
    """Title -> asset id of item ``a``'s asset records."""
    scope = services.stac._item_scope(CAT, COL, "a", status=("active", "deleted"), limit=100)
    return {d["title"]: d["id"] for d in services.adapters.store.search_assets(scope).items if d.get("title")}


def add(services: Services) -> None:
    body = {"href": "https://example.com/a/B08.tif", "roles": ["data"], "title": "B08"}
    services.assets.create(Scope(CAT, COL, "a"), {"id": "a.B08", **body}, actor="t")


def update(services: Services) -> None:
    services.assets.patch(Scope(CAT, COL, "a"), _ids(services)["B03"], {"title": "green, again"}, actor="t")


def soft_delete(services: Services) -> None:
    services.assets.delete(Scope(CAT, COL, "a"), _ids(services)["B03"], actor="t")


def restore(services: Services) -> None:
    asset_id = _ids(services)["B03"]
    services.assets.delete(Scope(CAT, COL, "a"), asset_id, actor="t")
    by_id(services)
    services.assets.restore(Scope(CAT, COL, "a"), asset_id, actor="t")


def hard_delete(services: Services) -> None:
    asset_id = _ids(services)["B03"]
    services.adapters.store.delete_asset(CAT, asset_id, audit=audit(CAT, "asset", asset_id, "delete"))


def version_upload(services: Services) -> None:
    services.publish.clock = lambda: datetime(2025, 8, 11, 11, 12, 30, tzinfo=UTC)
    buffer = UploadBuffer(1 << 20)
    buffer.write(b'{"v": 1}')
    services.publish.publish(CAT, COL, "a", [PublishedFile("track.geojson", buffer)], None, actor="t")


def mirror_promotion(services: Services) -> None:
    blobs = services.adapters.blobs
    primary, mirror = f"{CAT}/{COL}/a/psl.nc", f"{CAT}/mirror/psl.nc"
    blobs.put(mirror, b"netcdf bytes")
    outcome = services.indexing.handle(StorageEvent.from_blob(blobs.put(primary, b"netcdf bytes")))
    assert outcome.asset_id is not None
    patch = {"alternate:name": "bucket", "alternate": {"mirror": {"href": blobs.href(mirror), "priority": 1}}}
    services.assets.patch(Scope(CAT, COL, "a"), outcome.asset_id, patch, actor="t")
    by_id(services)
    info = blobs.stat(primary)
    blobs.delete(primary)
    event = StorageEvent(kind="deleted", bucket=info.bucket, key=primary, generation=info.generation, size=info.size)
    assert services.indexing.handle(event).action == "promote"


def _titles(feature: dict[str, Any]) -> dict[str, Any]:
    return {key: asset.get("title") for key, asset in feature["assets"].items()}


CHANGES: dict[str, tuple[Callable[[Services], None], Callable[[dict[str, Any]], bool]]] = {
    "add": (add, lambda a: a["assets"]["a.B08"]["title"] == "B08" and len(a["assets"]) == 4),
    "update": (update, lambda a: "green, again" in _titles(a).values()),
    "soft delete": (soft_delete, lambda a: "B03" not in _titles(a).values() and len(a["assets"]) == 2),
    "restore": (restore, lambda a: "B03" in _titles(a).values() and len(a["assets"]) == 3),
    "hard delete": (hard_delete, lambda a: "B03" not in _titles(a).values() and len(a["assets"]) == 2),
    "version upload": (version_upload, lambda a: any("@2025-08-11T1112Z" in key for key in a["assets"])),
    "mirror promotion": (
        mirror_promotion,
        lambda a: any(x.get("alternate:name") == "mirror" for x in a["assets"].values()),
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_search_by_ids_shows_every_change_to_an_items_assets(services: Services, change: str) -> None:
    # GIVEN two items with three assets each, found by id once (what the page embeds is known)
    before = by_id(services)
    assert [len(before[i]["assets"]) for i in ITEMS] == [3, 3]
    # WHEN item a's assets change
    apply, shows = CHANGES[change]
    apply(services)
    # THEN the search by ids is still the general rendering and shows the change; b is unchanged
    after = by_id(services)
    assert shows(after["a"]), after["a"]["assets"]
    assert after["b"] == before["b"]


def test_a_hidden_item_comes_back_with_its_assets_in_a_search_by_ids(services: Services) -> None:
    # GIVEN an ESGF item published with its assets and found by id
    services.catalogs.create({"id": "esgf"}, actor="setup")
    services.stac.create_collection("esgf", collection_doc("cmip6", license="other"), actor="setup")

    def publish(name: str) -> None:
        body = json.loads((ESGF / f"{name}.json").read_text())
        services.stac_events.apply(parse_envelope(body), catalog_id="esgf", actor="publisher")

    publish("replace")
    shown = by_id(services, "esgf", (ESGF_ITEM,))[ESGF_ITEM]["assets"]
    assert shown
    # WHEN it is hidden (its assets soft-deleted), then shown again
    publish("soft_delete")
    assert by_id(services, "esgf", (ESGF_ITEM,)) == {}
    publish("restore")
    # THEN the search by ids embeds its assets again, as the general rendering does
    assert by_id(services, "esgf", (ESGF_ITEM,))[ESGF_ITEM]["assets"].keys() == shown.keys()
