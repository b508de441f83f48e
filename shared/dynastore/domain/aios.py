"""The AIOS Assets DB vocabulary (seed 002) mapped onto our asset records: pure rules, no I/O.

- ``asset_uri`` = ``name:version-tag``. ``name:tag`` (no ``-``) names the newest version carrying that
  tag; ``name:latest`` the newest version of ``name``. Since a version may itself contain ``-``
  (``2025-08-11T11:12Z``), a full URI is looked up as a whole (the record id is a slug of it).
- An AssetObject lives as a catalog-level asset of ``DYNASTORE_AIOS_CATALOG``: ``asset_name`` →
  ``aios:name`` (and ``title``), ``asset_version.version`` → ``version``, ``asset_version.tag`` →
  ``aios:tag``, ``asset_tags`` → ``tags``, ``asset_metadata`` → ``metadata``, ``asset_file_info`` →
  ``aios:file_info``, ``asset_public_url`` → ``href`` (uploads: the service's ``/aios/asset-object/{id}``),
  ``assets_db_id`` → ``catalog_id``; ``latest`` marks the newest version of a name (VERSIONS.md).
- Mongo-style queries on AssetObject field names are rewritten onto those paths and compiled by
  ``domain.filters.from_mongo`` (its operators; anything else is a 400 naming them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dynastore.domain.filters import Expr, from_mongo
from dynastore.domain.ids import slug
from dynastore.errors import Invalid

URI_MAX = 512
LATEST = "latest"
_PART = re.compile(r"^[^\x00-\x1f\x7f/\\?#]+$")


@dataclass(frozen=True)
class AssetUri:
    name: str
    rest: str  # ``version-tag`` or a bare tag

    @property
    def text(self) -> str:
        return f"{self.name}:{self.rest}"

    @property
    def is_tag(self) -> bool:
        """``name:tag``: a tag (or ``latest``) naming a version rather than a full ``version-tag``."""
        return "-" not in self.rest


def parse_asset_uri(text: str) -> AssetUri:
    """``Invalid`` (400) with the expected form for anything that is not ``name:version-tag``."""
    form = "an asset_uri is name:version-tag (e.g. SampleAsset:1.0-initial), or name:tag / name:latest"
    if not isinstance(text, str) or not text or len(text) > URI_MAX:
        raise Invalid(f"{form}; got {text!r} (1-{URI_MAX} characters)")
    name, sep, rest = text.partition(":")
    if not sep or not name.strip() or not rest.strip():
        raise Invalid(f"{form}; {text!r} has no name, no ':' or nothing after it")
    if not _PART.match(name) or not _PART.match(rest):
        raise Invalid(f"{form}; {text!r} contains '/', '\\', '?', '#' or control characters")
    if rest.startswith("-") or rest.endswith("-"):
        raise Invalid(f"{form}; {text!r} has an empty version or tag around '-'")
    return AssetUri(name, rest)


def make_uri(name: str, version: str, tag: str) -> str:
    return f"{name}:{version}-{tag}"


def asset_id_for_uri(uri: str) -> str:
    """The record id of an asset_uri (deterministic, URL-safe)."""
    return slug(uri)


class AssetVersion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str = Field(min_length=1, max_length=100)
    tag: str = Field(min_length=1, max_length=100)


class AssetInput(BaseModel):
    """What a client sends to ``/upload_asset`` (``asset_metadata`` part) and ``POST /asset``."""

    model_config = ConfigDict(extra="forbid")

    asset_name: str = Field(min_length=1, max_length=200)
    asset_version: AssetVersion
    asset_metadata: dict[str, Any] = Field(default_factory=dict)
    asset_tags: list[str] = Field(default_factory=list)
    asset_file_info: dict[str, Any] = Field(default_factory=dict)
    asset_public_url: str = ""
    # Read-only fields a client may echo back from a GET; the service sets them.
    asset_uri: str | None = None
    asset_id: str | None = None
    assets_db_id: str | None = None

    @field_validator("asset_tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(v.strip() for v in value if v.strip()))

    @property
    def uri(self) -> str:
        return make_uri(self.asset_name, self.asset_version.version, self.asset_version.tag)


def first_error(exc: ValidationError) -> str:
    """``<field.path>: <message>`` of the first problem (``body`` when it has no location)."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


