"""An item's assets as written through the STAC Transaction extension: the assets inline in an item
body become asset records of the item (asset id ``<item>.<key>``, or the key itself when it starts
with the item id), a PATCH ``assets`` merges into
or soft-deletes them, and deleting an item soft-deletes its assets."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from dynastore.domain import time as dtime
from dynastore.domain.asset import FILE_SIZE_MAX, HREF_SCHEMES, AssetFields
from dynastore.domain.audit import audit_doc, audit_docs
from dynastore.domain.ids import ID_PATTERN, slug
from dynastore.errors import Conflict, Invalid, NotFound
from dynastore.ports import AssetWrite, BlobStore, Doc
from dynastore.services.paging import every_asset
from dynastore.services.patching import merge_patch, validated
from dynastore.services.stac.base import StacBase
from dynastore.services.stac.rendering import ASSET_INTERNAL

# Rendered asset fields the service sets; a client sending a read document back may include them.
_ASSET_SERVER_FIELDS = frozenset({"created", "updated"})
ITEM_DELETE_VIA = "stac-item-delete"  # the audit detail ``via`` of an asset deleted with its item
ITEM_KEY_SEPARATORS = ("-", ".", "_", "~")  # after the item id, they make a key the asset id as it is
_ID_RE = re.compile(ID_PATTERN)
SLUG_MAX, SLUG_STRIPPED = 200, "-.~_"  # slug()'s default length and the characters it strips at the ends
ITEM_DELETE_CHUNK = 200  # assets soft-deleted per atomic write (+ as many audits) when an item is deleted


class InlineAssetsMixin(StacBase):
    def _inline_asset_writes(
        self,
        catalog_id: str,
        collection_id: str,
        item_id: str,
        inline: Doc,
        actor: str,
        *,
        known: Doc | None = None,
        blobs: BlobStore | None = None,
        audit_extra: Doc | None = None,
        now: str | None = None,
        check_href: Callable[[str], None] | None = None,
        candidates: dict[str, tuple[str, ...]] | None = None,
    ) -> list[tuple[AssetWrite, Doc]]:
        """Validate an item's inline assets and plan their upserts as asset records of the item.
        ``known``: the asset records by id, read beforehand for a whole batch (absent = no record);
        ``blobs``: the catalog's bucket, when the caller has it already; ``now``: the time of the
        write; ``check_href``: the catalog's href rule (``AssetRecordBuilder.href_checker``);
        ``candidates``: ``asset_id_candidates`` of (some of) the keys, worked out for the batch."""
        if not inline:
            return []
        if len(inline) > 10_000:
            raise Invalid("an item body carries at most 10,000 assets; add more through the asset API")
        planned: list[tuple[AssetWrite, Doc]] = []
        resolved = self._asset_ids_of_keys(catalog_id, collection_id, item_id, list(inline), known, candidates)
        now = now or dtime.now_iso()
        audit_of = audit_docs(catalog_id, "asset", actor, at=now, **_via(audit_extra))
        item_asset = self.records.item_asset
        for key, body in inline.items():
            if not isinstance(body, dict):
                raise Invalid(f"assets.{key} must be a STAC Asset object")
            asset_id, current = resolved[key]
            fields: AssetFields | Doc | None = plain_asset_fields(body)
            if fields is None:
                fields = _asset_fields(_as_sent_back(body), f"assets.{key}")
            if check_href is None:  # the first asset (its fields are checked before the catalog's bucket is read)
                if blobs is None:
                    blobs = self.records.blobs_of(catalog_id)
                check_href = self.records.href_checker(catalog_id, blobs)
            try:
                new_doc = item_asset(
                    asset_id,
                    fields,
                    catalog_id=catalog_id,
                    collection_id=collection_id,
                    item_id=item_id,
                    current=current,
                    check_href=check_href,
                    now=now,
                )
            except Invalid as exc:
                raise type(exc)(f"assets.{key}: {exc.detail}", **exc.extra) from None
            if current is None:
                planned.append((AssetWrite(new_doc, 0), audit_of(asset_id, "create")))
            else:
                planned.append((AssetWrite(new_doc, current.get("rev")), audit_of(asset_id, "replace")))
        return planned

    def _asset_ids_of_keys(
        self,
        catalog_id: str,
        collection_id: str,
        item_id: str,
        keys: list[str],
        known: Doc | None = None,
        worked_out: dict[str, tuple[str, ...]] | None = None,
    ) -> dict[str, tuple[str, Doc | None]]:
        """The asset id (and current record) of each inline asset key of an item, by one rule that
        does not depend on what other items hold (``asset_id_candidates``); a key that already names
        an asset of this item (one registered through the asset API, say) keeps that record.
        ``Conflict`` when the id is another record's."""
        if worked_out is None:
            candidates = {key: asset_id_candidates(item_id, key) for key in keys}
        else:
            candidates = {key: worked_out.get(key) or asset_id_candidates(item_id, key) for key in keys}
        if known is not None:
            existing = known
        else:
            existing = {
                d["id"]: d for d in self.store.get_assets(catalog_id, [c for pair in candidates.values() for c in pair])
            }

        def ours(doc: Doc | None) -> bool:
            return doc is not None and doc.get("collection_id") == collection_id and doc.get("item_id") == item_id

        resolved: dict[str, tuple[str, Doc | None]] = {}
        for key, pair in candidates.items():
            primary = pair[0]
            alias = pair[1] if len(pair) > 1 else None
            found = existing.get(primary)
            if found is None and (alias is None or alias not in existing):
                resolved[key] = primary, None  # the common case of a bulk load: a new record
            elif ours(found):
                resolved[key] = primary, found
            elif alias is not None and ours(existing.get(alias)):
                resolved[key] = alias, existing[alias]
            elif found is None:
                resolved[key] = primary, None
            else:
                raise Conflict(f"asset key {key!r}: id {primary!r} is taken by another record of the catalog")
        return resolved

    def _patched_asset_writes(
        self, catalog_id: str, collection_id: str, item_id: str, patch: Doc, actor: str, audit_extra: Doc | None = None
    ) -> list[tuple[AssetWrite, Doc]]:
        """PATCH ``assets``: a key set to null soft-deletes that asset, an object merges into it."""
        planned: list[tuple[AssetWrite, Doc]] = []
        upserts: Doc = {}
        resolved = self._asset_ids_of_keys(catalog_id, collection_id, item_id, list(patch))
        for key, value in patch.items():
            asset_id, current = resolved[key]
            in_item = current is not None
            if value is None:
                if current is None:
                    raise NotFound(f"asset {key!r} is not an asset of item {item_id!r}")
                now = dtime.now_iso()
                planned.append(
                    (
                        AssetWrite(
                            {**current, "status": "deleted", "deleted_at": now, "updated": now}, current.get("rev")
                        ),
                        audit_doc(catalog_id, "asset", asset_id, "delete", actor, **_via(audit_extra)),
                    )
                )
            elif in_item and current is not None:
                view = {k: v for k, v in current.items() if k not in ASSET_INTERNAL and k not in ("created", "updated")}
                upserts[key] = merge_patch({k: v for k, v in view.items() if v is not None}, value)
            else:
                upserts[key] = value
        planned.extend(
            self._inline_asset_writes(catalog_id, collection_id, item_id, upserts, actor, audit_extra=audit_extra)
        )
        return planned

    def _write_inline_assets(self, writes: list[tuple[AssetWrite, Doc]]) -> None:
        if writes:
            self.store.write_assets([w for w, _ in writes], audits=[a for _, a in writes])

    def _live_item_assets(self, catalog_id: str, collection_id: str, item_id: str) -> list[Doc]:
        """Every asset of an item that is not deleted (all pages)."""
        query = self._item_scope(catalog_id, collection_id, item_id, status=("active", "missing"), limit=1000)
        return list(every_asset(self.store, query))

    def _soft_delete_assets(self, catalog_id: str, docs: list[Doc], actor: str) -> None:
        """Soft-delete ``docs`` (with an audit entry each), in atomic chunks; an asset changed meanwhile
        is read again and deleted as it is now."""
        for start in range(0, len(docs), ITEM_DELETE_CHUNK):
            chunk = docs[start : start + ITEM_DELETE_CHUNK]
            for _ in range(3):
                now = dtime.now_iso()
                writes: list[AssetWrite] = []
                audits: list[Doc] = []
                for d in chunk:
                    deleted = {**d, "status": "deleted", "deleted_at": now, "updated": now}
                    writes.append(AssetWrite(deleted, d.get("rev")))
                    details = {"via": ITEM_DELETE_VIA, "previous_status": d.get("status")}
                    audits.append(audit_doc(catalog_id, "asset", d["id"], "delete", actor, **details))
                try:
                    self.store.write_assets(writes, audits=audits)
                    break
                except Conflict:
                    fresh = self.store.get_assets(catalog_id, [d["id"] for d in chunk])
                    chunk = [d for d in fresh if d.get("status") != "deleted"]
            else:
                raise Conflict(
                    "the item is deleted, but some of its assets kept changing meanwhile and stay active; "
                    "delete them through the asset API"
                )


