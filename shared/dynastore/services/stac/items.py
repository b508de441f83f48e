"""STAC items: read, and the Transaction extension (create one or a FeatureCollection, replace,
merge-patch, delete). Stored shapes: see the package docstring."""

from __future__ import annotations

from typing import Any

import pystac

from dynastore.domain import time as dtime
from dynastore.domain.audit import audit_doc
from dynastore.domain.ids import check_id
from dynastore.domain.stac_version import STAC_VERSION
from dynastore.errors import Conflict, DynastoreError, Invalid, NotFound
from dynastore.ports import AssetWrite, Doc, ItemWrite
from dynastore.services.patching import merge_patch
from dynastore.services.revisions import expected_rev, precondition
from dynastore.services.stac.collections import CollectionsMixin
from dynastore.services.stac.embedding import EmbeddingMixin
from dynastore.services.stac.inline_assets import InlineAssetsMixin
from dynastore.services.stac.rendering import ITEM_PRIVATE, client_links, client_view
from dynastore.services.stac.validation import check_geometry, validate_stac

ITEM_DATETIME_FIELDS = ("datetime", "start_datetime", "end_datetime", "created", "updated")


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

    def create_items(self, catalog_id: str, collection_id: str, features: Any, *, actor: str) -> list[Doc]:
        """POST of a FeatureCollection, all-or-nothing: every item and its inline assets are validated
        (each item must be new) and every failing feature is reported in one error; then all of them
        are written in one ``write_items`` call."""
        self.get_collection_doc(catalog_id, collection_id)
        if not isinstance(features, list) or not features:
            raise Invalid("a FeatureCollection needs a non-empty features array")
        if len(features) > 10_000:
            raise Invalid("at most 10,000 items in one FeatureCollection")
        planned: list[tuple[Doc, list[tuple[AssetWrite, Doc]]]] = []
        failures: list[tuple[int, DynastoreError]] = []
        seen: dict[str, int] = {}
        for index, feature in enumerate(features):
            try:
                doc, inline = self._item_doc(catalog_id, collection_id, feature, None)
                if doc["id"] in seen:
                    raise Invalid(f"item id {doc['id']!r} appears twice (also features[{seen[doc['id']]}])")
                seen[doc["id"]] = index
                try:
                    self.store.get_item(catalog_id, collection_id, doc["id"])
                except NotFound:
                    pass
                else:
                    raise Conflict(
                        f"item {doc['id']!r} exists already in collection {collection_id!r}; PUT replaces it"
                    )
                writes = self._inline_asset_writes(catalog_id, collection_id, doc["id"], inline, actor)
            except (Invalid, Conflict) as exc:
                failures.append((index, exc))
                continue
            planned.append((doc, writes))
        if failures:
            raise _feature_errors(failures)
        return self._write_new_items(catalog_id, collection_id, planned, actor)

    def _write_new_items(
        self, catalog_id: str, collection_id: str, planned: list[tuple[Doc, list[tuple[AssetWrite, Doc]]]], actor: str
    ) -> list[Doc]:
        """Create items with their inline assets in one atomic ``write_items``."""
        items = [
            ItemWrite(doc, 0, audit_doc(catalog_id, "item", doc["id"], "create", actor, assets=len(writes)))
            for doc, writes in planned
        ]
        assets = [w for _, writes in planned for w in writes]
        try:
            return self.store.write_items(
                catalog_id, items, assets=[w for w, _ in assets], audits=[a for _, a in assets]
            )
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
        if asset_patch:
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

    def _item_doc(self, catalog_id: str, collection_id: str, body: Any, current: Doc | None) -> tuple[Doc, Doc]:
        """The stored form of an item body and its inline assets (validated, nothing written)."""
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
        now = dtime.now_iso()
        properties["created"] = (current or {}).get("properties", {}).get("created") or properties.get("created") or now
        properties["updated"] = now
        geometry = body.get("geometry")
        bbox = body.get("bbox")
        if geometry is not None:
            check_geometry(geometry, "geometry")
            if bbox is None:
                from shapely.geometry import shape

                bbox = list(shape(geometry).bounds)
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
            if key not in doc and key not in ("assets", *ITEM_PRIVATE):
                doc[key] = value  # foreign members are kept
        # the managed links are rendered per request; a collection link stands in for them here
        validate_stac({**doc, "links": [{"rel": "collection", "href": "./collection.json"}]}, "Item")
        try:
            item = pystac.Item.from_dict(doc, migrate=False, preserve_dict=True)
            rendered = item.to_dict(include_self_link=False, transform_hrefs=False)
        except (KeyError, TypeError, ValueError, AttributeError, pystac.STACError) as exc:
            raise Invalid(f"not a valid STAC Item: {exc!r}") from None
        rendered.pop("assets", None)
        # keep the one stored text form of timestamps (pystac re-serializes them its own way)
        rendered["properties"].update({k: properties[k] for k in ITEM_DATETIME_FIELDS if properties.get(k)})
        rendered["links"] = doc["links"]
        rendered["catalog_id"] = catalog_id
        return rendered, inline


FEATURE_ERRORS_SHOWN = 20  # failing features named in the detail (all of them, up to 1,000, in ``errors``)


def _feature_errors(failures: list[tuple[int, DynastoreError]]) -> DynastoreError:
    """One error for every failing feature of a FeatureCollection: its status is theirs when they
    agree (409 when every feature exists already), else 400."""
    kinds = {type(exc) for _, exc in failures}
    kind = kinds.pop() if len(kinds) == 1 else Invalid
    parts = [f"features[{index}]: {exc.detail}" for index, exc in failures[:FEATURE_ERRORS_SHOWN]]
    more = len(failures) - FEATURE_ERRORS_SHOWN
    detail = "; ".join(parts) + (f"; and {more} more (see errors)" if more > 0 else "")
    detail += "; nothing was written"
    errors = [{"index": index, "detail": exc.detail} for index, exc in failures[:1000]]
    return kind(detail, errors=errors)
