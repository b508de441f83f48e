"""The lean asset record of asset pages (CEDA asset spec idea): the STAC Asset Object of a stored
asset plus its id, without null or empty members, its time fields under ``properties``, and
``updated`` only when it differs from ``created`` (the asset changed after it was written).

Why ``updated`` goes when it equals ``created``: most assets are written once, so it would repeat
``created`` on nearly every record (40 bytes each: 0.4 MB on a 10,000-asset page) and say nothing;
each record still says all of its own times (no value lives elsewhere on the page), so a record
means the same on an item's page, on a search page or alone. The asset API's documents keep both.

It is a pure function of the stored document unless the asset's bytes are a local file (``file://``
href: the record then names the download URL of the request's host), so the local store keeps the
record's JSON text next to the document (written in the same statement) and asset pages splice it.
"""

from __future__ import annotations

from typing import Any

import orjson

Doc = dict[str, Any]

# Asset document fields that stay out of a rendered STAC Asset Object (scope, lifecycle, storage).
ASSET_INTERNAL = frozenset({"id", "catalog_id", "collection_id", "item_id", "status", "storage", "rev", "deleted_at"})
TIME_FIELDS = frozenset({"datetime", "start_datetime", "end_datetime"})
_RECORD_SKIP = ASSET_INTERNAL | TIME_FIELDS


def record_members(doc: Doc) -> Doc:
    """``id`` and the document's non-empty public members (time fields excluded; ``updated`` only
    when it is not ``created``)."""
    record: Doc = {"id": doc["id"]}
    for k, v in doc.items():  # a loop, not a comprehension fed to update: one dict built, not two
        if v is None or k in _RECORD_SKIP:
            continue
        if v or (v != [] and v != {}):
            record[k] = v
    if "updated" in record and record["updated"] == record.get("created"):
        del record["updated"]
    return record


def record_properties(doc: Doc) -> Doc | None:
    """The record's ``properties``: the asset's set time fields, else None."""
    if doc.get("datetime") or doc.get("start_datetime") or doc.get("end_datetime"):
        return {k: doc[k] for k in TIME_FIELDS if doc.get(k)}
    return None


def is_local_file(doc: Doc) -> bool:
    """Is the asset's href a local file (whose record depends on the request's URL)?"""
    href = doc.get("href")
    return isinstance(href, str) and href.startswith("file://")


def stored_record_json(doc: Doc) -> str | None:
    """The JSON text of the record of ``doc`` inside one item's page (no scope references), or None
    when it cannot be rendered once for every request (a ``file://`` href)."""
    if is_local_file(doc):
        return None
    record = record_members(doc)
    properties = record_properties(doc)
    if properties is not None:
        record["properties"] = properties
    return orjson.dumps(record).decode()
