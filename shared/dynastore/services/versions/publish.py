"""Publishing immutable timestamped versions of an item's files (seed 004 §6, §11; VERSIONS.md).

A publish writes each changed file as ``<name>@<stamp><ext>`` next to the item, with one server UTC
stamp for the whole publish, create-only (a published version is never overwritten: ``Conflict``).
A file whose bytes equal the newest version of its name is not written again (idempotent by
content hash). The records are then written by the indexing pipeline itself, exactly as the
storage event of the new object would write them (so a publish, a dropped file, a redelivered event
and the reconciler all end in the same records); that step is retried a few times, and if it still
fails the objects stay in the bucket and the reconciler indexes them as versions later.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from dynastore.config import Settings
from dynastore.domain.asset import AssetFields, key_in_catalog
from dynastore.domain.events import StorageEvent
from dynastore.domain.versions import (
    MAX_PUBLISH_FILES,
    PROV_BUNDLE,
    SYS_FIELDS,
    bundle_id,
    now,
    split_file_name,
    stamp,
    stamp_candidates,
)
from dynastore.errors import Conflict, DynastoreError, Invalid, NotFound
from dynastore.ports import BlobInfo, Doc, MetadataStore
from dynastore.services import mediatypes
from dynastore.services.asset_files import UploadBuffer, check_file_name
from dynastore.services.catalogs import CatalogService
from dynastore.services.indexing import IndexingService
from dynastore.services.patching import validation_detail
from dynastore.services.versions.index import PUBLISH_FIELDS, PUBLISH_METADATA, VersionIndex
from dynastore.services.versions.staging import retire_source

log = logging.getLogger("dynastore.versions")

RECORD_ATTEMPTS = 3  # indexing rounds for the records of a publish before the reconciler takes over
# The asset fields one file of a publish may set (``metadata.files[name]``), besides ``prefix:name``
# extension fields; the server owns the rest of an asset record.
FILE_FIELDS = frozenset(
    {"roles", "title", "description", "code", "tags", "datetime", "start_datetime", "end_datetime", "metadata", "bbox"}
)
SERVER_FIELDS = frozenset({"id", "href", "type", "file:size", "file:checksum", "version", "latest", "alternate"})
SERVER_PREFIXES = ("sys:", "prov:", "file:", "storage")
OBJECT_METADATA_MAX = 1800  # bytes of custom metadata per version object (S3 allows 2 KB in all)
STAMP_ATTEMPTS = 50  # millisecond stamps a publish tries after the minute and second ones


@dataclass
class PublishedFile:
    """One file of a publish: its plain name (``track.geojson``) and its spooled, hashed bytes."""

    filename: str
    data: UploadBuffer
    content_type: str | None = None
    source_key: str | None = None  # JSON publish: the uploaded object it was read from (retired after)
    source_generation: str | None = None


@dataclass
class PublishResult:
    created: bool  # at least one new version was written
    bundle: str | None
    stamp: str | None
    versions: list[Doc] = field(default_factory=list)  # the version records of this publish's names
    written: list[str] = field(default_factory=list)  # file names of the new versions
    unchanged: list[str] = field(default_factory=list)  # file names of the versions reused (same bytes)
    pending: bool = False  # objects written, records not yet: the reconciler indexes them


class PublishService:
    def __init__(
        self,
        store: MetadataStore,
        catalogs: CatalogService,
        indexing: IndexingService,
        index: VersionIndex,
        settings: Settings,
    ) -> None:
        self.store = store
        self.catalogs = catalogs
        self.storage = indexing.storage  # the same catalog-to-bucket binding indexing uses
        self.indexing = indexing
        self.index = index
        self.settings = settings
        self.clock: Callable[[], datetime] = now  # the server's UTC clock (tests set their own)

    def spool_keys(self, catalog_id: str, body: Any) -> tuple[list[PublishedFile], Any]:
        """The files a JSON publish names (``{"files": [{"key": ..., "name": ...}], "metadata": {...}}``),
        read from the catalog's storage into spooled buffers; the caller closes them."""
        if not isinstance(body, dict) or not isinstance(body.get("files"), list) or not body["files"]:
            raise Invalid(
                'a JSON publish is {"files": [{"key": "<uploaded object key>", "name": "track.geojson"}], '
                '"metadata": {...}}; or send multipart/form-data with the files'
            )
        unknown = sorted(set(body) - {"files", "metadata"})
        if unknown:
            raise Invalid(f"unknown field(s) {', '.join(unknown)}: a JSON publish has `files` and `metadata`")
        if len(body["files"]) > MAX_PUBLISH_FILES:
            raise Invalid(f"a publish has at most {MAX_PUBLISH_FILES} files")
        catalog = self.catalogs.require_active(catalog_id)
        blobs = self.storage.for_catalog(catalog)
        prefix = self.storage.prefix_of(catalog)
        out: list[PublishedFile] = []
        try:
            for entry in body["files"]:
                key = entry.get("key") if isinstance(entry, dict) else None
                if not isinstance(key, str) or key_in_catalog(key, prefix) is None:
                    raise Invalid(f"each file names the `key` of an object under {prefix!r} (from /uploads)")
                name = entry.get("name") or key.rsplit("/", 1)[-1]
                buffer = UploadBuffer(self.settings.max_upload_bytes)
                published = PublishedFile(check_file_name(name), buffer, source_key=key)
                out.append(published)
                try:
                    published.source_generation = blobs.stat(key).generation
                    reader = blobs.open(key)
                except NotFound:
                    raise Invalid(
                        f"no object at key {key!r}: upload it first (POST /assets/catalogs/{catalog_id}/uploads)"
                    ) from None
                try:
                    while chunk := reader.read(1024 * 1024):
                        buffer.write(chunk)
                finally:
                    reader.close()
        except Exception:
            for published in out:
                published.data.close()
            raise
        return out, body.get("metadata")

    def publish(
        self,
        catalog_id: str,
        collection_id: str,
        item_id: str,
        files: Sequence[PublishedFile],
        metadata: Any,
        *,
        actor: str,
    ) -> PublishResult:
        catalog = self.catalogs.require_active(catalog_id)
        try:
            item = self.store.get_item(catalog_id, collection_id, item_id)
        except NotFound:
            raise NotFound(
                f"item {item_id!r} does not exist in collection {collection_id!r} of catalog {catalog_id!r}: "
                "create it first (POST .../items), then publish to it"
            ) from None
        sys_values, per_file = _parse_metadata(metadata)
        if not files:
            raise Invalid("a publish needs at least one file")
        if len(files) > MAX_PUBLISH_FILES:
            raise Invalid(f"a publish has at most {MAX_PUBLISH_FILES} files")
        named: list[tuple[str, str, PublishedFile]] = []
        for published in files:
            name, ext = split_file_name(check_file_name(published.filename))
            if any(n == name for n, _, _ in named):
                raise Invalid(f"two files of the publish are named {name!r}: one version per name and publish")
            named.append((name, ext, published))
        unknown = sorted(set(per_file) - {p.filename for _, _, p in named})
        if unknown:
            raise Invalid(f"metadata.files names {', '.join(unknown)}, which the publish does not contain")

        series = self.index.series(catalog_id, collection_id, item_id)
        changed: list[tuple[str, str, PublishedFile]] = []
        unchanged: list[str] = []
        moves: list[tuple[PublishedFile, str]] = []  # (file, the version that holds its bytes)
        for name, ext, published in named:
            entries = series.get(name) or []
            if entries and entries[0][1].get("file:checksum") == published.data.checksum:
                unchanged.append(entries[0][0].file_name)
                moves.append((published, entries[0][0].file_name))
                continue
            changed.append((name, ext, published))
            if entries and not (per_file.get(published.filename) or {}).get("roles"):
                # a new version keeps the roles of the one it supersedes unless the publish says otherwise
                roles = list(entries[0][1].get("roles") or [])
                per_file[published.filename] = {**(per_file.get(published.filename) or {}), "roles": roles}
        for _, _, published in changed:  # refused before anything is written
            _object_metadata(actor, sys_values, per_file.get(published.filename) or {})
        if not changed:
            self._retire_sources(catalog, moves, actor)
            return PublishResult(
                created=False,
                bundle=(item.get("properties") or {}).get(PROV_BUNDLE),
                stamp=None,
                versions=self._records(catalog_id, collection_id, item_id, unchanged),
                unchanged=unchanged,
            )

        blobs = self.storage.for_catalog(catalog)
        folder = f"{self.storage.prefix_of(catalog)}{collection_id}/{item_id}/"
        when = self.clock()
        taken = {v.stamp for entries in series.values() for v, _ in entries}
        written: list[BlobInfo] | None = None
        for text in stamp_candidates(when, STAMP_ATTEMPTS):
            if text in taken or any(_exists(blobs, f"{folder}{n}@{text}{e}") for n, e, _ in changed):
                continue  # that stamp is another publish's: a finer (or the next) one, never an overwrite
            written = self._write(blobs, folder, text, changed, actor, sys_values, per_file)
            if written is not None:
                break
        if written is None:
            raise Conflict(
                f"every version stamp from {stamp(when)} on was taken by concurrent publishes to item {item_id!r}; "
                "publish again (published versions are never overwritten)"
            )

        pending = not all(self._index(info) for info in written)
        if not pending:
            try:
                self.index.refresh(catalog_id, collection_id, item_id, actor=actor)
            except DynastoreError as exc:
                log.warning(
                    "publish to %s/%s/%s: the item update failed (%s); the reconciler repairs it",
                    catalog_id,
                    collection_id,
                    item_id,
                    exc,
                )
                pending = True
        names = [info.key.rsplit("/", 1)[-1] for info in written]
        if not pending:  # the versions are stored and indexed: their staging objects may go
            moves.extend((published, f"{name}@{text}{ext}") for name, ext, published in changed)
            self._retire_sources(catalog, moves, actor)
        return PublishResult(
            created=True,
            bundle=bundle_id(item_id, text),
            stamp=text,
            versions=[] if pending else self._records(catalog_id, collection_id, item_id, [*names, *unchanged]),
            written=names,
            unchanged=unchanged,
            pending=pending,
        )

    def _write(
        self,
        blobs: Any,
        folder: str,
        text: str,
        changed: Sequence[tuple[str, str, PublishedFile]],
        actor: str,
        sys_values: dict[str, Any],
        per_file: dict[str, Doc],
    ) -> list[BlobInfo] | None:
        """Write every changed file at stamp ``text``, create-only; None (this publish's own objects
        removed again) when another writer holds one of the names: the caller tries the next stamp."""
        written: list[BlobInfo] = []
        try:
            for name, ext, published in changed:
                file_name = f"{name}@{text}{ext}"
                media_type = mediatypes.detect(file_name, published.data.head, published.content_type)
                written.append(
                    blobs.put(
                        folder + file_name,
                        published.data.rewind(),
                        content_type=media_type,
                        metadata=_object_metadata(actor, sys_values, per_file.get(published.filename) or {}),
                        if_generation_match=0,
                    )
                )
        except Exception as exc:
            for info in written:  # this publish's own new objects: leave none half-published
                blobs.delete(info.key, missing_ok=True)
            if isinstance(exc, Conflict):
                return None
            raise
        return written

    def _retire_sources(self, catalog: Doc, moves: Sequence[tuple[PublishedFile, str]], actor: str) -> None:
        """Move semantics of a JSON publish: retire each uploaded object its version now holds (staging.py)."""
        blobs = self.storage.for_catalog(catalog)
        for published, version in moves:
            if published.source_key is not None:
                retire_source(
                    self.store,
                    self.indexing,
                    blobs,
                    published.source_key,
                    published.source_generation,
                    published_as=version,
                    actor=actor,
                )

    def _index(self, info: BlobInfo) -> bool:
        """Write the records of a new version through the indexing rules, retried; False when it did not land."""
        for attempt in range(1, RECORD_ATTEMPTS + 1):
            outcome = self.indexing.apply(StorageEvent.from_blob(info), observed=True)
            if outcome.status in ("indexed", "unchanged"):
                return True
            log.warning(
                "publish: indexing %s failed (attempt %d of %d): %s", info.key, attempt, RECORD_ATTEMPTS, outcome.detail
            )
        return False

    def _records(self, catalog_id: str, collection_id: str, item_id: str, file_names: Sequence[str]) -> list[Doc]:
        wanted = set(file_names)
        series = self.index.series(catalog_id, collection_id, item_id)
        return [doc for entries in series.values() for v, doc in entries if v.file_name in wanted]


