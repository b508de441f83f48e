"""Storage events of zero-touch indexing (DESIGN §5): the neutral ``StorageEvent`` model.

A ``StorageEvent`` is what any event source (the local folder watcher, Cloud Storage through
Eventarc/Pub/Sub, S3 notifications, the reconciler) tells the ``IndexingService``: an object was
finalized (created or overwritten), deleted, or had its metadata updated. Each backend turns its
own payloads into one (``backends/gcp/events.py``, ``backends/aws/events.py``); the domain knows
no cloud payload format.

The key convention and revision order live in ``dynastore.domain.storage``; they are re-exported
here for the callers that import them from this module.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dynastore.domain import time as dtime
from dynastore.domain.storage import (
    ASSET_ID_METADATA_KEYS,
    HEX,
    SIDECAR_SUFFIX,
    ZARR_METADATA_NAMES,
    BlobInfo,
    KeyScope,
    asset_id_for_key,
    compare_generations,
    ignored_reason,
    is_sidecar,
    parse_key,
    sidecar_key,
    sidecar_target,
)
from dynastore.errors import Invalid

__all__ = [
    "ASSET_ID_METADATA_KEYS",
    "EVENT_KINDS",
    "SIDECAR_SUFFIX",
    "ZARR_METADATA_NAMES",
    "EventKind",
    "KeyScope",
    "StorageEvent",
    "asset_id_for_key",
    "compare_generations",
    "event_time_or_now",
    "ignored_reason",
    "is_sidecar",
    "parse_key",
    "sidecar_key",
    "sidecar_target",
]

EventKind = Literal["finalized", "deleted", "metadata-updated"]
EVENT_KINDS: tuple[str, ...] = ("finalized", "deleted", "metadata-updated")


class StorageEvent(BaseModel):
    """One change of one object, as any storage reports it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: EventKind
    bucket: str
    key: str = Field(min_length=1)
    generation: str | None = Field(default=None, description="GCS generation, local revision, S3 version id")
    metageneration: str | None = None
    etag: str | None = None
    sequencer: str | None = Field(default=None, description="S3 event sequencer (hex, orders events of one key)")
    size: int | None = Field(default=None, ge=0)
    md5: str | None = Field(default=None, description="hex digest")
    crc32c: str | None = Field(default=None, description="hex, big-endian")
    content_type: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict, description="custom object metadata")
    event_id: str = ""
    event_time: str | None = None
    replaced: bool = Field(default=False, description="a delete caused by an overwrite (GCS overwrittenByGeneration)")

    @field_validator("md5", "crc32c")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not HEX.match(value):
            raise ValueError("must be a hex digest")
        return value.lower()

    @field_validator("generation", "metageneration", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return None if value is None or value == "" else str(value)

    def model_post_init(self, __context: Any) -> None:
        if not self.event_id:
            # A deterministic id: the same change reported twice is the same event.
            when = "" if self.generation or self.sequencer else (self.event_time or "")
            parts = (self.kind, self.bucket, self.key, self.generation, self.metageneration, self.sequencer, self.etag)
            raw = "|".join(p or "" for p in (*parts, when))
            object.__setattr__(self, "event_id", "sha1:" + hashlib.sha1(raw.encode()).hexdigest())

    @classmethod
    def from_blob(
        cls, info: BlobInfo, kind: EventKind = "finalized", *, event_id: str = "", event_time: str | None = None
    ) -> StorageEvent:
        """The event a reconciler or watcher derives from what storage says about an object now."""
        return cls(
            kind=kind,
            bucket=info.bucket,
            key=info.key,
            generation=info.generation,
            etag=info.etag,
            size=info.size,
            md5=info.md5,
            crc32c=info.crc32c,
            content_type=info.content_type,
            metadata=dict(info.metadata or {}),
            event_id=event_id,
            event_time=event_time or info.updated,
        )


def event_time_or_now(event: StorageEvent) -> str:
    if event.event_time:
        try:
            return dtime.normalize(event.event_time) or dtime.now_iso()
        except Invalid:
            pass
    return dtime.now_iso()
