"""S3 event notification records → ``StorageEvent`` (no SDK needed), and THE event-id rule of the
aws backend, used by the ``on_object_event`` Lambda for idempotency."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from dynastore.domain.events import EventKind, StorageEvent
from dynastore.domain.storage import HEX
from dynastore.errors import Invalid


def s3_event_id(bucket: str, key: str, sequencer: str | None) -> str:
    """``s3:<bucket>/<key>@<sequencer>``: S3 gives every change of one key its own, increasing
    sequencer, so a redelivered or duplicated notification (SQS is at-least-once, S3 may notify
    twice, with another request id) has the same id and a new change has a new one. Empty without
    a sequencer (the model's deterministic id then applies)."""
    return f"s3:{bucket}/{key}@{sequencer}" if sequencer else ""


def s3_record_event(record: Mapping[str, Any]) -> StorageEvent:
    """From one record of an S3 event notification (``Records[i]``).

    Keys arrive URL-encoded (``+`` for spaces); the event id is ``s3_event_id``'s.
    """
    name = str(record.get("eventName") or "")
    if name.startswith("ObjectCreated:"):
        kind: EventKind = "finalized"
    elif name.startswith("ObjectRemoved:"):
        kind = "deleted"
    elif name.startswith(("ObjectTagging:", "ObjectAcl:")):
        kind = "metadata-updated"
    else:
        raise Invalid(f"S3 event {name!r} is not an object creation, removal or metadata change")
    s3 = record.get("s3") or {}
    obj = s3.get("object") or {}
    etag = obj.get("eTag")
    size = obj.get("size")
    md5 = etag if etag and HEX.match(etag) and len(etag) == 32 else None  # single-part uploads only
    bucket = str((s3.get("bucket") or {}).get("name") or "")
    key = unquote_plus(str(obj.get("key") or ""))
    return StorageEvent(
        kind=kind,
        bucket=bucket,
        key=key,
        generation=obj.get("versionId"),
        etag=etag,
        sequencer=obj.get("sequencer"),
        size=int(size) if size not in (None, "") else None,
        md5=md5,
        event_id=s3_event_id(bucket, key, obj.get("sequencer")),
        event_time=record.get("eventTime"),
    )
