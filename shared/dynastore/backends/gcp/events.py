"""CloudEvents from Cloud Storage → ``StorageEvent`` (no SDK needed).

Two deliveries reach ``on_object_event``:

- Eventarc storage triggers: ``google.cloud.storage.object.v1.finalized`` / ``.deleted`` /
  ``.metadataUpdated`` / ``.archived``; ``data`` is the object resource (JSON API form).
- Pub/Sub: ``google.cloud.pubsub.topic.v1.messagePublished`` whose message is a Cloud Storage
  notification (per-catalog buckets, or any bucket notifying a topic): attributes
  ``eventType``/``bucketId``/``objectId``/``objectGeneration`` (and ``overwrittenByGeneration`` when
  an upload replaced the object), ``data`` the base64 object resource when ``payloadFormat`` is
  ``JSON_API_V1``. functions-framework turns a raw Pub/Sub push request into that CloudEvent.

``object_event`` turns one object resource (either delivery's payload) into the event. The event
id is the delivery's: the CloudEvent id, or ``pubsub:<messageId>``; redeliveries carry
the same id, so ``IndexingService.handle`` applies each at most once (and is idempotent anyway).
Anything else (test messages, unknown types) yields None: acknowledged and ignored.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from typing import Any

import orjson

from dynastore.domain.events import EventKind, StorageEvent
from dynastore.errors import Invalid

log = logging.getLogger(__name__)

STORAGE_PREFIX = "google.cloud.storage.object.v1."
PUBSUB_PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
GCS_EVENT_TYPES = ("OBJECT_FINALIZE", "OBJECT_DELETE", "OBJECT_METADATA_UPDATE", "OBJECT_ARCHIVE")


def _json(data: Any) -> Any:
    if isinstance(data, bytes | bytearray | str):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise Invalid("the event data is not JSON") from exc
    return data


def storage_event(attributes: Mapping[str, Any], data: Any) -> StorageEvent | None:
    """The StorageEvent of one CloudEvent (its context ``attributes`` and ``data``), or None."""
    event_type = str(attributes.get("type") or "")
    event_id = str(attributes.get("id") or "")
    event_time = attributes.get("time")
    event_time = str(event_time) if event_time else None
    if event_type.startswith(STORAGE_PREFIX):
        resource = _json(data)
        if not isinstance(resource, dict):
            raise Invalid(f"{event_type} without an object resource")
        return object_event(resource, event_type=event_type, event_id=event_id, event_time=event_time)
    if event_type == PUBSUB_PUBLISHED:
        body = _json(data)
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, dict):
            raise Invalid("a Pub/Sub CloudEvent without a message")
        return notification_event(message, fallback_id=event_id, event_time=event_time)
    log.info("ignoring a CloudEvent of type %r", event_type)
    return None


def notification_event(
    message: Mapping[str, Any], *, fallback_id: str = "", event_time: str | None = None
) -> StorageEvent | None:
    """The StorageEvent of a Cloud Storage Pub/Sub notification message, or None (not one)."""
    attributes = {str(k): str(v) for k, v in (message.get("attributes") or {}).items()}
    kind = attributes.get("eventType", "")
    if kind not in GCS_EVENT_TYPES:
        log.info("ignoring a Pub/Sub message that is not a storage notification (eventType=%r)", kind)
        return None
    resource: dict[str, Any] = {}
    raw = message.get("data")
    if raw and attributes.get("payloadFormat", "JSON_API_V1") == "JSON_API_V1":
        try:
            decoded = _json(base64.b64decode(raw))
        except (binascii.Error, ValueError) as exc:
            raise Invalid("a storage notification whose data is not base64 JSON") from exc
        if isinstance(decoded, dict):
            resource = decoded
    resource.setdefault("bucket", attributes.get("bucketId"))
    resource.setdefault("name", attributes.get("objectId"))
    resource.setdefault("generation", attributes.get("objectGeneration"))
    if attributes.get("overwrittenByGeneration"):
        resource["overwrittenByGeneration"] = attributes["overwrittenByGeneration"]
    message_id = message.get("messageId") or message.get("message_id") or ""
    event_id = f"pubsub:{message_id}" if message_id else fallback_id
    when = attributes.get("eventTime") or message.get("publishTime") or event_time
    return object_event(resource, event_type=kind, event_id=event_id, event_time=when)


def from_cloudevent(event: Any) -> StorageEvent | None:
    """The StorageEvent of a ``cloudevents`` CloudEvent object (what functions-framework passes)."""
    attributes = event.get_attributes() if hasattr(event, "get_attributes") else dict(event)
    data = event.get_data() if hasattr(event, "get_data") else event.get("data")
    return storage_event(attributes, data)


def object_event(
    data: Mapping[str, Any], *, event_type: str, event_id: str = "", event_time: str | None = None
) -> StorageEvent:
    """From a Cloud Storage object resource (CloudEvent ``data`` or Pub/Sub notification payload).

    ``event_type``: a CloudEvent type (``google.cloud.storage.object.v1.finalized``, ``.deleted``,
    ``.metadataUpdated``, ``.archived``) or a notification ``eventType`` attribute
    (``OBJECT_FINALIZE``, ``OBJECT_DELETE``, ``OBJECT_METADATA_UPDATE``, ``OBJECT_ARCHIVE``).
    """
    kind = gcs_event_kind(event_type)
    size = data.get("size")
    return StorageEvent(
        kind=kind,
        bucket=str(data.get("bucket") or ""),
        key=str(data.get("name") or ""),
        generation=data.get("generation"),
        metageneration=data.get("metageneration"),
        etag=data.get("etag"),
        size=int(size) if size not in (None, "") else None,
        md5=_b64_to_hex(data.get("md5Hash")),
        crc32c=_b64_to_hex(data.get("crc32c")),
        content_type=data.get("contentType"),
        metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
        event_id=event_id,
        event_time=event_time or data.get("updated") or data.get("timeDeleted"),
        replaced=bool(data.get("overwrittenByGeneration")),
    )


def gcs_event_kind(event_type: str) -> EventKind:
    """The event kind of a Cloud Storage CloudEvent type or notification ``eventType``."""
    kinds: dict[str, EventKind] = {
        "finalized": "finalized",
        "object_finalize": "finalized",
        "deleted": "deleted",
        "object_delete": "deleted",
        "archived": "deleted",
        "object_archive": "deleted",
        "metadataupdated": "metadata-updated",
        "object_metadata_update": "metadata-updated",
    }
    tail = event_type.rsplit(".", 1)[-1].lower()
    if tail not in kinds:
        raise Invalid(f"storage event type {event_type!r} is not an finalize, delete, archive or metadata update")
    return kinds[tail]


def _b64_to_hex(value: Any) -> str | None:
    if not value:
        return None
    try:
        return base64.b64decode(str(value), validate=True).hex()
    except (binascii.Error, ValueError):
        return None


def pubsub_message(event: Any) -> tuple[bytes, dict[str, str]]:
    """The payload bytes and attributes of the Pub/Sub message a ``messagePublished`` CloudEvent
    (Eventarc Pub/Sub trigger, or functions-framework's conversion of a raw push) carries.

    ``Invalid`` when it carries no message, or the message's data is not base64."""
    data = event.get_data() if hasattr(event, "get_data") else event.get("data")
    body = _json(data)
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, dict):
        raise Invalid("a Pub/Sub CloudEvent without a message")
    attributes = {str(k): str(v) for k, v in (message.get("attributes") or {}).items()}
    try:
        payload = base64.b64decode(message.get("data") or "", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid("a Pub/Sub message whose data is not base64") from exc
    return payload, attributes