def asset_id_candidates(item_id: str, key: str) -> tuple[str, ...]:
    """The id a new inline asset gets, then the key itself when it may name an asset the item has.

    A key that starts with the item id and a separator (``S2A_1-B04``, ``S2A_1.visual``) is already
    particular to the item: it is the asset id. Any other key (``visual``, ``B04``) becomes
    ``<item>.<key>``."""
    if not _ID_RE.match(key):  # check_id's rule ("." and ".." do not match it either)
        return (slug(f"{item_id}.{key}"),)
    if key.startswith(item_id) and key[len(item_id) : len(item_id) + 1] in ITEM_KEY_SEPARATORS:
        return (key,)
    joined = f"{item_id}.{key}"
    if len(joined) <= SLUG_MAX and joined[-1] not in SLUG_STRIPPED and _ID_RE.fullmatch(joined):
        return joined, key  # what slug() gives for a string it need not change
    return slug(joined), key


def _as_sent_back(body: Doc) -> Doc:
    """An inline asset as a client sends back what it read (GET → PUT): the service's own fields
    (``created``, ``updated``) are dropped, and the download URL rendered in place of a stored
    ``file://`` href (kept under ``alternate.file``) turns back into that href."""
    out = {k: v for k, v in body.items() if k not in _ASSET_SERVER_FIELDS}
    alternate = out.get("alternate")
    stored = alternate.get("file") if isinstance(alternate, dict) else None
    stored_href = stored.get("href") if isinstance(stored, dict) else None
    href = out.get("href")
    if (
        isinstance(alternate, dict)
        and isinstance(stored_href, str)
        and stored_href.startswith("file://")
        and isinstance(href, str)
        and href.endswith("/download")
    ):
        out["href"] = stored_href
        rest = {k: v for k, v in alternate.items() if k != "file"}
        if rest:
            out["alternate"] = rest
        else:
            del out["alternate"]
    return out


