"""The decisions of zero-touch indexing, pure: given a storage event and the stored facts about its
key, what happens (DESIGN §5). No I/O: the ``IndexingService`` reads the facts, asks here, writes.

Facts: the key's ingest record (``KeyRecord``: the last generation seen, and the tombstone of a
deleted one), the asset the key already has (a stored asset document, any status), the object as
storage has it now (``BlobInfo`` or None) and, for moves, the asset on the other side.

Rules (delivery is at least once and out of order):

- a *reported* event (a payload about a past change) never overwrites a newer generation, and a
  finalize of a generation already deleted does not resurrect it; an *observed* event (a ``stat``
  of the object now) is the truth;
- the same bytes again change nothing (a redelivery), except, when observed, their description;
- a soft-deleted asset stays deleted for the same bytes;
- a delete marks the asset ``missing`` only when the object is really gone; a delete whose bytes
  were copied to another key moments ago is a ``move``; an overwrite's delete is skipped.

The staged rules (``order_against_record``, ``delete_precheck``, ``order_against_object``) let the
service stop before reading facts it does not need; ``decide_present``/``decide_delete`` compose them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from dynastore.domain.events import StorageEvent
from dynastore.domain.ids import ID_PATTERN
from dynastore.domain.storage import ASSET_ID_METADATA_KEYS, BlobInfo, compare_generations

Doc = dict[str, Any]
Action = Literal[
    "stale",  # ignored: older than (or the deleted version of) what the facts hold
    "skip",  # nothing to do for this key (no active catalog, overwrite's delete)
    "soft-deleted",  # the same bytes of a user-deleted asset: stays deleted
    "unchanged",  # the same bytes again: no asset write
    "describe",  # the same bytes, observed now: refresh what storage says about them
    "index",  # new or changed bytes: read and hash them, then create, update or move
    "tombstone",  # a delete with no active asset: only the ingest record says "deleted"
    "missing",  # a delete of an active asset: mark it missing
    "move",  # a delete whose bytes were just indexed under another key: merge into one asset
]

VOLATILE_FIELDS = frozenset({"updated", "rev"})
OVERWRITTEN = "overwritten: the new generation's finalize updates the asset"
_ID_RE = re.compile(ID_PATTERN)


class KeyRecord(Protocol):
    """What the ingest record of a key says (``ports.IngestRecord`` has this shape)."""

    @property
    def status(self) -> str: ...

    @property
    def generation(self) -> str | None: ...

    @property
    def asset_id(self) -> str | None: ...


@dataclass(frozen=True)
class Decision:
    action: Action
    detail: str | None = None
    asset_id: str | None = None  # the asset a stale event names (from the ingest record)


# ------------------------------------------------------------------------------------ present objects


def order_against_record(
    event: StorageEvent, record: KeyRecord | None, *, observed: bool, deleting: bool = False
) -> Decision | None:
    """``stale`` when a reported event is older than the key's record, or (finalize) its generation
    was deleted; None when the record does not stop it."""
    if observed or record is None:
        return None
    order = compare_generations(event.generation, record.generation)
    if order is not None and order < 0:
        return Decision("stale", f"generation {event.generation} is older than {record.generation}", record.asset_id)
    if not deleting and record.status == "deleted" and order == 0:
        return Decision("stale", f"generation {event.generation} was deleted", record.asset_id)
    return None


def decide_present(
    event: StorageEvent, record: KeyRecord | None, existing: Doc | None, *, observed: bool
) -> Decision:
    """What an object present in storage means for the asset its key already has (``existing``)."""
    early = order_against_record(event, record, observed=observed)
    if early is not None:
        return early
    if existing is not None and not observed:
        newer = storage_of(existing).get("generation")
        order = compare_generations(event.generation, newer)
        if order is not None and order < 0:
            return Decision("stale", f"the asset holds a newer generation {newer}")
    if existing is not None and same_bytes(existing, event):
        if existing.get("status") == "deleted":
            return Decision("soft-deleted", "the asset is soft-deleted")
        if existing.get("status") == "active":
            return Decision("describe" if observed else "unchanged")
    return Decision("index")


def index_action(existing: Doc | None, move_source: Doc | None) -> Literal["index", "update", "move"]:
    """New bytes: update the key's asset, take over a ``missing`` asset of the same bytes, or create one."""
    if existing is not None:
        return "update"
    return "move" if move_source is not None else "index"


# ------------------------------------------------------------------------------------ deletes


def delete_precheck(event: StorageEvent, *, catalog_active: bool) -> Decision | None:
    if not catalog_active:
        return Decision("skip", "no active catalog")
    if event.replaced:
        return Decision("skip", OVERWRITTEN)
    return None


def order_against_object(current: BlobInfo | None) -> Decision | None:
    """A delete while the object exists is stale (it was re-created since)."""
    if current is None:
        return None
    return Decision("stale", f"the object exists (generation {current.generation})")


def decide_delete(
    event: StorageEvent,
    record: KeyRecord | None,
    existing: Doc | None,
    *,
    observed: bool,
    catalog_active: bool = True,
    current: BlobInfo | None = None,
    twin: Doc | None = None,
) -> Decision:
    """What a delete means: ``current`` is the object now (None: gone), ``twin`` an active copy of
    ``existing``'s bytes indexed moments ago under another key (None: none found)."""
    early = (
        delete_precheck(event, catalog_active=catalog_active)
        or order_against_record(event, record, observed=observed, deleting=True)
        or order_against_object(current)
    )
    if early is not None:
        return early
    if existing is None or existing.get("status") != "active":
        return Decision("tombstone", None if existing is not None else "no asset")
    order = compare_generations(event.generation, storage_of(existing).get("generation"))
    if not observed and order is not None and order < 0:
        return Decision("stale", "the asset holds a newer generation")
    return Decision("move" if twin is not None else "missing")


def tombstone(event: StorageEvent, existing: Doc | None) -> str | None:
    """The generation a delete records: the event's, else the one the asset held."""
    return event.generation or (storage_of(existing).get("generation") if existing else None)


# ------------------------------------------------------------------------------------ comparisons


def storage_of(doc: Doc | None) -> Doc:
    return dict((doc or {}).get("storage") or {})


def storage_doc(event: StorageEvent) -> Doc:
    """The ``storage`` coordinates an asset records for the object of ``event``."""
    return {"bucket": event.bucket, "key": event.key, "generation": event.generation, "etag": event.etag,
            "md5": event.md5}


def same_bytes(doc: Doc, event: StorageEvent) -> bool:
    """Does the record describe exactly the bytes of this event (same key, generation, size and md5)?"""
    storage = storage_of(doc)
    if storage.get("key") != event.key or not event.generation or storage.get("generation") != event.generation:
        return False
    if event.size is not None and doc.get("file:size") is not None and int(doc["file:size"]) != event.size:
        return False
    known_md5 = storage.get("md5")
    return not (event.md5 and known_md5 and str(known_md5).lower() != event.md5)


def same_content(new: Doc, current: Doc) -> bool:
    """Equal but for the fields every write changes (``updated``, ``rev``)."""
    keys = (set(new) | set(current)) - VOLATILE_FIELDS
    return all(new.get(k) == current.get(k) for k in keys)


def tagged_id(metadata: dict[str, str]) -> str | None:
    """The asset id the API's upload tagged the object with, if any."""
    for name in ASSET_ID_METADATA_KEYS:
        value = metadata.get(name)
        if value and _ID_RE.match(value):
            return value
    return None