def _exists(blobs: Any, key: str) -> bool:
    try:
        blobs.stat(key)
    except NotFound:
        return False
    return True


def _parse_metadata(metadata: Any) -> tuple[dict[str, Any], dict[str, Doc]]:
    """``({sys:* given}, {file name: {roles}})`` from the publish metadata."""
    if metadata is None:
        return {}, {}
    if not isinstance(metadata, dict):
        raise Invalid(
            'metadata is a JSON object such as {"sys:state": "final", "files": {"track.geojson": {"roles": ["data"]}}}'
        )
    unknown = sorted(set(metadata) - set(SYS_FIELDS) - {"files"})
    if unknown:
        raise Invalid(
            f"unknown publish metadata {', '.join(unknown)}: give {', '.join(SYS_FIELDS)} and "
            "`files` ({file name: {roles}})"
        )
    sys_values: dict[str, Any] = {}
    for name in SYS_FIELDS:
        if name in metadata:
            value = metadata[name]
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise Invalid(f"{name} must be a string or a number")
            sys_values[name] = value
    files = metadata.get("files") or {}
    if not isinstance(files, dict):
        raise Invalid("metadata.files maps a file name to its asset fields ({roles, title, description, ...})")
    return sys_values, {name: _file_fields(name, fields) for name, fields in files.items()}


