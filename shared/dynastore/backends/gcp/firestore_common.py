"""What every part of the Firestore store shares: limits, native sort fields, the ``doc`` packing,
and the native fields written per record kind (layout: ``firestore_store``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, cast

import orjson

from dynastore.backends.checks import check_limit as check_limit
from dynastore.backends.checks import next_seq
from dynastore.backends.checks import require_str as require_str
from dynastore.backends.gcp.grams import gram_map
from dynastore.domain.asset import asset_level, search_text, time_bounds
from dynastore.domain.search import ITEM_SORT_FIELDS, item_search_text, item_time_bounds
from dynastore.errors import Invalid
from dynastore.ports import Doc

SEP = "!"
MAX_IN = 30  # values of one `in` / `array-contains-any` filter, and disjunctions per query
TXN_WRITES = 400  # documents per commit (Firestore takes 500 writes and 10 MiB per commit)
CAS_ATTEMPTS = 50
TXN_ATTEMPTS = 10  # commits of one transaction the SDK tries while the database answers ABORTED
DELETE_BATCH = 400
EXPORT_BATCH = 2000
JOB_FILTERS = ("status", "task_id", "catalog_id", "asset_id")

# Native sort fields (what `sortby` names become) and how "none" is stored for them.
ASSET_SORT_NATIVE = {
    "id": "id",
    "catalog_id": "catalog_id",
    "collection_id": "collection_id",
    "item_id": "item_id",
    "title": "title",
    "created": "created",
    "updated": "updated",
    "datetime": "dt_start",
    "file:size": "file_size",
}
ITEM_SORT_NATIVE = {name: re.sub(r"[^A-Za-z0-9_]", "_", name) for name in ITEM_SORT_FIELDS}  # eo:cloud_cover

def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def pack(doc: Doc) -> bytes:
    return orjson.dumps(doc)


def unpack(data: dict[str, Any]) -> Doc:
    """The record a stored Firestore document holds (decoded once, cached on the dict)."""
    cached = data.get("_decoded")
    if cached is None:
        cached = data["_decoded"] = orjson.loads(data["doc"])
    return cast(Doc, cached)


def chunks(values: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


def gram_fields(text: str) -> dict[str, Any]:
    grams = gram_map([text])
    return {"tri": grams or {}, "tri_ok": grams is not None}


# ------------------------------------------------------------------ native fields per record kind


def asset_fields(doc: Doc) -> dict[str, Any]:
    catalog_id = require_str(doc, "catalog_id", "an asset")
    asset_id = require_str(doc, "id", "an asset")
    dt_start, dt_end = time_bounds(doc)
    size = doc.get("file:size")
    roles, tags = doc.get("roles") or [], doc.get("tags") or []
    return {
        "doc": pack(doc),
        "catalog_id": catalog_id,
        "id": asset_id,
        "collection_id": as_str(doc.get("collection_id")),
        "item_id": as_str(doc.get("item_id")),
        "level": asset_level(doc.get("collection_id"), doc.get("item_id")),
        "status": as_str(doc.get("status")) or "active",
        "type": as_str(doc.get("type")),
        "roles": [r for r in roles if isinstance(r, str)],
        "tags": [t for t in tags if isinstance(t, str)],
        "title": as_str(doc.get("title")),
        "created": as_str(doc.get("created")),
        "updated": as_str(doc.get("updated")),
        "dt_start": as_str(dt_start),
        "dt_end": as_str(dt_end),
        "has_time": bool(dt_start or dt_end),
        "file_size": size if isinstance(size, int) and not isinstance(size, bool) else -1,
        "rev": doc.get("rev", 0),
        **gram_fields(search_text(doc)),
    }


def item_fields(catalog_id: str, doc: Doc) -> dict[str, Any]:
    props = doc.get("properties") or {}
    dt_start, dt_end = item_time_bounds(doc)
    fields = {
        "doc": pack(doc),
        "catalog_id": catalog_id,
        "collection": require_str(doc, "collection", "an item"),
        "id": require_str(doc, "id", "an item"),
        "rev": doc.get("rev", 0),
        "has_time": bool(dt_start or dt_end),
        **gram_fields(item_search_text(doc)),
    }
    for name, native in ITEM_SORT_NATIVE.items():
        if name not in ("id", "collection"):
            value = props.get(name)
            fields[native] = value if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
    return fields


def job_fields(doc: Doc, seq: int) -> dict[str, Any]:
    return {
        "doc": pack(doc),
        "id": doc["id"],
        "status": as_str(doc.get("status")),
        "task_id": as_str(doc.get("task_id")),
        "catalog_id": as_str(doc.get("catalog_id")),
        "asset_id": as_str(doc.get("asset_id")),
        "created": as_str(doc.get("created")),
        "rev": doc.get("rev", 0),
        "seq": seq,
    }


def audit_fields(audit: Doc) -> dict[str, Any]:
    if not isinstance(audit, dict) or not isinstance(audit.get("catalog_id"), str):
        raise Invalid("an audit event needs a catalog_id")
    return {
        "doc": pack(audit),
        "catalog_id": audit["catalog_id"],
        "record_type": as_str(audit.get("record_type")),
        "record_id": as_str(audit.get("record_id")),
        "at": as_str(audit.get("at")),
        "seq": next_seq(),
    }