_PLAIN_TEXT_FIELDS = frozenset({"type", "title", "description"})
_DROPPED_FIELDS = _ASSET_SERVER_FIELDS | ASSET_INTERNAL  # what ``_as_sent_back`` and ``_asset_fields`` drop
_CHECKSUM_RE = re.compile(r"[0-9a-fA-F]{4,}")  # AssetFields.file_checksum's pattern (anchored at both ends)


def plain_asset_fields(body: Doc) -> Doc | None:
    """The client fields of a common inline asset (``href``, ``type``, ``title``, ``description``,
    ``roles``, ``file:size``, ``file:checksum``, ``prefix:name`` extension fields) in the form
    ``AssetFields`` gives them, checked without building the model (bulk loads); None for any other
    body (or value the model would convert or refuse), which ``_asset_fields`` then validates and explains."""
    href = body.get("href")
    if type(href) is not str or not href.startswith(HREF_SCHEMES):
        return None
    out: Doc = {}
    value: Any
    for key, value in body.items():
        if key in _PLAIN_TEXT_FIELDS:
            if value is not None and type(value) is not str:
                return None
        elif key == "roles":
            if type(value) is not list:
                return None
            for role in value:
                if type(role) is not str:
                    return None
            stripped = [role.strip() for role in value]
            if stripped != value or "" in value or (len(value) > 1 and len(set(value)) < len(value)):
                stripped = list(dict.fromkeys(role for role in stripped if role))
            value = stripped
        elif key == "file:size":
            if value is not None and (type(value) is not int or not 0 <= value <= FILE_SIZE_MAX):
                return None
        elif key == "file:checksum":
            if value is not None and (type(value) is not str or not _CHECKSUM_RE.fullmatch(value)):
                return None
        elif key in _DROPPED_FIELDS:
            continue
        elif key != "href" and ":" not in key:
            return None
        out[key] = value
    return out


def _asset_fields(body: Doc, what: str) -> AssetFields:
    fields = validated(AssetFields, {k: v for k, v in body.items() if k not in ASSET_INTERNAL}, what)
    if not fields.href:
        raise Invalid(f"{what} needs an href")
    return fields


def _via(audit_extra: Doc | None) -> Doc:
    """Audit details of an inline asset write: ``via: stac-item`` unless the caller names its own."""
    return {"via": "stac-item", **(audit_extra or {})}
