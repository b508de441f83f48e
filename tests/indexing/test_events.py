"""Storage events from real payloads (through the backends' production parsers), the key convention,
ids, sidecars and ordering (pure)."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from dynastore.backends.aws.events import s3_record_event
from dynastore.backends.gcp.events import from_cloudevent, notification_event, object_event
from dynastore.domain import storage
from dynastore.domain.events import StorageEvent
from dynastore.domain.ids import check_id
from dynastore.errors import Invalid

EVENTS = Path(__file__).resolve().parents[1] / "events"
CONTENT = (EVENTS / "B04.bin").read_bytes()


def load(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def cloudevent(name: str) -> StorageEvent:
    event = from_cloudevent(load(name))
    assert event is not None
    return event


def notification(name: str) -> StorageEvent:
    event = notification_event(load(name)["message"])
    assert event is not None
    return event


def test_cloud_storage_finalize_cloudevent() -> None:
    # GIVEN the CloudEvent Eventarc delivers when an object is finalized
    event = cloudevent("gcs_cloudevent_finalized.json")
    # THEN every field indexing needs is there, digests as hex
    assert event.kind == "finalized"
    assert (event.bucket, event.key) == ("dynastore-landing-demo", "demo/s2/scene-1/B04.tif")
    assert (event.generation, event.metageneration) == ("1716912345678901", "1")
    assert event.size == len(CONTENT)
    assert event.md5 == hashlib.md5(CONTENT).hexdigest()
    assert event.crc32c is not None and len(event.crc32c) == 8
    assert event.content_type == "image/tiff"
    assert event.metadata["title"] == "Band 4 (red)"
    assert event.event_id == "10947856542364011"
    assert event.event_time == "2024-05-28T16:05:45.702925Z"


def test_cloud_storage_metadata_update_and_delete_cloudevents() -> None:
    updated = cloudevent("gcs_cloudevent_metadata_updated.json")
    deleted = cloudevent("gcs_cloudevent_deleted.json")
    assert updated.kind == "metadata-updated" and updated.metageneration == "2"
    assert deleted.kind == "deleted" and deleted.generation == "1716912345678901" and not deleted.replaced


def test_cloud_storage_pubsub_notifications() -> None:
    finalize = notification("gcs_pubsub_finalize.json")
    overwritten = notification("gcs_pubsub_delete_overwritten.json")
    assert finalize.kind == "finalized" and finalize.key == "demo/s2/scene-1/B04.tif"
    assert finalize.md5 == hashlib.md5(CONTENT).hexdigest()
    # the event id of a notification is its Pub/Sub message id, the rule of every delivery path
    assert finalize.event_id == "pubsub:11125730541372934"
    # a delete caused by an overwrite says so: the new generation's finalize updates the asset
    assert overwritten.kind == "deleted" and overwritten.replaced


def test_s3_records() -> None:
    created = s3_record_event(load("s3_object_created.json")["Records"][0])
    removed = s3_record_event(load("s3_object_removed.json")["Records"][0])
    # keys arrive URL-encoded with + for spaces
    assert created.key == "demo/s2/scene 1/B04 (1).tif"
    assert created.kind == "finalized" and created.md5 == hashlib.md5(CONTENT).hexdigest()
    assert removed.kind == "deleted"
    # S3 orders events of one key by sequencer
    assert storage.compare_generations(None, None, seq_a=removed.sequencer, seq_b=created.sequencer) == 1


def test_unknown_event_types_are_rejected() -> None:
    with pytest.raises(Invalid):
        object_event({"bucket": "b", "name": "k"}, event_type="google.cloud.storage.object.v1.unknown")
    with pytest.raises(Invalid):
        s3_record_event({"eventName": "ObjectRestore:Post"})


def test_same_change_reported_twice_has_one_event_id() -> None:
    a = StorageEvent(kind="finalized", bucket="b", key="demo/x.pdf", generation="7")
    b = StorageEvent(kind="finalized", bucket="b", key="demo/x.pdf", generation="7")
    c = StorageEvent(kind="finalized", bucket="b", key="demo/x.pdf", generation="8")
    assert a.event_id == b.event_id != c.event_id


@pytest.mark.parametrize(
    ("key", "catalog", "collection", "item", "path", "level"),
    [
        ("demo/readme.pdf", "demo", None, None, "readme.pdf", "catalog"),
        ("demo/s2/guide.pdf", "demo", "s2", None, "guide.pdf", "collection"),
        ("demo/s2/scene-1/B04.tif", "demo", "s2", "scene-1", "B04.tif", "item"),
        ("demo/s2/scene-1/qa/masks/cloud.tif", "demo", "s2", "scene-1", "qa/masks/cloud.tif", "item"),
    ],
)
def test_key_convention(
    key: str, catalog: str, collection: str | None, item: str | None, path: str, level: str
) -> None:
    scope = storage.parse_key(key)
    assert (scope.catalog_id, scope.collection_id, scope.item_id, scope.path, scope.level) == (
        catalog,
        collection,
        item,
        path,
        level,
    )
    assert scope.key == key  # the asset keeps its full key


def test_folders_that_are_not_ids_become_deterministic_ids() -> None:
    scope = storage.parse_key("demo/Sentinel 2/scene #1/B04.tif")
    assert scope.collection_id == storage.parse_key("demo/Sentinel 2/other.pdf").collection_id
    check_id(scope.collection_id or "")
    check_id(scope.item_id or "")


@pytest.mark.parametrize("key", ["readme.pdf", "Bad Catalog/x.tif", "demo//x.tif", "demo/../x.tif", "demo/dir/"])
def test_keys_that_cannot_hold_an_asset_say_why(key: str) -> None:
    with pytest.raises(Invalid) as caught:
        storage.parse_key(key)
    assert caught.value.detail


def test_asset_ids_are_deterministic_url_safe_and_distinct() -> None:
    keys = ["demo/s2/scene-1/B04.tif", "demo/s2/scene-1/B04 (copy).tif", "demo/s2/scene-2/B04.tif", "demo/readme.pdf"]
    ids = [storage.asset_id_for_key(k) for k in keys]
    assert ids == [storage.asset_id_for_key(k) for k in keys]
    assert len(set(ids)) == len(ids)
    for asset_id in ids:
        check_id(asset_id)
    assert storage.asset_id_for_key("demo/readme.pdf") == "readme.pdf"  # readable where it can be


def test_sidecar_names() -> None:
    assert storage.sidecar_key("demo/s2/scene-1/B04.tif") == "demo/s2/scene-1/B04.tif.meta.json"
    assert storage.is_sidecar("demo/s2/scene-1/B04.tif.meta.json")
    assert not storage.is_sidecar("demo/s2/scene-1/.meta.json") and not storage.is_sidecar("demo/s2/meta.json")
    assert storage.sidecar_target("demo/s2/scene-1/B04.tif.meta.json") == "demo/s2/scene-1/B04.tif"


@pytest.mark.parametrize(
    ("key", "ignored"),
    [
        ("demo/s2/scene-1/B04.tif", False),
        ("demo/s2/cube.zarr/.zarray", False),
        ("demo/s2/cube.zarr/.zmetadata", False),
        ("demo/.git/config", True),
        ("demo/s2/.DS_Store", True),
        ("demo/s2/~$report.docx", True),
        ("demo/s2/B04.tif.part", True),
        ("demo/s2/B04.tif.tmp", True),
        ("demo/s2/.hidden", True),
    ],
)
def test_temporary_and_hidden_files_are_ignored(key: str, ignored: bool) -> None:
    assert (storage.ignored_reason(key) is not None) is ignored


def test_generation_order() -> None:
    assert storage.compare_generations("9", "10") == -1  # numbers, not strings
    assert storage.compare_generations("10", "10") == 0
    assert storage.compare_generations("etag-a", "etag-a") == 0
    assert storage.compare_generations("etag-a", "etag-b") is None  # opaque tokens cannot be ordered
    assert storage.compare_generations(None, "1") is None
    assert storage.compare_generations(None, None, seq_a="0A", seq_b="009") == 1


def test_an_s3_change_notified_twice_has_one_event_id_and_a_new_change_another() -> None:
    record = load("s3_object_created.json")["Records"][0]
    # GIVEN the same S3 change notified twice, each time with its own request id (S3 may do that)
    twice = copy.deepcopy(record)
    twice["responseElements"] = {"x-amz-request-id": "ANOTHER-REQUEST"}
    # AND a later change of the same key (a higher sequencer)
    later = copy.deepcopy(record)
    later["s3"]["object"]["sequencer"] = "FFFFFFFFFFFFFFFFFF"
    first, again, newer = (s3_record_event(r) for r in (record, twice, later))
    # THEN the id is the key and sequencer: one for both notifications, another for the new change
    assert first.event_id == again.event_id == f"s3:{first.bucket}/{first.key}@{first.sequencer}"
    assert newer.event_id != first.event_id
