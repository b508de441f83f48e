"""IndexingService contract: storage events → assets, on every backend.

Events are at least once and out of order: duplicates change nothing, an older generation never
overwrites a newer one, a deleted generation is not brought back, a delete marks the asset
missing, and a delete + finalize of the same bytes is a move.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pystac
import pytest

from dynastore.bootstrap import Adapters
from dynastore.domain.events import StorageEvent, asset_id_for_key
from dynastore.domain.search import AssetQuery
from dynastore.errors import NotFound
from dynastore.services import mediatypes

from .indexing_support import Indexing, comparable_state, geotiff_bytes, make_indexing

KEY = "demo/s2/scene-1/B04.tif"


@pytest.fixture
def ix(adapters: Adapters, tmp_path: Path) -> Indexing:
    return make_indexing(adapters, tmp_path)


def test_first_file_starts_a_project_catalog_collection_item_and_asset(ix: Indexing, tmp_path: Path) -> None:
    # GIVEN an empty service and a GeoTIFF with custom object metadata
    data = geotiff_bytes(tmp_path)
    metadata = {"roles": "data,reflectance", "title": "Band 4", "datetime": "2024-05-01T10:30:00Z",
                "cloud_cover": "12.5"}
    # WHEN its finalize event arrives
    outcome = ix.indexing.handle(ix.finalize(KEY, data, metadata))
    # THEN the asset has everything storage knows, in the item scope the key says
    assert (outcome.status, outcome.action) == ("indexed", "index")
    asset = ix.adapters.store.get_asset("demo", asset_id_for_key(KEY))
    assert asset["status"] == "active"
    assert (asset["collection_id"], asset["item_id"]) == ("s2", "scene-1")
    assert asset["href"] == ix.adapters.blobs.href(KEY)
    assert asset["type"] == mediatypes.GEOTIFF
    assert asset["file:size"] == len(data)
    assert asset["file:checksum"] == "1220" + hashlib.sha256(data).hexdigest()
    assert asset["storage"]["key"] == KEY and asset["storage"]["generation"] == ix.adapters.blobs.stat(KEY).generation
    assert asset["roles"] == ["data", "reflectance"] and asset["title"] == "Band 4"
    assert asset["datetime"].startswith("2024-05-01T10:30:00")
    assert asset["metadata"] == {"cloud_cover": 12.5}
    # AND catalog, collection and item exist (valid STAC), created with nothing else to do
    catalog = ix.adapters.store.get_catalog("demo")
    assert catalog["status"] == "active" and catalog["storage"]["prefix"] == "demo/"
    collection = ix.adapters.store.get_collection("demo", "s2")
    pystac.Collection.from_dict({k: v for k, v in collection.items() if k not in ("catalog_id", "rev")})
    item = ix.adapters.store.get_item("demo", "s2", "scene-1")
    stac_item = pystac.Item.from_dict({k: v for k, v in item.items() if k not in ("catalog_id", "rev")})
    assert stac_item.collection_id == "s2"
    # AND the key's ingest record says it was indexed, as which asset
    record = ix.record(KEY)
    assert (record.status, record.asset_id, record.catalog_id) == ("indexed", asset["id"], "demo")


@pytest.mark.parametrize(
    ("key", "collection", "item"),
    [
        ("demo/readme.pdf", None, None),
        ("demo/s2/guide.pdf", "s2", None),
        ("demo/s2/scene-9/qa/mask.pdf", "s2", "scene-9"),
    ],
)
def test_the_key_says_the_level(ix: Indexing, key: str, collection: str | None, item: str | None) -> None:
    ix.indexing.handle(ix.finalize(key, b"%PDF-1.4\n%%EOF\n"))
    asset = ix.asset_for(key)
    assert (asset["collection_id"], asset["item_id"]) == (collection, item)
    assert asset["storage"]["key"] == key and asset["type"] == mediatypes.PDF


def test_the_same_event_twice_leaves_one_asset_and_one_audit_entry(ix: Indexing) -> None:
    event = ix.finalize(KEY, b"II*\x00 some bytes")
    first = ix.indexing.handle(event)
    second = ix.indexing.handle(event)
    # a redelivery under another id (another subscription, a replay) changes nothing either
    third = ix.indexing.handle(event.model_copy(update={"event_id": "redelivered-1"}))
    assert [first.status, second.status, third.status] == ["indexed", "duplicate", "unchanged"]
    assert len(ix.assets()) == 1
    assert ix.history("demo", first.asset_id or "") == ["index"]


def test_an_older_generation_never_overwrites_a_newer_one(ix: Indexing) -> None:
    # GIVEN two versions of one object, their events delivered newest first
    old = ix.finalize(KEY, b"version one", {"title": "v1"})
    new = ix.finalize(KEY, b"version two!", {"title": "v2"})
    ix.indexing.handle(new)
    outcome = ix.indexing.handle(old)
    # THEN the record keeps the newer generation
    assert outcome.status == "stale"
    asset = ix.asset_for(KEY)
    assert asset["storage"]["generation"] == new.generation
    assert asset["title"] == "v2" and asset["file:size"] == len(b"version two!")
    assert asset["file:checksum"] == "1220" + hashlib.sha256(b"version two!").hexdigest()


def test_a_newer_generation_updates_the_same_asset(ix: Indexing) -> None:
    first = ix.indexing.handle(ix.finalize(KEY, b"version one"))
    second = ix.indexing.handle(ix.finalize(KEY, b"version two, longer"))
    assert (second.status, second.action, second.asset_id) == ("indexed", "update", first.asset_id)
    assert ix.asset_for(KEY)["file:size"] == len(b"version two, longer")
    assert ix.history("demo", first.asset_id or "") == ["index", "update"]


def test_a_late_finalize_after_its_delete_does_not_resurrect(ix: Indexing) -> None:
    # GIVEN a catalog, and a file created then deleted, the delete delivered before the finalize
    ix.indexing.handle(ix.finalize("demo/readme.pdf", b"%PDF-1.4"))
    created = ix.finalize(KEY, b"short-lived")
    deleted = ix.delete(KEY)
    assert ix.indexing.handle(deleted).status == "deleted"
    late = ix.indexing.handle(created)
    # THEN no active asset appears, and the key's record remembers the delete
    assert late.status in ("stale", "skipped")
    assert [a["storage"]["key"] for a in ix.assets(statuses=("active",))] == ["demo/readme.pdf"]
    assert ix.record(KEY).status == "deleted"


def test_delete_marks_missing_hidden_from_default_search(ix: Indexing) -> None:
    indexed = ix.indexing.handle(ix.finalize(KEY, b"bytes"))
    outcome = ix.indexing.handle(ix.delete(KEY))
    assert (outcome.status, outcome.action) == ("deleted", "missing")
    asset = ix.adapters.store.get_asset("demo", indexed.asset_id or "")
    assert asset["status"] == "missing" and asset["deleted_at"]
    store = ix.adapters.store
    assert store.count_assets(AssetQuery(catalog_ids=("demo",))) == 0
    assert store.count_assets(AssetQuery(catalog_ids=("demo",), status=("missing",))) == 1
    # a finalize redelivered after the delete does not bring it back
    assert ix.indexing.handle(StorageEvent.from_blob(ix.adapters.blobs.put("demo/other.pdf", b"x"))).status == "indexed"
    assert ix.adapters.store.get_asset("demo", indexed.asset_id or "")["status"] == "missing"
    assert ix.history("demo", indexed.asset_id or "") == ["index", "missing"]


def test_a_delete_of_an_object_that_exists_again_changes_nothing(ix: Indexing) -> None:
    ix.indexing.handle(ix.finalize(KEY, b"one"))
    deleted = ix.delete(KEY)
    ix.indexing.handle(ix.finalize(KEY, b"two"))  # re-uploaded before the delete was delivered
    assert ix.indexing.handle(deleted).status == "stale"
    assert ix.asset_for(KEY)["status"] == "active"


def test_a_new_upload_after_a_delete_reactivates_the_asset(ix: Indexing) -> None:
    first = ix.indexing.handle(ix.finalize(KEY, b"one"))
    ix.indexing.handle(ix.delete(KEY))
    again = ix.indexing.handle(ix.finalize(KEY, b"two"))
    assert again.asset_id == first.asset_id
    assert ix.asset_for(KEY)["status"] == "active"


def test_metadata_update_refreshes_the_fields(ix: Indexing) -> None:
    ix.indexing.handle(ix.finalize(KEY, b"bytes", {"title": "first", "tags": "a"}))
    info = ix.put(KEY, b"bytes", {"title": "second", "tags": "a,b", "description": "now described"})
    outcome = ix.indexing.handle(StorageEvent.from_blob(info, kind="metadata-updated"))
    assert outcome.status == "indexed"
    asset = ix.asset_for(KEY)
    assert (asset["title"], asset["tags"], asset["description"]) == ("second", ["a", "b"], "now described")


def test_move_delete_then_finalize_keeps_id_and_history(ix: Indexing, tmp_path: Path) -> None:
    # GIVEN an indexed file
    data = geotiff_bytes(tmp_path, seed=3)
    first = ix.indexing.handle(ix.finalize(KEY, data, {"title": "kept"}))
    # WHEN it is moved to another item folder (delete, then create of the same bytes)
    target = "demo/s2/scene-2/B04.tif"
    ix.indexing.handle(ix.delete(KEY))
    moved = ix.indexing.handle(ix.finalize(target, data))
    # THEN it is the same asset, with the new href and item link and its whole history
    assert (moved.action, moved.asset_id) == ("move", first.asset_id)
    asset = ix.adapters.store.get_asset("demo", first.asset_id or "")
    assert asset["status"] == "active" and asset["href"] == ix.adapters.blobs.href(target)
    assert (asset["item_id"], asset["storage"]["key"], asset["title"]) == ("scene-2", target, "kept")
    assert ix.history("demo", first.asset_id or "") == ["index", "missing", "move"]
    assert len(ix.assets()) == 1
    assert ix.record(target).asset_id == first.asset_id
    assert ix.adapters.store.get_item("demo", "s2", "scene-2")["id"] == "scene-2"


def test_move_copy_then_delete_keeps_id_and_history(ix: Indexing, tmp_path: Path) -> None:
    # GIVEN an indexed file copied elsewhere (indexed as a new asset), then the original deleted
    data = geotiff_bytes(tmp_path, seed=4)
    first = ix.indexing.handle(ix.finalize(KEY, data))
    target = "demo/s2/scene-3/B04.tif"
    ix.indexing.handle(ix.finalize(target, data))
    merged = ix.indexing.handle(ix.delete(KEY))
    # THEN the original asset took over the new location; only one active asset remains
    assert (merged.action, merged.asset_id) == ("move", first.asset_id)
    active = ix.assets(statuses=("active",))
    assert [a["id"] for a in active] == [first.asset_id]
    assert active[0]["storage"]["key"] == target and active[0]["item_id"] == "scene-3"
    assert ix.record(target).asset_id == first.asset_id
    assert ix.history("demo", first.asset_id or "")[-1] == "move"


def test_moves_only_within_the_window(adapters: Adapters, tmp_path: Path) -> None:
    ix = make_indexing(adapters, tmp_path, move_window_seconds=0)
    first = ix.indexing.handle(ix.finalize(KEY, b"same bytes"))
    ix.indexing.handle(ix.delete(KEY))
    other = ix.indexing.handle(ix.finalize("demo/s2/scene-2/B04.tif", b"same bytes"))
    assert other.asset_id != first.asset_id and other.action == "index"


def test_sidecar_after_its_file_is_applied(ix: Indexing) -> None:
    ix.indexing.handle(ix.finalize(KEY, b"bytes", {"title": "from object metadata"}))
    before = ix.asset_for(KEY)
    sidecar = {"title": "from sidecar", "roles": ["data", "visual"], "start_datetime": "2024-01-01T00:00:00Z",
               "end_datetime": "2024-01-31T23:59:59Z", "platform": "sentinel-2b", "eo:bands": [{"name": "B04"}]}
    outcome = ix.indexing.handle(ix.sidecar(KEY, sidecar))
    assert outcome.status == "indexed"
    asset = ix.asset_for(KEY)
    assert asset["title"] == "from sidecar" and asset["roles"] == ["data", "visual"]
    assert asset["start_datetime"].startswith("2024-01-01") and asset["end_datetime"].startswith("2024-01-31")
    assert asset["metadata"]["platform"] == "sentinel-2b" and asset["eo:bands"] == [{"name": "B04"}]
    # the sidecar itself is not an asset
    assert len(ix.assets()) == 1
    # the change is newer than the first version, so an incremental export since then sees it
    assert asset["updated"] > before["updated"]
    assert [d["id"] for d in ix.adapters.store.export_assets("demo", since=asset["updated"])] == [asset["id"]]
    assert ix.record(KEY + ".meta.json").status == "indexed"


def test_sidecar_before_its_file_waits_for_it(ix: Indexing) -> None:
    early = ix.indexing.handle(ix.sidecar(KEY, {"title": "described early"}))
    assert early.status == "skipped" and "waiting" in (ix.record(KEY + ".meta.json").error or "")
    ix.indexing.handle(ix.finalize(KEY, b"bytes"))
    assert ix.asset_for(KEY)["title"] == "described early"


def test_a_broken_sidecar_is_a_visible_failure_and_the_file_is_still_indexed(ix: Indexing) -> None:
    ix.indexing.handle(ix.finalize(KEY, b"bytes"))
    ix.adapters.blobs.put(KEY + ".meta.json", b"{not json")
    outcome = ix.indexing.handle(StorageEvent.from_blob(ix.adapters.blobs.stat(KEY + ".meta.json")))
    record = ix.record(KEY + ".meta.json")
    assert record.status == "failed" and "not valid JSON" in (record.error or "")
    assert outcome.asset_id and ix.asset_for(KEY)["status"] == "active"


def test_invalid_metadata_values_are_dropped_with_a_warning(ix: Indexing) -> None:
    ix.indexing.handle(ix.finalize(KEY, b"bytes", {"datetime": "yesterday-ish", "title": "ok"}))
    asset = ix.asset_for(KEY)
    assert asset["title"] == "ok" and asset["datetime"] is None
    assert "datetime" in (ix.record(KEY).error or "")


def test_failures_are_recorded_never_dropped(ix: Indexing) -> None:
    outcome = ix.indexing.handle(ix.finalize("loose-file.pdf", b"%PDF-1.4"))
    assert outcome.status == "failed"
    record = ix.record("loose-file.pdf")
    assert record.status == "failed" and "catalog folder" in (record.error or "")
    bad = ix.indexing.handle(ix.finalize("Not A Catalog/x.pdf", b"%PDF-1.4"))
    assert bad.status == "failed" and ix.record("Not A Catalog/x.pdf").status == "failed"


def test_files_of_a_retired_catalog_are_not_indexed(ix: Indexing) -> None:
    ix.indexing.handle(ix.finalize("demo/readme.pdf", b"%PDF-1.4"))
    ix.catalogs.retire("demo", actor="test")
    ix.indexing._cache.seen.clear()  # another process would see the retirement within a second
    outcome = ix.indexing.handle(ix.finalize("demo/late.pdf", b"%PDF-1.4"))
    assert outcome.status == "skipped"
    with pytest.raises(NotFound):
        ix.adapters.store.get_asset("demo", asset_id_for_key("demo/late.pdf"))


def test_replaying_every_event_twice_shuffled_equals_the_ordered_run(ix: Indexing, tmp_path: Path) -> None:
    # GIVEN a scenario: uploads at three levels, overwrites, metadata changes, sidecars, deletes,
    # a re-upload and a move; and the events storage reported along the way
    events: list[StorageEvent] = []
    events.append(ix.finalize("demo/readme.pdf", b"%PDF-1.4 readme"))
    events.append(ix.finalize("demo/s2/guide.pdf", b"%PDF-1.4 guide", {"title": "Guide"}))
    for n in range(4):
        events.append(ix.finalize(f"demo/s2/scene-{n}/B04.tif", geotiff_bytes(tmp_path, seed=n), {"roles": "data"}))
    events.append(ix.finalize("demo/s2/scene-0/B04.tif", geotiff_bytes(tmp_path, seed=10), {"title": "v2"}))
    events.append(ix.sidecar("demo/s2/scene-1/B04.tif", {"title": "described", "cloud": 3}))
    info = ix.put("demo/s2/scene-2/B04.tif", geotiff_bytes(tmp_path, seed=2), {"title": "retitled"})
    events.append(StorageEvent.from_blob(info, kind="metadata-updated"))
    events.append(ix.delete("demo/s2/scene-3/B04.tif"))
    events.append(ix.finalize("demo/s2/scene-3/B04.tif", geotiff_bytes(tmp_path, seed=33)))
    events.append(ix.delete("demo/s2/guide.pdf"))
    events.append(ix.finalize("other/notes.csv", b"a,b\n1,2\n"))
    keys = sorted({e.key for e in events})

    # WHEN the events are applied in order
    for event in events:
        ix.indexing.handle(event)
    ordered = comparable_state(ix, ("demo", "other"), keys)
    assert ordered["demo"]["assets"], "the scenario indexed nothing"

    # AND, on an empty store, every event twice, shuffled (delivered under fresh ids, as a replay)
    for catalog_id in ("demo", "other"):
        while ix.adapters.store.purge_catalog(catalog_id):
            pass
    ix.indexing._cache.seen.clear()
    replay = [e.model_copy(update={"event_id": f"replay-{i}"}) for i, e in enumerate(events)] * 2
    random.Random(7).shuffle(replay)
    for event in replay:
        ix.indexing.handle(event)
    shuffled = comparable_state(ix, ("demo", "other"), keys)

    # THEN the database holds exactly the same
    assert shuffled == ordered
