"""The Asset: one physical file (or external URL) and its description.

The stored form is a plain JSON document (``Asset.to_doc()``): STAC spec field names verbatim
(``file:size``, ``file:checksum``), STAC extension fields (any ``prefix:name``) kept at the top
level, every filterable field always present (Firestore drops documents missing a field from an
index). Backends store and return such documents; services turn them into ``Asset`` where they
apply rules, and hot read paths (bulk-get, export, search pages) pass the documents through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dynastore.domain import time as dtime
from dynastore.domain.ids import check_id
from dynastore.errors import PayloadTooLarge

AssetStatus = Literal["active", "deleted", "missing"]
ASSET_STATUSES: tuple[str, ...] = ("active", "deleted", "missing")
HREF_SCHEMES = ("gs://", "s3://", "https://", "http://", "file://")
# Roles whose assets an item always embeds (DESIGN §4.2).
METADATA_ROLES = frozenset({"thumbnail", "overview", "metadata"})


class StorageLocation(BaseModel):
    """Where the service found or stored the bytes."""

    model_config = ConfigDict(extra="forbid")

    bucket: str
    key: str
    generation: str | None = None
    etag: str | None = None
    md5: str | None = Field(default=None, description="hex md5 storage reported for these bytes, if any")


# The largest ``file:size``: a signed 64-bit integer, what every store keeps a number as (SQLite INTEGER,
# Firestore); beyond it a write would fail in the store instead of answering 400.
FILE_SIZE_MAX = 2**63 - 1


class AssetFields(BaseModel):
    """What a client may set on an asset (POST/PUT body, PATCH after merge, upload metadata)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str | None = None
    href: str | None = None
    type: str | None = None
    roles: list[str] = Field(default_factory=list)
    title: str | None = None
    description: str | None = None
    code: str | None = Field(default=None, description="a short unique code users search by")
    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    file_size: int | None = Field(default=None, alias="file:size", ge=0, le=FILE_SIZE_MAX)
    file_checksum: str | None = Field(default=None, alias="file:checksum", pattern=r"^[0-9a-fA-F]{4,}$")
    datetime: str | None = None
    start_datetime: str | None = None
    end_datetime: str | None = None
    version: str | None = None
    latest: bool | None = None
    alternate: dict[str, dict[str, Any]] = Field(default_factory=dict)
    bbox: list[float] | None = None
    extensions: dict[str, Any] = Field(default_factory=dict, description="STAC extension fields `prefix:name`")

    @model_validator(mode="before")
    @classmethod
    def _collect_extension_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        own = {"file:size", "file:checksum"}
        ext = {k: v for k, v in data.items() if ":" in k and k not in own}
        if not ext:
            return data
        rest = {k: v for k, v in data.items() if k not in ext}
        rest["extensions"] = {**(rest.get("extensions") or {}), **ext}
        return rest

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        return None if value is None else check_id(value, "asset id")

    @field_validator("href")
    @classmethod
    def _href(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(HREF_SCHEMES):
            raise ValueError(f"href must start with one of {', '.join(HREF_SCHEMES)}")
        return value

    @field_validator("datetime", "start_datetime", "end_datetime")
    @classmethod
    def _datetime(cls, value: str | None) -> str | None:
        return dtime.normalize(value)

    @field_validator("roles", "tags")
    @classmethod
    def _strings(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(v.strip() for v in value if v.strip()))

    @field_validator("bbox")
    @classmethod
    def _bbox(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and len(value) not in (4, 6):
            raise ValueError("bbox must have 4 or 6 numbers")
        return value

    @model_validator(mode="after")
    def _interval(self) -> AssetFields:
        if self.start_datetime and self.end_datetime and self.start_datetime > self.end_datetime:
            raise ValueError("start_datetime is after end_datetime")
        return self


class Asset(AssetFields):
    """A stored asset: the client fields plus scope, lifecycle and storage coordinates."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str  # type: ignore[assignment]
    href: str  # type: ignore[assignment]
    catalog_id: str
    collection_id: str | None = None
    item_id: str | None = None
    status: AssetStatus = "active"
    created: str = Field(default_factory=dtime.now_iso)
    updated: str = Field(default_factory=dtime.now_iso)
    deleted_at: str | None = None
    storage: StorageLocation | None = None
    rev: int = Field(default=0, description="optimistic-concurrency revision, bumped by every write")

    @model_validator(mode="after")
    def _scope(self) -> Asset:
        if self.item_id and not self.collection_id:
            raise ValueError("an item-linked asset needs its collection_id")
        return self

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Asset:
        return cls.model_validate(doc)

    def to_doc(self) -> dict[str, Any]:
        doc = self.model_dump(mode="json", by_alias=True, exclude={"extensions"})
        doc.update(self.extensions)
        return doc

    @property
    def level(self) -> Literal["catalog", "collection", "item"]:
        return asset_level(self.collection_id, self.item_id)


# The keys of ``Asset.to_doc()`` in its order (its fields by alias, as ``model_dump`` writes them):
# ``asset_doc`` copies this dict and sets each value, faster than building the model.
_DEFAULT_DOC: dict[str, Any] = dict.fromkeys(
    field.alias or name for name, field in Asset.model_fields.items() if name != "extensions"
)
_CLIENT_NAMES = frozenset(  # id and the client fields (``AssetFields``)
    field.alias or name for name, field in AssetFields.model_fields.items() if name != "extensions"
)


def asset_doc(
    asset_id: str,
    fields: AssetFields | Mapping[str, Any],
    *,
    catalog_id: str,
    collection_id: str | None = None,
    item_id: str | None = None,
    status: AssetStatus = "active",
    created: str,
    updated: str | None = None,
    deleted_at: str | None = None,
    storage: Mapping[str, Any] | None = None,
    rev: int = 0,
) -> dict[str, Any]:
    """The one builder of a stored asset record: exactly ``Asset.to_doc()`` (fields, order, defaults)
    without a validation pass, so bulk paths stay fast.

    ``fields``: validated client fields (``AssetFields``), or client fields in their stored form
    built from the service's own values (absent ones get their default; ``prefix:name`` keys are
    STAC extension fields, kept at the top level after the system fields, as ``to_doc`` puts them).
    ``updated`` defaults to ``created``. The service-level rules (href, record size) are applied by
    the caller: ``services.asset_records``."""
    extensions: Mapping[str, Any] = {}
    client: Mapping[str, Any]
    if isinstance(fields, AssetFields):
        client = fields.model_dump(mode="json", by_alias=True, exclude={"extensions"})
        extensions = fields.extensions
    else:
        client = fields
        if not _CLIENT_NAMES.issuperset(fields):
            plain = [k for k in fields if ":" not in k and k not in _CLIENT_NAMES]
            if plain:
                raise ValueError(f"not asset fields: {', '.join(plain)}")
    doc = _DEFAULT_DOC.copy()
    doc.update(client)  # known names keep their place; ``prefix:name`` ones go last, in their order
    doc["id"] = asset_id
    if "roles" not in client:
        doc["roles"] = []
    if "tags" not in client:
        doc["tags"] = []
    if "metadata" not in client:
        doc["metadata"] = {}
    if "alternate" not in client:
        doc["alternate"] = {}
    doc["catalog_id"] = catalog_id
    doc["collection_id"] = collection_id
    doc["item_id"] = item_id
    doc["status"] = status
    doc["created"] = created
    doc["updated"] = updated or created
    doc["deleted_at"] = deleted_at
    doc["storage"] = storage
    doc["rev"] = rev
    if extensions:
        doc.update(extensions)
    return doc


def check_record_size(doc: Mapping[str, Any], limit: int) -> None:
    """``PayloadTooLarge`` naming DYNASTORE_MAX_RECORD_BYTES when the record's JSON exceeds ``limit``."""
    size = len(orjson.dumps(doc))
    if size > limit:
        raise PayloadTooLarge(
            f"asset {doc.get('id')!r} would be a {size}-byte record; DYNASTORE_MAX_RECORD_BYTES allows {limit}: "
            "keep large metadata in a file (upload it as an asset) and link to it"
        )


def asset_level(collection_id: str | None, item_id: str | None) -> Literal["catalog", "collection", "item"]:
    if item_id:
        return "item"
    return "collection" if collection_id else "catalog"


def assets_path(catalog_id: str, collection_id: str | None = None, item_id: str | None = None) -> str:
    """The asset API path of one level's assets: ``/assets/catalogs/{c}[/collections/{col}[/items/{item}]]/assets``."""
    path = f"/assets/catalogs/{catalog_id}"
    if collection_id:
        path += f"/collections/{collection_id}"
        if item_id:
            path += f"/items/{item_id}"
    return f"{path}/assets"


def asset_path(doc: dict[str, Any]) -> str:
    """The asset API path of an asset document."""
    return f"{assets_path(doc['catalog_id'], doc.get('collection_id'), doc.get('item_id'))}/{doc['id']}"


def file_name(doc: dict[str, Any]) -> str:
    """The file name of an asset: the last segment of its storage key or href."""
    storage = doc.get("storage")
    path = (storage and storage.get("key")) or doc.get("href") or ""
    return path.split("?", 1)[0].rstrip("/").rpartition("/")[2]  # posixpath.basename, inlined


def search_text(doc: dict[str, Any]) -> str:
    """The text that `q` matches case-insensitively as a substring: id, code, title, file name.

    One definition for every backend; fields are joined by a newline so a match never spans two.
    """
    get = doc.get
    return "\n".join([p for p in (get("id"), get("code"), get("title"), file_name(doc)) if p]).lower()


def time_bounds(doc: dict[str, Any]) -> tuple[str | None, str | None]:
    """The [start, end] an asset covers, from ``datetime`` or ``start_/end_datetime``."""
    if doc.get("datetime"):
        return doc["datetime"], doc["datetime"]
    return doc.get("start_datetime"), doc.get("end_datetime")


class HrefResolver(Protocol):
    """What ``stored_key`` needs of a blob store: its bucket and the key an href names in it."""

    bucket: str

    def key_for_href(self, href: str) -> str | None: ...


def key_in_catalog(key: str | None, prefix: str) -> str | None:
    """``key`` when it names a file inside a catalog's storage prefix (``{catalog}/``), else None.

    The one rule for reading or deleting an asset's bytes: a key in another catalog's prefix (or
    with an empty, ``.`` or ``..`` segment) is never followed, whatever the record says."""
    if not key or not key.startswith(prefix) or len(key) == len(prefix):
        return None
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        return None
    return key


def stored_key(asset: Mapping[str, Any], blobs: HrefResolver, prefix: str | None = None) -> str | None:
    """The key of the asset's bytes in ``blobs`` (the bucket of its catalog), or None.

    From ``storage.key`` when it names that bucket, else from the href; either way only inside the
    asset's own catalog prefix (``prefix``, by default ``{catalog_id}/``, what provisioners bind),
    so records written before hrefs were checked cannot reach another catalog's files."""
    prefix = f"{asset['catalog_id']}/" if prefix is None else prefix
    storage = asset.get("storage") or {}
    key: str | None = None
    if storage.get("key") and storage.get("bucket") in (None, blobs.bucket):
        key = str(storage["key"])
    elif isinstance(asset.get("href"), str):
        key = blobs.key_for_href(asset["href"])
    return key_in_catalog(key, prefix)
