"""STAC collections: read, list, and the Transaction extension (create, replace, merge-patch, delete)."""

from __future__ import annotations

from typing import Any

import pystac

from dynastore.domain import time as dtime
from dynastore.domain.audit import audit_doc
from dynastore.domain.ids import check_id
from dynastore.domain.search import Page
from dynastore.domain.stac_version import STAC_VERSION
from dynastore.errors import Conflict, Invalid, NotFound
from dynastore.ports import Doc
from dynastore.services.patching import merge_patch
from dynastore.services.revisions import expected_rev, precondition
from dynastore.services.stac.base import StacBase
from dynastore.services.stac.rendering import (
    GEOJSON,
    QUERYABLES_REL,
    SCHEMA_JSON,
    Links,
    client_links,
    client_view,
    link,
)
from dynastore.services.stac.validation import validate_stac


class CollectionsMixin(StacBase):
    def get_collection_doc(self, catalog_id: str, collection_id: str) -> Doc:
        self.catalogs.require_active(catalog_id)
        try:
            return self.store.get_collection(catalog_id, collection_id)
        except NotFound:
            raise NotFound(f"collection {collection_id!r} does not exist in catalog {catalog_id!r}") from None

    def list_collections(self, catalog_id: str, *, limit: int, token: str | None) -> Page[Doc]:
        self.catalogs.require_active(catalog_id)
        return self.store.list_collections(catalog_id, limit=limit, token=token)

    def create_collection(self, catalog_id: str, body: Any, *, actor: str) -> Doc:
        self.catalogs.require_active(catalog_id)
        doc = self._collection_doc(catalog_id, body, None)
        audit = audit_doc(catalog_id, "collection", doc["id"], "create", actor)
        try:
            return self.store.put_collection(catalog_id, doc, expect_rev=0, audit=audit)
        except Conflict:
            raise Conflict(
                f"collection {doc['id']!r} exists already in catalog {catalog_id!r}; PUT replaces it"
            ) from None

    def replace_collection(
        self, catalog_id: str, collection_id: str, body: Any, *, actor: str, if_rev: int | None = None
    ) -> tuple[Doc, bool]:
        """PUT: replace (or create). Returns (doc, created)."""
        check_id(collection_id, "collection id")
        self.catalogs.require_active(catalog_id)
        if isinstance(body, dict) and body.get("id") not in (None, collection_id):
            raise Invalid(f"body id {body.get('id')!r} differs from the path id {collection_id!r}")
        try:
            current: Doc | None = self.store.get_collection(catalog_id, collection_id)
        except NotFound:
            current = None
        doc = self._collection_doc(
            catalog_id, {**body, "id": collection_id} if isinstance(body, dict) else body, current
        )
        what = f"collection {collection_id!r}"
        expect = expected_rev(current, if_rev, what)
        action = "create" if current is None else "replace"
        with precondition(if_rev, what):
            stored = self.store.put_collection(
                catalog_id,
                doc,
                expect_rev=expect,
                audit=audit_doc(catalog_id, "collection", collection_id, action, actor),
            )
        return stored, current is None

    def patch_collection(
        self, catalog_id: str, collection_id: str, patch: Any, *, actor: str, if_rev: int | None = None
    ) -> Doc:
        current = self.get_collection_doc(catalog_id, collection_id)
        if not isinstance(patch, dict):
            raise Invalid("a PATCH body is a JSON object (RFC 7386 merge patch)")
        if "id" in patch and patch["id"] != collection_id:
            raise Invalid("a collection id cannot be changed")
        merged = merge_patch(client_view(current), patch)
        doc = self._collection_doc(catalog_id, merged, current)
        audit = audit_doc(catalog_id, "collection", collection_id, "update", actor, patch=patch)
        what = f"collection {collection_id!r}"
        expect = expected_rev(current, if_rev, what)
        with precondition(if_rev, what):
            return self.store.put_collection(catalog_id, doc, expect_rev=expect, audit=audit)

    def delete_collection(self, catalog_id: str, collection_id: str, *, actor: str, if_rev: int | None = None) -> None:
        """Deletes the collection with its items and their assets (``if_rev``: If-Match)."""
        current = self.get_collection_doc(catalog_id, collection_id)
        what = f"collection {collection_id!r}"
        expect = expected_rev(current, if_rev, what) if if_rev is not None else None
        audit = audit_doc(catalog_id, "collection", collection_id, "delete", actor)
        with precondition(if_rev, what):
            self.store.delete_collection(catalog_id, collection_id, audit=audit, expect_rev=expect)

    def _collection_doc(self, catalog_id: str, body: Any, current: Doc | None) -> Doc:
        if not isinstance(body, dict):
            raise Invalid("a collection is a JSON object (a STAC Collection)")
        if body.get("type", "Collection") != "Collection":
            raise Invalid('a STAC Collection has type "Collection"')
        collection_id = body.get("id")
        if not isinstance(collection_id, str):
            raise Invalid("a collection needs an `id` (URL-safe: A-Z a-z 0-9 . _ ~ -)")
        check_id(collection_id, "collection id")
        doc = _with_collection_defaults({**client_view(body), "type": "Collection"}, collection_id)
        doc["links"] = client_links(body.get("links"))
        now = dtime.now_iso()
        doc["created"] = (current or {}).get("created") or now
        doc["updated"] = now
        validate_stac({**doc, "links": []}, "Collection")
        try:
            collection = pystac.Collection.from_dict(doc, migrate=False, preserve_dict=True)
            rendered = collection.to_dict(include_self_link=False, transform_hrefs=False)
        except (KeyError, TypeError, ValueError, AttributeError, pystac.STACError) as exc:
            raise Invalid(f"not a valid STAC Collection: {exc!r}") from None
        rendered["links"] = doc["links"]
        rendered["catalog_id"] = catalog_id
        return rendered

    def render_collection(self, doc: Doc, catalog_id: str, links: Links) -> Doc:
        col = doc["id"]
        out = _with_collection_defaults({"type": "Collection", **client_view(doc)}, col)
        out["links"] = [
            link("self", links.collection(catalog_id, col)),
            link("root", links.catalog(catalog_id)),
            link("parent", links.catalog(catalog_id)),
            link("items", links.items(catalog_id, col), GEOJSON, "Items"),
            link(QUERYABLES_REL, f"{links.collection(catalog_id, col)}/queryables", SCHEMA_JSON, "Queryables"),
            *client_links(doc.get("links")),
        ]
        return out

    def _all_collections(self, catalog_id: str, cap: int = 1000) -> list[Doc]:
        out: list[Doc] = []
        token: str | None = None
        while len(out) < cap:
            page = self.store.list_collections(catalog_id, limit=min(1000, cap - len(out)), token=token)
            out.extend(page.items)
            token = page.next_token
            if not token:
                break
        return out


def _with_collection_defaults(doc: Doc, collection_id: str) -> Doc:
    """The members a STAC Collection needs, where the client left them out (changes ``doc``)."""
    doc["stac_version"] = STAC_VERSION
    doc.setdefault("description", doc.get("title") or f"Collection {collection_id}")
    doc.setdefault("license", "other")
    doc.setdefault("extent", {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [[None, None]]}})
    doc.setdefault("stac_extensions", [])
    return doc