def parse_input(body: Any) -> AssetInput:
    if not isinstance(body, dict):
        raise Invalid(
            'an asset is a JSON object such as {"asset_name": "m", "asset_version": {"version": "1.0", '
            '"tag": "initial"}}'
        )
    try:
        value = AssetInput.model_validate(body)
    except ValidationError as exc:
        raise Invalid(
            f"asset field {first_error(exc)} (AssetObject: asset_name, asset_version "
            "{version, tag}, asset_metadata, asset_tags, asset_file_info, asset_public_url)"
        ) from None
    parse_asset_uri(value.uri)
    if value.asset_uri and value.asset_uri != value.uri:
        raise Invalid(f"asset_uri {value.asset_uri!r} differs from name:version-tag {value.uri!r}; leave it out")
    return value


def record_fields(value: AssetInput, asset_id: str, href: str | None) -> dict[str, Any]:
    """The stored (``asset_doc``) client fields of an AssetObject."""
    fields: dict[str, Any] = {
        "id": asset_id,
        "title": value.asset_name,
        "tags": value.asset_tags,
        "metadata": value.asset_metadata,
        "version": value.asset_version.version,
        "latest": True,
        "aios:name": value.asset_name,
        "aios:tag": value.asset_version.tag,
        "aios:uri": value.uri,
        "aios:file_info": value.asset_file_info,
    }
    if href:
        fields["href"] = href
    return fields


def asset_object(doc: dict[str, Any], public_url: str) -> dict[str, Any]:
    """The seed's AssetObject of a stored record (``public_url``: where its bytes download)."""
    file_info = dict(doc.get("aios:file_info") or {})
    for ours, theirs in (("file:size", "size"), ("file:checksum", "checksum"), ("type", "content_type")):
        if doc.get(ours) is not None:
            file_info.setdefault(theirs, doc[ours])
    return {
        "asset_uri": doc.get("aios:uri") or "",
        "asset_name": doc.get("aios:name") or doc.get("title") or "",
        "asset_id": doc["id"],
        "assets_db_id": doc.get("catalog_id") or "",
        "asset_version": {"version": doc.get("version") or "", "tag": doc.get("aios:tag") or ""},
        "asset_metadata": doc.get("metadata") or {},
        "asset_public_url": public_url,
        "asset_file_info": file_info,
        "asset_tags": doc.get("tags") or [],
        "latest": bool(doc.get("latest")),
    }


# ------------------------------------------------------------------------------------ queries

_FIELDS = {
    "asset_uri": "aios:uri",
    "asset_name": "aios:name",
    "asset_id": "id",
    "assets_db_id": "catalog_id",
    "asset_tags": "tags",
    "asset_metadata": "metadata",
    "asset_file_info": "aios:file_info",
    "asset_version.version": "version",
    "asset_version.tag": "aios:tag",
    "asset_public_url": "href",
    "latest": "latest",
}
QUERY_FIELDS = (*_FIELDS, "asset_metadata.<key>", "asset_file_info.<key>")


def _path(field: str) -> str:
    if field in _FIELDS:
        return _FIELDS[field]
    head, _, tail = field.partition(".")
    if tail and head in ("asset_metadata", "asset_file_info"):
        return f"{_FIELDS[head]}.{tail}"
    raise Invalid(f"cannot query AssetObject field {field!r}; query fields: {', '.join(QUERY_FIELDS)}")


def _rewrite(query: Any, prefix: str = "") -> list[dict[str, Any]]:
    """Conditions on our record paths, one dict each (joined by ``$and``)."""
    if not isinstance(query, dict):
        raise Invalid('a query is a JSON object such as {"asset_tags": {"$in": ["sample"]}}')
    out: list[dict[str, Any]] = []
    for key, value in query.items():
        if key in ("$and", "$or", "$nor") and not prefix:
            if key == "$nor" or not isinstance(value, list):
                from_mongo({key: value})  # the shared compiler names the problem
            out.append({key: [{"$and": _rewrite(v)} for v in value]})
        elif key.startswith("$"):
            from_mongo({key: value})  # an unknown operator: the shared compiler's 400
            raise Invalid(f"{key} cannot be used inside a field value")
        else:
            field = f"{prefix}{key}"
            is_ops = isinstance(value, dict) and value and all(k.startswith("$") for k in value)
            if isinstance(value, dict) and not is_ops:
                out.extend(_rewrite(value, f"{field}."))  # {"asset_metadata": {"type": "image"}}
            elif isinstance(value, list):
                out.extend({_path(field): item} for item in value)  # all of these (tags)
            else:
                out.append({_path(field): value})
    return out


def compile_query(query: Any) -> Expr:
    """A seed query (plain equality or Mongo operators on AssetObject fields) as a filter tree."""
    parts = _rewrite(query)
    return from_mongo({"$and": parts}) if parts else from_mongo({})
