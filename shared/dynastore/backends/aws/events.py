"""S3 event notification records → ``StorageEvent`` (no SDK needed; the rest of the aws backend is
not built yet, DESIGN §1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from dynastore.domain.events import EventKind, StorageEvent
from dynastore.domain.storage import HEX
from dynastore.errors import Invalid


def s3_record_event(record: Mapping[str, Any]) -> StorageEvent:
    """From one record of an S3 event notification (``Records[i]``).

    Keys arrive URL-encoded (``+`` for spaces); the event id is ``s3:<request id>:<sequencer>``
    when the record names its request, else the model's deterministic id.
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
    request_id = (record.get("responseElements") or {}).get("x-amz-request-id", "")
    md5 = etag if etag and HEX.match(etag) and len(etag) == 32 else None  # single-part uploads only
    return StorageEvent(
        kind=kind,
        bucket=str((s3.get("bucket") or {}).get("name") or ""),
        key=unquote_plus(str(obj.get("key") or "")),
        generation=obj.get("versionId"),
        etag=etag,
        sequencer=obj.get("sequencer"),
        size=int(size) if size not in (None, "") else None,
        md5=md5,
        event_id=f"s3:{request_id}:{obj.get('sequencer', '')}" if request_id else "",
        event_time=record.get("eventTime"),
    )