def _file_fields(file_name: str, fields: Any) -> Doc:
    """The asset fields one file of a publish sets, validated like an asset body (``AssetFields``);
    the fields the server owns (href, type, size, checksum, version, latest, ``sys:*``) are refused."""
    what = f"metadata.files[{file_name!r}]"
    if not isinstance(fields, dict):
        raise Invalid(f"{what} is an object of asset fields, e.g. {{\"roles\": [\"data\"], \"title\": \"...\"}}")
    owned = sorted(k for k in fields if k in SERVER_FIELDS or k.startswith(SERVER_PREFIXES))
    if owned:
        raise Invalid(
            f"{what} may not set {', '.join(owned)}: the server sets those for each version "
            f"(give {', '.join(sorted(FILE_FIELDS))} or extension fields prefix:name)"
        )
    try:
        checked = AssetFields.model_validate(fields)
    except ValidationError as exc:
        raise Invalid(validation_detail(exc, what)) from None
    dumped = checked.model_dump(mode="json", by_alias=True, exclude_none=True)
    out: Doc = {k: dumped[k] for k in fields if k in dumped and k != "extensions"}
    out.update(dumped.get("extensions") or {})
    return out


def _object_metadata(actor: str, sys_values: dict[str, Any], fields: Doc) -> dict[str, str]:
    """The custom object metadata of a version: what indexing turns into its record (ASCII-safe JSON;
    the asset fields other than ``roles`` ride in ``publish.fields``, applied by ``VersionIndex``)."""
    info: Doc = {"by": actor, **sys_values}
    extra = {k: v for k, v in fields.items() if k != "roles"}
    if extra:
        info[PUBLISH_FIELDS] = extra
    out = {PUBLISH_METADATA: json.dumps(info, ensure_ascii=True, separators=(",", ":"))}
    if fields.get("roles"):
        out["roles"] = json.dumps(fields["roles"], ensure_ascii=True)
    if sum(len(k) + len(v) for k, v in out.items()) > OBJECT_METADATA_MAX:
        raise Invalid(
            f"the metadata of one published file is at most {OBJECT_METADATA_MAX} bytes as JSON (it is stored with "
            "the object, whose metadata storage keeps small): shorten its description or fields"
        )
    return out
