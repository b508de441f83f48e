"""Storage events and the object-key convention of zero-touch indexing (DESIGN §5).

A ``StorageEvent`` is what any event source (the local folder watcher, Cloud Storage through
Eventarc/Pub/Sub, S3 notifications, the reconciler) tells the ``IndexingService``: an object was
finalized (created or overwritten), deleted, or had its metadata updated. Converters for the
Cloud Storage object resource and S3 event records live here, pure and SDK-free, so every host
feeds the service the same thing.

Keys follow ``{catalog}/{collection}/{item}/{path...}``:

- ``demo/readme.pdf`` is a catalog-level asset of catalog ``demo``;
- ``demo/s2/guide.pdf`` a collection-level asset of collection ``s2``;
- ``demo/s2/scene-1/B04.tif`` an asset of item ``scene-1``; deeper paths
  (``demo/s2/scene-1/qa/mask.tif``) still belong to item ``scene-1`` and the asset keeps its key.

``<file>.meta.json`` next to a file is its sidecar: it describes the file and is not an asset.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dynastore.domain import time as dtime
from dynastore.domain.asset import asset_level
from dynastore.domain.ids import check_id, slug
from dynastore.errors import Invalid

if TYPE_CHECKING:
    from dynastore.ports import BlobInfo

EventKind = Literal["finalized", "deleted", "metadata-updated"]
EVENT_KINDS: tuple[str, ...] = ("finalized", "deleted", "metadata-updated")

SIDECAR_SUFFIX = ".meta.json"
# Zarr (v2 and v3) metadata documents: dot-files that are nevertheless real content.
ZARR_METADATA_NAMES = frozenset({".zarray", ".zgroup", ".zattrs", ".zmetadata", "zarr.json"})
# Custom object metadata keys the service itself writes (the API's upload tags the blob with its asset id).
ASSET_ID_METADATA_KEYS = ("asset_id", "asset-id", "dynastore-asset-id")

_TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", ".swx", ".lock", "~")
_TEMP_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", "__MACOSX"})
_HEX = re.compile(r"^[0-9a-fA-F]+$")


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
        if not _HEX.match(value):
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

    # ------------------------------------------------------------------------------ builders

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

    @classmethod
    def from_gcs(
        cls, data: dict[str, Any], *, event_type: str, event_id: str = "", event_time: str | None = None
    ) -> StorageEvent:
        """From a Cloud Storage object resource (CloudEvent ``data`` or Pub/Sub notification payload).

        ``event_type``: a CloudEvent type (``google.cloud.storage.object.v1.finalized``, ``.deleted``,
        ``.metadataUpdated``, ``.archived``) or a notification ``eventType`` attribute
        (``OBJECT_FINALIZE``, ``OBJECT_DELETE``, ``OBJECT_METADATA_UPDATE``, ``OBJECT_ARCHIVE``).
        """
        kind = gcs_event_kind(event_type)
        size = data.get("size")
        return cls(
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

    @classmethod
    def from_cloudevent(cls, envelope: dict[str, Any]) -> StorageEvent:
        """From a structured CloudEvent (Eventarc ``google.cloud.storage.object.v1.*``)."""
        data = envelope.get("data")
        if not isinstance(data, dict):
            raise Invalid("a Cloud Storage CloudEvent carries the object resource in `data`")
        return cls.from_gcs(
            data, event_type=str(envelope.get("type") or ""), event_id=str(envelope.get("id") or ""),
            event_time=envelope.get("time"),
        )

    @classmethod
    def from_pubsub_message(cls, message: dict[str, Any]) -> StorageEvent:
        """From a Pub/Sub notification of Cloud Storage (``JSON_API_V1`` payload).

        ``message`` is the Pub/Sub message (``attributes``, base64 ``data``, ``messageId``); an
        ``overwrittenByGeneration`` attribute marks a delete caused by an overwrite.
        """
        import orjson

        attributes = message.get("attributes") or {}
        raw = message.get("data") or ""
        try:
            data = orjson.loads(base64.b64decode(raw)) if raw else {}
        except (binascii.Error, ValueError) as exc:
            raise Invalid(f"the notification data is not base64 JSON: {exc}") from None
        if not data:  # payload format NONE: only attributes
            data = {"bucket": attributes.get("bucketId"), "name": attributes.get("objectId"),
                    "generation": attributes.get("objectGeneration")}
        if attributes.get("overwrittenByGeneration"):
            data = {**data, "overwrittenByGeneration": attributes["overwrittenByGeneration"]}
        return cls.from_gcs(
            data, event_type=str(attributes.get("eventType") or ""),
            event_id=str(message.get("messageId") or message.get("message_id") or ""),
            event_time=attributes.get("eventTime") or message.get("publishTime"),
        )

    @classmethod
    def from_s3_record(cls, record: dict[str, Any]) -> StorageEvent:
        """From one record of an S3 event notification (``Records[i]``)."""
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
        md5 = etag if etag and _HEX.match(etag) and len(etag) == 32 else None  # single-part uploads only
        return cls(
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


def gcs_event_kind(event_type: str) -> EventKind:
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


# ------------------------------------------------------------------------------------ ordering


def compare_generations(
    a: str | None, b: str | None, *, seq_a: str | None = None, seq_b: str | None = None
) -> int | None:
    """-1/0/1 when two object versions can be ordered, None when they cannot.

    Numeric generations (Cloud Storage, the local folder) compare as integers; S3 sequencers as
    hex strings padded to the same length. Equal opaque tokens (etags, version ids) are equal.
    """
    if seq_a and seq_b and _HEX.match(seq_a) and _HEX.match(seq_b):
        width = max(len(seq_a), len(seq_b))
        x, y = seq_a.rjust(width, "0").lower(), seq_b.rjust(width, "0").lower()
        return (x > y) - (x < y)
    if a is None or b is None:
        return None
    if a.isdigit() and b.isdigit():
        ia, ib = int(a), int(b)
        return (ia > ib) - (ia < ib)
    return 0 if a == b else None


# ------------------------------------------------------------------------------------ key convention


@dataclass(frozen=True)
class KeyScope:
    """Where an object key places its asset."""

    key: str
    catalog_id: str
    collection_id: str | None
    item_id: str | None
    path: str  # below the scope's folder: "B04.tif", "qa/mask.tif"

    @property
    def relative(self) -> str:
        """The key below the catalog's prefix (``s2/scene-1/B04.tif``)."""
        return self.key.split("/", 1)[1]

    @property
    def level(self) -> Literal["catalog", "collection", "item"]:
        return asset_level(self.collection_id, self.item_id)

    @property
    def file_name(self) -> str:
        return posixpath.basename(self.key)

    @functools.cached_property
    def asset_id(self) -> str:
        return asset_id_for_key(self.key)


