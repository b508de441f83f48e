"""STAC items: read, and the Transaction extension (create one or a FeatureCollection, replace,
merge-patch, delete). Stored shapes: see the package docstring."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from dynastore.domain import time as dtime
from dynastore.domain.audit import audit_doc
from dynastore.domain.gc_pause import gc_paused
from dynastore.domain.geo_bounds import simple_bounds
from dynastore.domain.ids import check_id
from dynastore.domain.search import ItemQuery
from dynastore.domain.stac_version import STAC_VERSION
from dynastore.errors import Conflict, DynastoreError, Invalid, NotFound
from dynastore.ports import AssetWrite, BlobStore, Doc, ItemWrite
from dynastore.services.patching import merge_patch
from dynastore.services.revisions import expected_rev, precondition
from dynastore.services.stac.bulk_load import record_errors
from dynastore.services.stac.collections import CollectionsMixin
from dynastore.services.stac.embedding import EmbeddingMixin
from dynastore.services.stac.inline_assets import InlineAssetsMixin, asset_id_candidates
from dynastore.services.stac.rendering import ITEM_PRIVATE, client_links, client_view
from dynastore.services.stac.validation import check_geometry, validate_stac
from dynastore.services.versions.index import VersionIndex
from dynastore.services.versions.item_patch import version_keys

MAX_BULK_ITEMS = 10_000  # items in one POST (FeatureCollection, NDJSON, bulk_items)
ITEM_DATETIME_FIELDS = ("datetime", "start_datetime", "end_datetime", "created", "updated")
_NOT_FOREIGN = frozenset({"assets", *ITEM_PRIVATE})  # body members an item does not keep as foreign members


class ItemsMixin(CollectionsMixin, InlineAssetsMixin, EmbeddingMixin):
    def get_item_doc(self, catalog_id: str, collection_id: str, item_id: str) -> Doc:
        self.get_collection_doc(catalog_id, collection_id)
        try:
            return self.store.get_item(catalog_id, collection_id, item_id)
        except NotFound:
            raise NotFound(
                f"item {item_id!r} does not exist in collection {collection_id!r} of catalog {catalog_id!r}"
            ) from None

    def create_item(self, catalog_id: str, collection_id: str, body: Any, *, actor: str) -> Doc:
        self.get_collection_doc(catalog_id, collection_id)
        doc, inline_assets = self._item_doc(catalog_id, collection_id, body, None)
        writes = self._inline_asset_writes(catalog_id, collection_id, doc["id"], inline_assets, actor)
        return self._write_new_items(catalog_id, collection_id, [(doc, writes)], actor)[0]

    def create_items(
        self,
        catalog_id: str,
        collection_id: str,
        features: Any,
        *,
        actor: str,
        upsert: bool = False,
        lines: bool = False,
        first: int = 0,
    ) -> list[Doc]:
        """POST of a FeatureCollection (or NDJSON, or a bulk_items body), all-or-nothing: every item
        and its inline assets are validated (each item must be new unless ``upsert``, which replaces
        an existing one as PUT does) and every failing feature is reported in one error; then all of
        them are written in one ``write_items`` call. Existing items and asset records are read in
        one call each for the whole batch (``_bulk_state``). Errors name ``features[first + i]``, or
        ``line first + i`` with ``lines`` (an NDJSON body, blank lines aside)."""
        self.get_collection_doc(catalog_id, collection_id)
        if not isinstance(features, list) or not features:
            raise Invalid("a FeatureCollection needs a non-empty features array")
        if len(features) > MAX_BULK_ITEMS:
            raise Invalid(f"at most {MAX_BULK_ITEMS:,} items in one request; `dynastore load` streams larger files")
        with gc_paused():  # tens of thousands of acyclic dicts: the collector's passes would cost more
            return self._create_items(catalog_id, collection_id, features, actor, upsert, lines, first)

    def _create_items(
        self,
        catalog_id: str,
        collection_id: str,
        features: list[Any],
        actor: str,
        upsert: bool,
        lines: bool,
        first: int,
    ) -> list[Doc]:
        current_items, known_assets, candidates = self._bulk_state(catalog_id, collection_id, features)
        planned: list[tuple[Doc, list[tuple[AssetWrite, Doc]]]] = []
        expect: list[int | None] = []
        failures: list[tuple[int, DynastoreError]] = []
        seen: dict[str, int] = {}
        blobs: BlobStore | None = None  # the catalog's bucket, read once for the batch
        check_href: Callable[[str], None] | None = None
        now = dtime.now_iso()  # one write, one time: created/updated of every record and audit entry
        for index, feature in enumerate(features):
            try:
                sent_id = feature.get("id") if isinstance(feature, dict) else None
                current = current_items.get(sent_id) if isinstance(sent_id, str) and upsert else None
                doc, inline = self._item_doc(catalog_id, collection_id, feature, current, now)
                if doc["id"] in seen:
                    raise Invalid(f"item id {doc['id']!r} appears twice (also features[{seen[doc['id']]}])")
                seen[doc["id"]] = index
                if doc["id"] in current_items and not upsert:
                    raise Conflict(
                        f"item {doc['id']!r} exists already in collection {collection_id!r}; PUT replaces it"
                    )
                if inline and blobs is None:
                    blobs = self.records.blobs_of(catalog_id)
                    check_href = self.records.href_checker(catalog_id, blobs)
                writes = self._inline_asset_writes(
                    catalog_id,
                    collection_id,
                    doc["id"],
                    inline,
                    actor,
                    known=known_assets,
                    blobs=blobs,
                    now=now,
                    check_href=check_href,
                    candidates=candidates.get(doc["id"]),
                )
            except (Invalid, Conflict) as exc:
                failures.append((index, exc))
                continue
            planned.append((doc, writes))
            expect.append(current.get("rev") if current is not None else 0)
        if failures:
            raise record_errors(failures, lines=lines, first=first)
        return self._write_new_items(catalog_id, collection_id, planned, actor, expect, now)

    def _bulk_state(
        self, catalog_id: str, collection_id: str, features: list[Any]
    ) -> tuple[dict[str, Doc], Doc, dict[str, dict[str, tuple[str, ...]]]]:
        """The stored items a batch names, the asset records its inline asset keys may name (by id),
        and those keys' id candidates by item id (``asset_id_candidates``, worked out once)."""
        ids = tuple(dict.fromkeys(f["id"] for f in features if isinstance(f, dict) and isinstance(f.get("id"), str)))
        found: list[Doc] = []
        query = ItemQuery(catalog_ids=(catalog_id,), collections=(collection_id,), ids=ids, limit=1000)
        while ids:
            page = self.store.search_items(query)
            found.extend(page.items)
            if not page.next_token:
                break
            query = replace(query, token=page.next_token)
        by_item: dict[str, dict[str, tuple[str, ...]]] = {}  # item id -> asset key -> its id candidates
        for f in features:
            if isinstance(f, dict) and isinstance(f.get("id"), str) and isinstance(f.get("assets"), dict):
                item_id, keys = f["id"], by_item.setdefault(f["id"], {})
                for key in f["assets"]:
                    if isinstance(key, str) and key not in keys:
                        keys[key] = asset_id_candidates(item_id, key)
        # once each: the bare keys (``visual``) repeat in every item
        candidates = dict.fromkeys(c for keys in by_item.values() for pair in keys.values() for c in pair)
        assets = {d["id"]: d for d in self.store.get_assets(catalog_id, list(candidates))} if candidates else {}
        return {d["id"]: d for d in found}, assets, by_item

    def _write_new_items(
        self,
        catalog_id: str,
        collection_id: str,
        planned: list[tuple[Doc, list[tuple[AssetWrite, Doc]]]],
        actor: str,
        expect: list[int | None] | None = None,
        now: str | None = None,
    ) -> list[Doc]:
        """Create (or, with ``expect`` revisions, replace) items with their inline assets in one atomic
        ``write_items`` (``now``: the time of their audit entries)."""
        revs = expect or [0] * len(planned)
        items = [
            ItemWrite(
                doc,
                rev,
                audit_doc(
                    catalog_id,
                    "item",
                    doc["id"],
                    "create" if rev == 0 else "replace",
                    actor,
                    at=now,
                    assets=len(writes),
                ),
            )
            for (doc, writes), rev in zip(planned, revs, strict=True)
        ]
        assets = [w for _, writes in planned for w, _ in writes]
        audits = [a for _, writes in planned for _, a in writes]
        try:
            return self.store.write_items(catalog_id, items, assets=assets, audits=audits)
        except Conflict:
            ids = ", ".join(repr(doc["id"]) for doc, _ in planned[:5]) + (", ..." if len(planned) > 5 else "")
            raise Conflict(
                f"item {ids} or one of its assets was written by someone else meanwhile (or exists already in "
                f"collection {collection_id!r}; PUT replaces an item); nothing was written"
            ) from None

    def replace_item(
        self,
        catalog_id: str,
        collection_id: str,
        item_id: str,
        body: Any,
        *,
        actor: str,
        if_rev: int | None = None,
        audit_extra: Doc | None = None,
    ) -> tuple[Doc, bool]:
        """``audit_extra``: details every audit entry of the write carries (an ESGF envelope's publisher)."""
        check_id(item_id, "item id")
        self.get_collection_doc(catalog_id, collection_id)
        if isinstance(body, dict) and body.get("id") not in (None, item_id):
            raise Invalid(f"body id {body.get('id')!r} differs from the path id {item_id!r}")
        try:
            current: Doc | None = self.store.get_item(catalog_id, collection_id, item_id)
        except NotFound:
            current = None
        doc, inline_assets = self._item_doc(
            catalog_id, collection_id, {**body, "id": item_id} if isinstance(body, dict) else body, current
        )
        writes = self._inline_asset_writes(
            catalog_id, collection_id, item_id, inline_assets, actor, audit_extra=audit_extra
        )
        action = "create" if current is None else "replace"
        audit = audit_doc(catalog_id, "item", item_id, action, actor, assets=len(writes), **(audit_extra or {}))
        expect = expected_rev(current, if_rev, f"item {item_id!r}")
        with precondition(if_rev, f"item {item_id!r}"):
            stored = self.store.put_item(catalog_id, doc, expect_rev=expect, audit=audit)
        self._write_inline_assets(writes)
        return stored, current is None

    def patch_item(
        self,
        catalog_id: str,
        collection_id: str,
        item_id: str,
        patch: Any,
        *,
        actor: str,
        if_rev: int | None = None,
        audit_extra: Doc | None = None,
    ) -> Doc:
        current = self.get_item_doc(catalog_id, collection_id, item_id)
        if not isinstance(patch, dict):
            raise Invalid("a PATCH body is a JSON object (RFC 7386 merge patch)")
        if "id" in patch and patch["id"] != item_id:
            raise Invalid("an item id cannot be changed")
        if "collection" in patch and patch["collection"] != collection_id:
            raise Invalid("an item cannot move to another collection with PATCH")
        asset_patch = patch.get("assets")
        if asset_patch is not None and not isinstance(asset_patch, dict):
            raise Invalid("assets in a PATCH is an object keyed by asset id")
        merged = merge_patch(client_view(current), {k: v for k, v in patch.items() if k != "assets"})
        doc, _ = self._item_doc(catalog_id, collection_id, merged, current)
        writes: list[tuple[AssetWrite, Doc]] = []
        versions, versions_touched = VersionIndex(self.store), False
        if asset_patch:
            asset_patch, versions_touched = version_keys(versions, catalog_id, collection_id, item_id, asset_patch)
            writes = self._patched_asset_writes(
                catalog_id, collection_id, item_id, asset_patch, actor, audit_extra=audit_extra
            )
        audit = audit_doc(
            catalog_id,
            "item",
            item_id,
            "update",
            actor,
            patch={k: v for k, v in patch.items() if k != "assets"},
            **(audit_extra or {}),
        )
        expect = expected_rev(current, if_rev, f"item {item_id!r}")
        with precondition(if_rev, f"item {item_id!r}"):
            stored = self.store.put_item(catalog_id, doc, expect_rev=expect, audit=audit)
        self._write_inline_assets(writes)
        if versions_touched:  # a version soft-deleted or described: re-rank latest, mirror the newest
            versions.refresh(catalog_id, collection_id, item_id, actor=actor)
            stored = self.get_item_doc(catalog_id, collection_id, item_id)
        return stored

    def delete_item(
        self, catalog_id: str, collection_id: str, item_id: str, *, actor: str, if_rev: int | None = None
    ) -> None:
        """Deletes the item; its assets are soft-deleted, each with its own audit entry, so an editor's
        item DELETE removes nothing for good (hard deletes stay admin-only): once the item exists again
        they can be restored. ``if_rev``: If-Match on the item."""
        current = self.get_item_doc(catalog_id, collection_id, item_id)
        what = f"item {item_id!r}"
        expect = expected_rev(current, if_rev, what) if if_rev is not None else None
        live = self._live_item_assets(catalog_id, collection_id, item_id)
        audit = audit_doc(catalog_id, "item", item_id, "delete", actor, assets=len(live))
        with precondition(if_rev, what):
            self.store.delete_item(catalog_id, collection_id, item_id, audit=audit, expect_rev=expect)
        self._soft_delete_assets(catalog_id, live, actor)

    def _item_doc(
        self, catalog_id: str, collection_id: str, body: Any, current: Doc | None, now: str | None = None
    ) -> tuple[Doc, Doc]:
        """The stored form of an item body and its inline assets (validated, nothing written);
        ``now``: the time of the write (one for a whole batch)."""
        if not isinstance(body, dict):
            raise Invalid("an item is a JSON object (a STAC Item, GeoJSON Feature)")
        if body.get("type", "Feature") != "Feature":
            raise Invalid('a STAC Item has type "Feature"')
        item_id = body.get("id")
        if not isinstance(item_id, str):
            raise Invalid("an item needs an `id` (URL-safe: A-Z a-z 0-9 . _ ~ -)")
        check_id(item_id, "item id")
        if body.get("collection") not in (None, collection_id):
            raise Invalid(f"the item names collection {body.get('collection')!r} but is sent to {collection_id!r}")
        properties = body.get("properties")
        if not isinstance(properties, dict):
            raise Invalid("an item needs `properties` (an object with at least datetime)")
        properties = dict(properties)
        for name in ITEM_DATETIME_FIELDS:
            if properties.get(name) is not None:
                if not isinstance(properties[name], str):
                    raise Invalid(f"properties.{name} must be an RFC 3339 date-time string")
                properties[name] = dtime.normalize(properties[name], f"properties.{name}")
        if "datetime" not in properties:
            raise Invalid("properties.datetime is required (null when start_datetime and end_datetime are given)")
        if properties.get("datetime") is None and not (
            properties.get("start_datetime") and properties.get("end_datetime")
        ):
            raise Invalid("an item with a null datetime needs start_datetime and end_datetime")
        if (
            properties.get("start_datetime")
            and properties.get("end_datetime")
            and properties["start_datetime"] > properties["end_datetime"]
        ):
            raise Invalid("properties.start_datetime is after end_datetime")
        now = now or dtime.now_iso()
        properties["created"] = (current or {}).get("properties", {}).get("created") or properties.get("created") or now
        properties["updated"] = now
        geometry = body.get("geometry")
        bbox = body.get("bbox")
        if geometry is not None:
            bounds = simple_bounds(geometry) or check_geometry(geometry, "geometry").bounds
            if bbox is None:
                bbox = list(bounds)
        elif "geometry" not in body:
            raise Invalid("an item needs `geometry` (GeoJSON, or null)")
        inline = body.get("assets") or {}
        if not isinstance(inline, dict):
            raise Invalid("assets is an object keyed by asset key")
        doc: Doc = {
            "type": "Feature",
            "stac_version": STAC_VERSION,
            "stac_extensions": body.get("stac_extensions") or [],
            "id": item_id,
            "collection": collection_id,
            "geometry": geometry,
            "properties": properties,
            "links": client_links(body.get("links")),
            "assets": {},
        }
        if bbox is not None:
            doc["bbox"] = bbox
        for key, value in body.items():
            if key not in doc and key not in _NOT_FOREIGN:
                doc[key] = value  # foreign members are kept
        # the managed links are rendered per request; a collection link stands in for them here
        validate_stac({**doc, "links": [{"rel": "collection", "href": "./collection.json"}]}, "Item")
        return stored_item(doc, catalog_id), inline


def stored_item(doc: Doc, catalog_id: str) -> Doc:
    """The stored form of a validated item ``doc``: what ``pystac.Item.from_dict(doc).to_dict()``
    gives (its key order; ``bbox`` only with a geometry; no assets), built without the round trip."""
    stored: Doc = {
        "type": "Feature",
        "stac_version": doc["stac_version"],
        "stac_extensions": doc["stac_extensions"],
        "id": doc["id"],
        "geometry": doc["geometry"],
    }
    if doc["geometry"]:
        stored["bbox"] = doc.get("bbox", [])
    stored["properties"] = doc["properties"]
    stored["links"] = doc["links"]
    stored["collection"] = doc["collection"]
    for key, value in doc.items():
        if key not in stored and key not in ("assets", "bbox"):
            stored[key] = value  # foreign members, in their order
    stored["catalog_id"] = catalog_id
    return stored
