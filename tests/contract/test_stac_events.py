"""ESGF publish envelopes (seed 003) and asset mirrors, on every backend.

The envelopes are the seed's, kept as JSON under ``tests/events/esgf/`` with a real CMIP6 STAC
record: POST replaces, PUT merge-patches, ``{"hidden": true}`` hides (restorable), DELETE removes
for good; a redelivered envelope changes nothing and leaves no second audit entry. A mirror takes
over when the primary object goes, and downloads fall back to it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from dynastore.bootstrap import Adapters, Services, bootstrap
from dynastore.config import Settings
from dynastore.domain.events import StorageEvent
from dynastore.domain.search import AssetQuery, ItemQuery
from dynastore.errors import NotFound
from dynastore.services.assets import Scope
from dynastore.services.stac_events import parse_envelope

from .conftest import Backend
from .helpers import collection_doc

ESGF = Path(__file__).resolve().parents[1] / "events" / "esgf"
CATALOG, COLLECTION = "esgf", "cmip6"
ITEM = "CMIP6.ScenarioMIP.UA.MCM-UA-1-0.ssp245.r1i1p1f2.Amon.psl.gn.v20190731"
DATA = f"{ITEM}.data0000"  # the asset record of the item's inline asset ``data0000``


def envelope(name: str, **time: str) -> Any:
    body = json.loads((ESGF / f"{name}.json").read_text())
    body["metadata"].update(time)
    return parse_envelope(body)


@pytest.fixture
def services(adapters: Adapters, tmp_path: Path) -> Services:
    services = bootstrap(Settings(data_dir=tmp_path / "unused"), adapters)
    services.catalogs.create({"id": CATALOG}, actor="setup")
    services.stac.create_collection(CATALOG, collection_doc(COLLECTION, license="other"), actor="setup")
    return services


def publish(services: Services, name: str, **time: str) -> Any:
    return services.stac_events.apply(envelope(name, **time), catalog_id=CATALOG, actor="publisher-key")


def item_audit(services: Services) -> list[dict[str, Any]]:
    return services.adapters.store.list_audit(CATALOG, record_type="item", record_id=ITEM, limit=1000).items


def visible_item_ids(services: Services) -> list[str]:
    page = services.adapters.store.search_items(ItemQuery(catalog_ids=(CATALOG,), collections=(COLLECTION,)))
    return [d["id"] for d in page.items]


def searchable_asset_ids(services: Services, q: str) -> list[str]:
    page = services.adapters.store.search_assets(AssetQuery(catalog_ids=(CATALOG,), q=q))
    return sorted(d["id"] for d in page.items)


def test_the_seed_replacement_creates_the_item_with_its_assets_and_mirrors(services: Services) -> None:
    # GIVEN the seed's replacement envelope with a CMIP6 record
    # WHEN it is applied
    result = publish(services, "replace")
    # THEN the item exists with its properties, and each inline asset is a record with its mirrors
    assert (result.outcome, result.action) == ("applied", "create")
    item = services.stac.get_item_doc(CATALOG, COLLECTION, ITEM)
    assert item["properties"]["cmip6:variable_id"] == "psl"
    data = services.adapters.store.get_asset(CATALOG, DATA)
    assert data["alternate:name"] == "LLNL" and sorted(data["alternate"]) == ["ALCF", "ORNL"]
    # AND the audit entry names the publisher and its time
    details = item_audit(services)[0]["details"]
    assert details["publisher"] == "esgf_publisher/1.1.1" and details["published"].startswith("2024-07-04T14:17:35")
    assert (
        services.adapters.store.list_audit(CATALOG, record_type="asset", record_id=DATA).items[0]["details"][
            "publisher"
        ]
        == "esgf_publisher/1.1.1"
    )


def test_redelivery_changes_nothing_and_leaves_no_second_audit_entry(services: Services) -> None:
    # GIVEN an applied replacement
    first = publish(services, "replace")
    entries = len(item_audit(services))
    rev = services.stac.get_item_doc(CATALOG, COLLECTION, ITEM)["rev"]
    # WHEN the same envelope arrives again
    again = publish(services, "replace")
    # THEN it is a duplicate: same event id, same item revision, no new audit entry
    assert again.outcome == "duplicate" and again.event_id == first.event_id
    assert services.stac.get_item_doc(CATALOG, COLLECTION, ITEM)["rev"] == rev
    assert len(item_audit(services)) == entries


def test_an_older_envelope_arriving_late_is_stale(services: Services) -> None:
    # GIVEN the item published at 14:17:35 and updated at 15:00
    publish(services, "replace")
    publish(services, "partial_update", time="2024-07-04T15:00:00Z")
    # WHEN a different envelope stamped earlier arrives
    late = publish(services, "soft_delete", time="2024-07-04T14:30:00Z")
    # THEN it is not applied: the item stays visible
    assert late.outcome == "stale"
    assert visible_item_ids(services) == [ITEM]


def test_the_seed_partial_update_merges_properties_and_assets(services: Services) -> None:
    # GIVEN the published item
    publish(services, "replace")
    # WHEN the seed's partial update arrives
    result = publish(services, "partial_update")
    # THEN the properties named change, the others stay, and the ALCF mirror of data0000 is removed
    assert (result.outcome, result.action) == ("applied", "update")
    props = services.stac.get_item_doc(CATALOG, COLLECTION, ITEM)["properties"]
    assert props["cmip6:retracted"] is True and props["cmip6:variable_id"] == "psl"
    data = services.adapters.store.get_asset(CATALOG, DATA)
    assert sorted(data["alternate"]) == ["ORNL"] and data["description"] == "HTTPS Link (two locations)"


def test_the_seed_soft_delete_hides_the_item_until_it_is_restored(services: Services) -> None:
    # GIVEN the published item, found by item search and asset search
    publish(services, "replace")
    assert visible_item_ids(services) == [ITEM] and DATA in searchable_asset_ids(services, "data0000")
    # WHEN the seed's soft delete arrives
    result = publish(services, "soft_delete")
    # THEN the item is gone for readers (404, not in search) and so are its assets
    assert result.action == "hide"
    with pytest.raises(NotFound):
        services.stac.get_item_doc(CATALOG, COLLECTION, ITEM)
    assert visible_item_ids(services) == [] and searchable_asset_ids(services, "data0000") == []
    # AND PUT {"hidden": false} brings back the item and its assets as they were
    back = publish(services, "restore")
    assert back.action == "unhide"
    assert services.stac.get_item_doc(CATALOG, COLLECTION, ITEM)["properties"]["cmip6:variable_id"] == "psl"
    assert visible_item_ids(services) == [ITEM] and DATA in searchable_asset_ids(services, "data0000")


def test_the_seed_hard_delete_removes_item_and_assets_and_keeps_the_trail(services: Services) -> None:
    # GIVEN the published item, hidden
    publish(services, "replace")
    publish(services, "soft_delete")
    # WHEN the seed's hard delete arrives (twice)
    result = publish(services, "hard_delete")
    again = publish(services, "hard_delete")
    # THEN the item and its asset records are gone, and the trail records one hard delete
    assert (result.action, result.details["assets_deleted"]) == ("hard_delete", 2)
    assert again.outcome == "duplicate"
    with pytest.raises(NotFound):
        services.adapters.store.get_asset(CATALOG, DATA)
    assert [e["action"] for e in item_audit(services)].count("hard_delete") == 1


# ------------------------------------------------------------------------------ mirrors


def stored_asset_with_mirror(services: Services) -> tuple[str, str, str]:
    """An item asset indexed from an object of the catalog, with another object (priority 1) and an
    https URL (priority 2) as mirrors."""
    publish(services, "replace")
    blobs = services.adapters.blobs
    primary, mirror = f"{CATALOG}/{COLLECTION}/{ITEM}/psl.nc", f"{CATALOG}/mirror/psl.nc"
    blobs.put(mirror, b"netcdf bytes")
    outcome = services.indexing.handle(StorageEvent.from_blob(blobs.put(primary, b"netcdf bytes")))
    assert outcome.asset_id is not None
    patch = {
        "title": "Sea level pressure",
        "alternate:name": "bucket",
        "alternate": {
            "ALCF": {"href": "https://eagle.alcf.anl.gov/psl.nc", "priority": 2},
            "mirror": {"href": blobs.href(mirror), "priority": 1},
        },
    }
    services.assets.patch(Scope(CATALOG, COLLECTION, ITEM), outcome.asset_id, patch, actor="setup")
    return outcome.asset_id, primary, mirror


def test_a_deleted_primary_object_promotes_the_first_mirror(services: Services) -> None:
    # GIVEN an asset whose primary object has two mirrors (priority 1: another object, 2: https)
    asset_id, primary, mirror = stored_asset_with_mirror(services)
    blobs = services.adapters.blobs
    info = blobs.stat(primary)
    # WHEN its primary object is deleted and the storage event arrives
    blobs.delete(primary)
    outcome = services.indexing.handle(
        StorageEvent(kind="deleted", bucket=info.bucket, key=primary, generation=info.generation, size=info.size)
    )
    # THEN the priority-1 mirror is the href; the asset keeps its id, stays active and searchable
    assert outcome.action == "promote"
    doc = services.adapters.store.get_asset(CATALOG, asset_id)
    assert doc["status"] == "active" and doc["href"] == blobs.href(mirror) and doc["alternate:name"] == "mirror"
    # AND the old primary is kept as an unavailable mirror, and the trail records the promotion
    assert doc["alternate"]["bucket"]["unavailable"] is True and doc["alternate"]["bucket"]["href"] == blobs.href(
        primary
    )
    assert searchable_asset_ids(services, "sea level") == [asset_id]
    trail = services.adapters.store.list_audit(CATALOG, record_type="asset", record_id=asset_id).items
    assert [e["action"] for e in trail][:2] == ["promote", "update"]
    assert trail[0]["details"]["from_href"] == blobs.href(primary)


def test_the_reconciler_finding_the_primary_missing_promotes_a_mirror(services: Services) -> None:
    # GIVEN an asset indexed from its primary object, with a mirror
    asset_id, primary, mirror = stored_asset_with_mirror(services)
    # WHEN the object goes without an event and the reconciler runs
    services.adapters.blobs.delete(primary)
    services.lifecycle.reconciler.run(catalog_id=CATALOG)
    # THEN the mirror was promoted; the asset is active
    doc = services.adapters.store.get_asset(CATALOG, asset_id)
    assert doc["status"] == "active" and doc["href"] == services.adapters.blobs.href(mirror)


def test_download_falls_back_to_a_mirror_when_the_primary_object_is_missing(services: Services) -> None:
    # GIVEN an asset whose primary object is gone (no event seen yet)
    asset_id, primary, mirror = stored_asset_with_mirror(services)
    services.adapters.blobs.delete(primary)
    # WHEN it is downloaded
    doc, key, _url = services.assets.download_target(Scope(CATALOG, COLLECTION, ITEM), asset_id)
    # THEN the mirror's object is served
    assert key == mirror and doc["id"] == asset_id


def test_without_any_usable_location_download_names_what_it_tried(services: Services) -> None:
    # GIVEN an asset whose primary and mirror objects are both gone, and an https mirror not allowed
    asset_id, primary, mirror = stored_asset_with_mirror(services)
    services.adapters.blobs.delete(primary)
    services.adapters.blobs.delete(mirror)
    services.assets.patch(
        Scope(CATALOG, COLLECTION, ITEM), asset_id, {"alternate": {"ALCF": {"href": "http://10.0.0.1/x"}}}, actor="t"
    )
    # WHEN it is downloaded THEN NotFound lists each location
    with pytest.raises(NotFound) as caught:
        services.assets.download_target(Scope(CATALOG, COLLECTION, ITEM), asset_id)
    assert "object missing" in caught.value.detail and "10.0.0.1" in caught.value.detail


def test_a_hidden_item_hard_deleted_still_leaves_its_trail(services: Services) -> None:
    # GIVEN a hidden item (no item record, its assets soft-deleted)
    publish(services, "replace")
    publish(services, "soft_delete")
    data = copy.deepcopy(services.adapters.store.get_asset(CATALOG, DATA))
    assert data["status"] == "deleted"
    # WHEN it is hard-deleted THEN its trail ends with the hard delete
    publish(services, "hard_delete")
    assert item_audit(services)[0]["action"] == "hard_delete"


def test_an_envelope_consumed_from_the_queue_twice_is_applied_once(services: Services, backend: Backend) -> None:
    # GIVEN the seed's replacement envelope sent twice on the backend's queue (at-least-once delivery)
    body = json.loads((ESGF / "replace.json").read_text())
    services.adapters.queue.enqueue("esgf-events", body)
    services.adapters.queue.enqueue("esgf-events", body)
    # WHEN a consumer hands each delivered message to the one service entry point
    results = [
        services.stac_events.handle_message(message, catalog_id=CATALOG) for message in backend.deliver("esgf-events")
    ]
    # THEN it was applied once, the second is a duplicate, and the item's trail holds one entry
    assert [r.outcome for r in results if r is not None] == ["applied", "duplicate"]
    assert [e["action"] for e in item_audit(services)] == ["create"]
    assert item_audit(services)[0]["actor"] == "queue:esgf"


def test_an_envelope_that_can_never_apply_is_dropped_by_the_queue_consumer(services: Services) -> None:
    # GIVEN an envelope for a collection the catalog does not have, and one that is not JSON
    body = json.loads((ESGF / "replace.json").read_text())
    body["data"]["payload"]["collection_id"] = "cmip5"
    body["data"]["payload"]["item"]["collection"] = "cmip5"
    # WHEN consumed THEN both are dropped (None), not raised for endless redelivery
    assert services.stac_events.handle_message(body, catalog_id=CATALOG) is None
    assert services.stac_events.handle_message(b"{not json", catalog_id=CATALOG) is None


def test_hiding_a_hidden_item_again_changes_nothing(services: Services) -> None:
    # GIVEN a hidden item
    publish(services, "replace")
    publish(services, "soft_delete")
    # WHEN another publisher's envelope hides it again (another event id)
    again = services.stac_events.apply(
        envelope("soft_delete", event_id="another-publisher-event"), catalog_id=CATALOG, actor="other"
    )
    # THEN it stays hidden with one hide entry, and one restore brings it back
    assert (again.outcome, again.action) == ("applied", "hide")
    assert [e["action"] for e in item_audit(services)].count("hide") == 1
    assert publish(services, "restore").action == "unhide" and visible_item_ids(services) == [ITEM]
