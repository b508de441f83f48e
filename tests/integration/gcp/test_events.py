"""CloudEvents from Cloud Storage (Eventarc) and Pub/Sub notifications → StorageEvent.

The payloads are the files under ``tests/events/gcp/`` (see its README).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import CloudEvent

from dynastore.backends.gcp.events import from_cloudevent, notification_event, storage_event
from dynastore.errors import Invalid

EVENTS = Path(__file__).resolve().parents[2] / "events" / "gcp"


def load(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


def cloudevent(name: str) -> CloudEvent:
    body = load(name)
    data = body.pop("data")
    return CloudEvent(body, data)


def test_eventarc_finalized_becomes_a_finalized_storage_event() -> None:
    event = from_cloudevent(cloudevent("storage.object.v1.finalized.json"))
    assert event is not None
    assert (event.kind, event.bucket, event.key) == ("finalized", "dynastore-landing", "demo/s2/scene-1/B04.tif")
    assert event.generation == "1716220800123456" and event.metageneration == "1"
    assert event.size == 1048576 and event.content_type == "image/tiff"
    assert event.md5 == "5d41402abc4b2a76b9719d911017c592"  # base64 → hex
    assert event.crc32c == "9a71bb4c"
    assert event.metadata == {"roles": "data", "title": "Band 4 (red)"}
    assert event.event_id == "9876543210123456"


def test_eventarc_deleted_and_metadata_updated() -> None:
    deleted = from_cloudevent(cloudevent("storage.object.v1.deleted.json"))
    assert deleted is not None and deleted.kind == "deleted" and not deleted.replaced
    updated = from_cloudevent(cloudevent("storage.object.v1.metadataUpdated.json"))
    assert updated is not None and updated.kind == "metadata-updated" and updated.metageneration == "2"


def test_pubsub_notification_in_a_messagepublished_cloudevent() -> None:
    event = from_cloudevent(cloudevent("pubsub.messagePublished.object_finalize.json"))
    assert event is not None
    assert (event.kind, event.bucket, event.key, event.generation) == (
        "finalized",
        "dynastore-landing",
        "demo/s2/scene-1/B04.tif",
        "1716220800123456",
    )
    assert event.event_id == "pubsub:11223344556677"
    assert event.metadata["roles"] == "data"


def test_a_delete_caused_by_an_overwrite_is_marked_replaced() -> None:
    event = from_cloudevent(cloudevent("pubsub.messagePublished.object_delete_overwritten.json"))
    assert event is not None and event.kind == "deleted" and event.replaced


def test_the_fake_gcs_notification_of_the_emulated_chain() -> None:
    push = load("fake-gcs-notification.json")
    event = notification_event(push["message"])
    assert event is not None
    assert (event.kind, event.key) == ("finalized", "demo/s2/scene-1/B04.tif")
    assert event.size == 104 and event.metadata == {"roles": "data"}
    # AND the raw push body is what functions-framework wraps into a messagePublished CloudEvent
    raw = load("pubsub.push.object_finalize.json")
    wrapped = storage_event({"type": "google.cloud.pubsub.topic.v1.messagePublished", "id": "x"}, raw)
    assert wrapped is not None and wrapped.event_id == "pubsub:5566778899"


def test_other_messages_are_ignored_and_broken_ones_rejected() -> None:
    assert storage_event({"type": "google.cloud.audit.log.v1.written", "id": "1"}, {}) is None
    assert notification_event({"attributes": {"eventType": "SOMETHING_ELSE"}, "data": ""}) is None
    with pytest.raises(Invalid):
        storage_event({"type": "google.cloud.storage.object.v1.finalized", "id": "1"}, b"not json")
    with pytest.raises(Invalid):
        storage_event({"type": "google.cloud.pubsub.topic.v1.messagePublished", "id": "1"}, {"nope": 1})
