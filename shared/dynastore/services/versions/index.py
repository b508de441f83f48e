"""The versions of an item's files as the records hold them (VERSIONS.md): grouping, the ``version``
and ``latest`` fields, each version's ``audit.prov`` block and the item's mirrored ``sys:*`` and
``prov:bundle``; ``@latest`` and history reads.

``refresh`` derives every one of those fields from the set of versions alone, so it converges
whatever order (and however often) publishes, storage events and the reconciler call it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC
from typing import Any

from dynastore.domain import time as dtime
from dynastore.domain.asset import file_name
from dynastore.domain.audit import audit_doc
from dynastore.domain.retry import retry_on_conflict
from dynastore.domain.search import AssetQuery, Page
from dynastore.domain.storage import parse_key
from dynastore.domain.versions import (
    PROV_BUNDLE,
    SYS_FIELDS,
    VersionedFile,
    alias_name,
    bundle_id,
    check_series_name,
    parse_versioned,
)
from dynastore.errors import Invalid, NotFound
from dynastore.ports import AssetWrite, Doc, MetadataStore

ACTOR = "indexer"
PAGE = 1000  # item assets read per query while grouping versions
ATTEMPTS = 8  # read-decide-write rounds against concurrent refreshes of one item
HISTORY_PAGE_MAX = 1000
INACTIVE = ("missing", "deleted")  # version records that never hold ``latest``
PUBLISH_METADATA = "publish"  # the object metadata key a publish writes: {"by": ..., "sys:*": ..., "fields": ...}
PUBLISH_FIELDS = "fields"  # the asset fields (title, description, ...) the publish gave the file

Series = dict[str, list[tuple[VersionedFile, Doc]]]


class VersionIndex:
    def __init__(self, store: MetadataStore) -> None:
        self.store = store

    # ------------------------------------------------------------------------------ reads

    def series(
        self, catalog_id: str, collection_id: str, item_id: str, *, status: tuple[str, ...] = ("active",)
    ) -> Series:
        """Every published version of the item in ``status`` (default: active), by ``<name>``, newest first."""
        query = AssetQuery(
            catalog_ids=(catalog_id,),
            collection_id=collection_id,
            item_id=item_id,
            level="item",
            status=status,
            limit=PAGE,
        )
        out: Series = {}
        while True:
            page = self.store.search_assets(query)
            for doc in page.items:
                version = parse_versioned(file_name(doc))
                if version is not None:
                    out.setdefault(version.name, []).append((version, doc))
            if page.next_token is None:
                break
            query = dataclasses.replace(query, token=page.next_token)
        for entries in out.values():
            entries.sort(key=lambda pair: (pair[0].when, pair[0].stamp), reverse=True)
        return out

    def newest(self, catalog_id: str, collection_id: str, item_id: str, name: str) -> tuple[VersionedFile, Doc] | None:
        entries = self.series(catalog_id, collection_id, item_id).get(name) or []
        return entries[0] if entries else None

    def resolve(self, catalog_id: str, collection_id: str | None, item_id: str | None, ref: str) -> str:
        """The asset id ``ref`` names: ``name@latest[.ext]`` → the newest version of ``name``,
        ``name@<stamp>.<ext>`` → that version; any other ``ref`` is returned as it is."""
        if "@" not in ref or not collection_id or not item_id:
            return ref
        alias = alias_name(ref)
        versioned = parse_versioned(ref)
        if alias is None and versioned is None:
            raise Invalid(
                f"{ref!r} is neither an asset id nor a version: use <name>@latest or <name>@<YYYY-MM-DDTHHMMZ>.<ext>"
            )
        name = alias if alias is not None else versioned.name  # type: ignore[union-attr]
        entries = self.series(catalog_id, collection_id, item_id).get(name) or []
        for version, doc in entries:
            if alias is not None or version.file_name == ref:
                return str(doc["id"])
        raise NotFound(f"item {item_id!r} has no published version {ref!r}")

    def history(
        self, catalog_id: str, collection_id: str, item_id: str, name: str, *, limit: int, token: str | None
    ) -> Page[Doc]:
        """Every version of ``name``, newest first; ``token`` is the offset of the next page."""
        check_series_name(name)
        if not 1 <= limit <= HISTORY_PAGE_MAX:
            raise Invalid(f"limit must be between 1 and {HISTORY_PAGE_MAX}")
        start = 0
        if token is not None:
            if not token.isdigit():
                raise Invalid("token is not one this endpoint gave: use the `next` link of the previous page")
            start = int(token)
        entries = self.series(catalog_id, collection_id, item_id).get(name) or []
        page = [doc for _, doc in entries[start : start + limit]]
        after = start + limit
        return Page(page, next_token=str(after) if after < len(entries) else None, matched=len(entries))

    # ------------------------------------------------------------------------------ refresh

    def refresh_for_keys(self, keys: Sequence[str]) -> dict[str, Exception]:
        """``refresh`` each item that the version files among ``keys`` belong to, once per item; the
        keys whose refresh failed, with its error (other keys are not versions: nothing to do)."""
        items: dict[tuple[str, str, str], list[str]] = {}
        for key in keys:
            if parse_versioned(key.rsplit("/", 1)[-1]) is None:
                continue
            try:
                scope = parse_key(key)
            except Invalid:
                continue
            if scope.item_id:
                items.setdefault((scope.catalog_id, scope.collection_id or "", scope.item_id), []).append(key)
        failed: dict[str, Exception] = {}
        for (catalog_id, collection_id, item_id), members in items.items():
            try:
                self.refresh(catalog_id, collection_id, item_id)
            except Exception as exc:  # recorded per key by the caller: the reconciler applies them again
                failed.update(dict.fromkeys(members, exc))
        return failed

    def refresh(self, catalog_id: str, collection_id: str, item_id: str, *, actor: str = ACTOR) -> None:
        """Bring every version record of the item and the item's mirrored properties in line with the
        versions that exist (only what differs is written)."""
        retry_on_conflict(
            lambda: self._refresh(catalog_id, collection_id, item_id, actor),
            attempts=ATTEMPTS,
            exhausted=f"the versions of item {item_id!r} kept changing; try again",
        )

    def _refresh(self, catalog_id: str, collection_id: str, item_id: str, actor: str) -> None:
        writes: list[AssetWrite] = []
        audits: list[Doc] = []
        newest: tuple[VersionedFile, Doc] | None = None
        for entries in self.series(catalog_id, collection_id, item_id).values():
            for index, (version, doc) in enumerate(entries):
                previous = entries[index + 1][0] if index + 1 < len(entries) else None
                want = version_fields(doc, version, item_id, latest=index == 0, previous=previous)
                if any(doc.get(k) != v for k, v in want.items()):
                    doc = {**doc, **want, "updated": dtime.now_iso()}
                    writes.append(AssetWrite(doc, expect_rev=doc.get("rev", 0)))
                    audits.append(
                        audit_doc(
                            catalog_id, "asset", doc["id"], "version", actor, version=want["version"], latest=index == 0
                        )
                    )
                if index == 0 and (newest is None or _before(newest, (version, doc))):
                    newest = (version, doc)
        # A version whose file went missing (or was soft-deleted) is no version anyone gets: it keeps its
        # ``version`` and provenance, but never ``latest`` (that is the newest *active* one's).
        for entries in self.series(catalog_id, collection_id, item_id, status=INACTIVE).values():
            for version, doc in entries:
                if doc.get("latest"):
                    doc = {**doc, "latest": None, "updated": dtime.now_iso()}
                    writes.append(AssetWrite(doc, expect_rev=doc.get("rev", 0)))
                    shown = version.display
                    audit = audit_doc(catalog_id, "asset", doc["id"], "version", actor, version=shown, latest=False)
                    audits.append(audit)
        if writes:
            self.store.write_assets(writes, audits=audits)
        if newest is not None:
            self._mirror(catalog_id, collection_id, item_id, newest, actor)

    def _mirror(
        self, catalog_id: str, collection_id: str, item_id: str, newest: tuple[VersionedFile, Doc], actor: str
    ) -> None:
        try:
            item = self.store.get_item(catalog_id, collection_id, item_id)
        except NotFound:
            return  # a version of an item deleted since: nothing to mirror into
        version, doc = newest
        want: Doc = {name: doc.get(name, default) for name, default in SYS_FIELDS.items()}
        want[PROV_BUNDLE] = bundle_id(item_id, version.stamp)
        properties = dict(item.get("properties") or {})
        if all(properties.get(k) == v for k, v in want.items()):
            return
        properties.update(want)
        properties["updated"] = dtime.now_iso()
        audit = audit_doc(catalog_id, "item", item_id, "publish", actor, bundle=want[PROV_BUNDLE])
        self.store.put_item(catalog_id, {**item, "properties": properties}, expect_rev=item.get("rev", 0), audit=audit)


def _before(a: tuple[VersionedFile, Doc], b: tuple[VersionedFile, Doc]) -> bool:
    """Is ``b`` the better newest version: later, or as late and a data file (the main file of a publish)?"""
    rank_a = (a[0].when, "data" in (a[1].get("roles") or ()), a[0].name)
    rank_b = (b[0].when, "data" in (b[1].get("roles") or ()), b[0].name)
    return rank_b > rank_a


def publish_info(doc: Doc) -> Doc:
    """What the publish recorded on the object (``metadata.publish``), empty for a dropped file."""
    value = (doc.get("metadata") or {}).get(PUBLISH_METADATA)
    return value if isinstance(value, dict) else {}


def version_fields(
    doc: Doc, version: VersionedFile, item_id: str, *, latest: bool, previous: VersionedFile | None
) -> dict[str, Any]:
    """The fields a version record carries: ``version``, ``latest``, the ``sys:*`` values (the
    publish's, else the record's own, else the defaults) and ``metadata.audit.prov``."""
    info = publish_info(doc)
    metadata = dict(doc.get("metadata") or {})
    fields: dict[str, Any] = {"version": version.display, "latest": True if latest else None}
    for name, default in SYS_FIELDS.items():
        fields[name] = info.get(name, doc.get(name, metadata.get(name, default)))
    given = info.get(PUBLISH_FIELDS)
    for name, value in (given.items() if isinstance(given, dict) else ()):
        if name == "metadata" and isinstance(value, dict):
            metadata = {**value, **metadata}  # what the record says since wins
        elif doc.get(name) in (None, [], {}):
            fields[name] = value  # the publish's value, unless an editor has set one since
    prov = {
        "bundle": bundle_id(item_id, version.stamp),
        "entity": version.file_name,
        "who": str(info.get("by") or ACTOR),
        "when": version.when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "content_hash": doc.get("file:checksum"),
        "supersedes": previous.file_name if previous is not None else None,
    }
    audit = dict(metadata.get("audit") or {}) if isinstance(metadata.get("audit"), dict) else {}
    audit["prov"] = prov
    metadata["audit"] = audit
    fields["metadata"] = metadata
    return fields