def parse_key(key: str) -> KeyScope:
    """Place an object key in the hierarchy; ``Invalid`` says why a key cannot hold an asset.

    The catalog folder must already be a valid id (it is the catalog's storage prefix);
    collection and item folders are turned into ids with ``slug`` (identity for valid ids).
    """
    if not key or key.startswith("/") or key.endswith("/"):
        raise Invalid(f"object key {key!r} does not name a file")
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise Invalid(f"object key {key!r} has an empty, '.' or '..' segment")
    if len(parts) < 2:
        raise Invalid(f"object {key!r} is at the bucket root; put files under a catalog folder: {{catalog}}/{key}")
    catalog_id = check_id(parts[0], "catalog folder")
    if len(parts) == 2:
        return KeyScope(key, catalog_id, None, None, parts[1])
    collection_id = slug(parts[1])
    if len(parts) == 3:
        return KeyScope(key, catalog_id, collection_id, None, parts[2])
    return KeyScope(key, catalog_id, collection_id, slug(parts[2]), "/".join(parts[3:]))


def asset_id_for_key(key: str) -> str:
    """The deterministic, URL-safe asset id of an object: ``slug`` of the key below its catalog.

    The API's upload derives the same id for the same key, so an uploaded file and its storage
    event meet on one record.
    """
    relative = key.split("/", 1)[1] if "/" in key else key
    return slug(relative)


def is_sidecar(key: str) -> bool:
    name = posixpath.basename(key)
    return name.endswith(SIDECAR_SUFFIX) and len(name) > len(SIDECAR_SUFFIX)


def sidecar_key(key: str) -> str:
    return key + SIDECAR_SUFFIX


def sidecar_target(key: str) -> str:
    """The file a sidecar describes (``a/b.tif.meta.json`` → ``a/b.tif``)."""
    return key[: -len(SIDECAR_SUFFIX)]


def ignored_reason(key: str) -> str | None:
    """Why a key is not indexed at all (temporary file, hidden folder, OS litter), or None."""
    parts = key.split("/")
    for folder in parts[:-1]:
        if folder.startswith(".") or folder in _TEMP_NAMES:
            return f"inside hidden or system folder {folder!r}"
    name = parts[-1]
    if name in ZARR_METADATA_NAMES:
        return None
    if name in _TEMP_NAMES:
        return f"{name!r} is operating-system litter"
    if name.startswith((".", "~$", ".~")):
        return f"{name!r} is a hidden or temporary file"
    if name.lower().endswith(_TEMP_SUFFIXES):
        return f"{name!r} is a temporary file"
    return None


def event_time_or_now(event: StorageEvent) -> str:
    if event.event_time:
        try:
            return dtime.normalize(event.event_time) or dtime.now_iso()
        except Invalid:
            pass
    return dtime.now_iso()
