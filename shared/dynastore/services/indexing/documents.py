"""Asset documents from what storage says: descriptions (custom object metadata and sidecars) and the
records indexing writes (new and updated assets, merged moves, collection and item shells, audits).

Pure except for timestamps and audit ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from dynastore.domain import time as dtime
from dynastore.domain.asset import HREF_SCHEMES, Asset, AssetFields, asset_doc
from dynastore.domain.events import StorageEvent
from dynastore.domain.ids import ID_PATTERN
from dynastore.domain.indexing import storage_doc, storage_of
from dynastore.domain.stac_version import STAC_VERSION
from dynastore.domain.storage import ASSET_ID_METADATA_KEYS, KeyScope
from dynastore.errors import DynastoreError, Invalid
from dynastore.ports import Doc
from dynastore.services import mediatypes

ACTOR = "indexer"
# Descriptive fields storage may set (custom object metadata or sidecar); absent ones keep their value.
DESCRIPTIVE_FIELDS = ("roles", "title", "description", "code", "tags", "datetime", "start_datetime", "end_datetime")
_LIST_FIELDS = frozenset({"roles", "tags"})
_SIDECAR_ONLY_FIELDS = ("type", "bbox", "alternate")
# Keys that are never copied into `metadata` (the service or storage owns them).
_RESERVED_KEYS = frozenset(
    {
        *ASSET_ID_METADATA_KEYS,
        "id",
        "href",
        "file:size",
        "file:checksum",
        "catalog_id",
        "collection_id",
        "item_id",
        "status",
        "created",
        "updated",
        "deleted_at",
        "storage",
        "rev",
        "version",
        "latest",
    }
)
_STORAGE_METADATA_PREFIXES = ("x-goog-meta-", "x-amz-meta-", "goog-reserved-")
_ID_RE = re.compile(ID_PATTERN)


@dataclass
class Described:
    """What custom object metadata and the sidecar say about a file."""

    fields: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def describe(metadata: dict[str, str], sidecar: Doc | None) -> Described:
    """Fields, free-form metadata and STAC extension fields from object metadata, then the sidecar.

    Object metadata values are strings: ``roles``/``tags`` may be a JSON array or comma-separated;
    other values that read as JSON numbers, booleans, arrays or objects are decoded. The sidecar
    wins where both speak. A value that fails validation is dropped with a warning.
    """
    out = Described()
    for raw_key, raw_value in (metadata or {}).items():
        name = _metadata_name(raw_key)
        if name is None or name in _RESERVED_KEYS:
            continue
        if name in DESCRIPTIVE_FIELDS:
            value: Any = _split_list(raw_value) if name in _LIST_FIELDS else raw_value
            _set_field(out, name, value, f"object metadata {raw_key!r}")
        else:
            out.metadata[name] = _decode_scalar(raw_value)
    if sidecar:
        for name, value in sidecar.items():
            if name in _RESERVED_KEYS:
                continue
            if name in DESCRIPTIVE_FIELDS or name in _SIDECAR_ONLY_FIELDS:
                if name in _LIST_FIELDS and isinstance(value, str):
                    value = _split_list(value)
                _set_field(out, name, value, f"sidecar field {name!r}")
            elif name in ("metadata", "properties") and isinstance(value, dict):
                out.metadata.update(value)
            elif ":" in name and not name.startswith("file:"):
                out.extensions[name] = value
            else:
                out.metadata[name] = value
    return out


def _set_field(out: Described, name: str, value: Any, where: str) -> None:
    try:
        checked = AssetFields.model_validate({name: value})
    except ValidationError as exc:
        problem = exc.errors()[0].get("msg", "invalid") if exc.errors() else "invalid"
        out.warnings.append(f"{where} ignored: {problem}")
        return
    except DynastoreError as exc:
        out.warnings.append(f"{where} ignored: {exc.detail}")
        return
    out.fields[name] = checked.model_dump(mode="json", by_alias=False)[name]


def apply_described(doc: Doc, described: Described) -> Doc:
    for name, value in described.fields.items():
        doc[name] = value
    if described.metadata:
        doc["metadata"] = {**(doc.get("metadata") or {}), **described.metadata}
    for name, value in described.extensions.items():
        doc[name] = value
    if (
        doc.get("datetime")
        and (doc.get("start_datetime") or doc.get("end_datetime"))
        and ("datetime" not in described.fields)
    ):
        doc["datetime"] = None  # an interval from storage replaces an instant set earlier
    return doc


def _metadata_name(raw_key: str) -> str | None:
    name = raw_key.strip()
    lowered = name.lower()
    for prefix in _STORAGE_METADATA_PREFIXES:
        if lowered.startswith(prefix):
            if prefix == "goog-reserved-":
                return None
            name, lowered = name[len(prefix) :], lowered[len(prefix) :]
    if lowered in DESCRIPTIVE_FIELDS or lowered in ASSET_ID_METADATA_KEYS:
        return lowered
    return name or None


def _split_list(value: str) -> Any:
    text = value.strip()
    if text.startswith("["):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return [part.strip() for part in text.split(",") if part.strip()]


def _decode_scalar(value: str) -> Any:
    text = value.strip()
    if text in ("true", "false", "null") or text[:1] in ("{", "[", "-") or text[:1].isdigit():
        try:
            decoded = orjson.loads(text)
        except orjson.JSONDecodeError:
            return value
        return value if decoded is None else decoded
    return value

def full_doc(
    scope: KeyScope,
    event: StorageEvent,
    existing: Doc | None,
    asset_id: str,
    href: str,
    described: Described,
    size: int,
    checksum: str,
    media_type: str,
) -> Doc:
    """The asset record of new or changed bytes: a new record, or ``existing`` at its new place."""
    now = dtime.now_iso()
    if existing is None:
        doc = asset_doc(
            asset_id,
            {
                "href": href,
                "type": media_type,
                "roles": mediatypes.default_roles(scope.key, media_type),
                "file:size": size,
                "file:checksum": checksum,
            },
            catalog_id=scope.catalog_id,
            collection_id=scope.collection_id,
            item_id=scope.item_id,
            created=now,
            storage=storage_doc(event),
        )
        return apply_described(doc, described)
    doc = dict(existing)
    doc.update(
        {
            "id": asset_id,
            "catalog_id": scope.catalog_id,
            "collection_id": scope.collection_id,
            "item_id": scope.item_id,
            "href": href,
            "type": media_type,
            "file:size": size,
            "file:checksum": checksum,
            "storage": storage_doc(event),
            "status": "active",
            "deleted_at": None,
            "created": existing.get("created") or now,
            "updated": now,
        }
    )
    return apply_described(doc, described)


def descriptive_update(existing: Doc, described: Described, event: StorageEvent) -> Doc:
    """``existing`` with what storage now says about the same bytes."""
    doc = apply_described(dict(existing), described)
    storage = {**storage_of(existing), **{k: v for k, v in storage_doc(event).items() if v is not None}}
    doc["storage"] = storage
    # A metadata-only change is a change: `export ?since=` must see it.
    doc["updated"] = dtime.now_iso()
    return doc


def missing_doc(existing: Doc) -> Doc:
    now = dtime.now_iso()
    return {**existing, "status": "missing", "deleted_at": now, "updated": now}


def merged_docs(source: Doc, twin: Doc) -> tuple[Doc, Doc]:
    """A move seen as copy-then-delete: ``source`` takes over its fresh ``twin``'s location and
    description; the twin is retired (soft-deleted, ``merged_into`` the source)."""
    now = dtime.now_iso()
    moved = {
        **source,
        **{k: twin.get(k) for k in ("href", "collection_id", "item_id", "storage", "type", "file:size")},
        "status": "active",
        "deleted_at": None,
        "updated": now,
    }
    for name in (*DESCRIPTIVE_FIELDS, "metadata"):
        if twin.get(name) not in (None, [], {}) and name not in ("roles",):
            moved[name] = twin[name]
    retired = {
        **twin,
        "status": "deleted",
        "deleted_at": now,
        "updated": now,
        "metadata": {**(twin.get("metadata") or {}), "merged_into": source["id"]},
    }
    return validated(moved), validated(retired)


def collection_shell(scope: KeyScope) -> Doc:
    collection_id = scope.collection_id or ""
    now = dtime.now_iso()
    return {
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "stac_extensions": [],
        "id": collection_id,
        "title": collection_id,
        "description": f"Collection {collection_id}, created by zero-touch indexing from folder "
        f"{scope.catalog_id}/{scope.key.split('/')[1]}/",
        "license": "other",
        "extent": {"spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]}, "temporal": {"interval": [[None, None]]}},
        "links": [],
        "created": now,
        "updated": now,
        "catalog_id": scope.catalog_id,
    }


def item_shell(scope: KeyScope, asset: Doc) -> Doc:
    now = dtime.now_iso()
    properties: Doc = {"created": now, "updated": now}
    if asset.get("start_datetime") and asset.get("end_datetime") and not asset.get("datetime"):
        properties.update(datetime=None, start_datetime=asset["start_datetime"], end_datetime=asset["end_datetime"])
    else:
        properties["datetime"] = asset.get("datetime") or asset.get("created") or now
    return {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": [],
        "id": scope.item_id or "",
        "collection": scope.collection_id,
        "geometry": None,
        "properties": properties,
        "links": [],
        "catalog_id": scope.catalog_id,
    }


def validated(doc: Doc) -> Doc:
    try:
        return Asset.from_doc(doc).to_doc()
    except ValidationError as exc:
        raise Invalid(f"the indexed asset is not valid: {exc.errors()[0].get('msg')}") from None


def trusted_shape(doc: Doc) -> bool:
    """The checks validation would make of a record ``full_doc`` built from trusted values."""
    return bool(_ID_RE.match(doc["id"])) and str(doc["href"]).startswith(HREF_SCHEMES)
