"""The AIOS Assets DB (seed 002) as a thin facade over ``AssetService`` and ``SearchService``.

Every AssetObject is a catalog-level asset of ``DYNASTORE_AIOS_CATALOG`` (created on the first write);
``domain.aios`` says how fields map. No second store, no second search: reads are ``get_asset`` by
the id of the URI (or a search on ``aios:name``/``aios:tag``/``latest``), queries are asset searches.
After every create and delete the newest active version of a name carries ``latest: true``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any

from dynastore.config import Settings
from dynastore.domain.aios import (
    LATEST,
    AssetInput,
    asset_id_for_uri,
    asset_object,
    compile_query,
    parse_asset_uri,
    parse_input,
    record_fields,
)
from dynastore.domain.audit import audit_doc
from dynastore.domain.filters import Compare, conjoin
from dynastore.domain.search import AssetQuery
from dynastore.errors import Conflict, Invalid, NotFound
from dynastore.ports import AssetWrite, Doc
from dynastore.services.assets import AssetService, Scope, UploadBuffer
from dynastore.services.catalogs import CatalogService
from dynastore.services.search import SearchService

UPDATABLE = ("asset_metadata", "asset_tags", "asset_file_info", "asset_public_url")


@dataclass(frozen=True)
class Download:
    doc: Doc
    key: str | None
    url: str | None
    file_name: str


class AiosService:
    def __init__(
        self, settings: Settings, catalogs: CatalogService, assets: AssetService, search: SearchService
    ) -> None:
        self.settings = settings
        self.catalogs = catalogs
        self.assets = assets
        self.search = search

    @property
    def catalog_id(self) -> str:
        return self.settings.aios_catalog

    @property
    def scope(self) -> Scope:
        return Scope(self.catalog_id)

    def ensure_catalog(self, actor: str) -> Doc:
        """The facade's catalog, created (storage provisioned) on first use."""
        try:
            return self.catalogs.require_active(self.catalog_id)
        except NotFound:
            pass
        try:
            return self.catalogs.create({"id": self.catalog_id, "title": "AIOS Assets DB"}, actor=actor)
        except Conflict:
            return self.catalogs.require_active(self.catalog_id)  # another request created it (or it is retired)

    def render(self, doc: Doc, base_url: str) -> Doc:
        """The AssetObject; ``asset_public_url`` is ``{base}/aios/asset-object/{id}`` for stored bytes."""
        stored = self.assets.stored_location(doc) is not None
        url = f"{base_url}/aios/asset-object/{doc['id']}" if stored else str(doc.get("href") or "")
        return asset_object(doc, url)

    # ------------------------------------------------------------------------------ reads

    def resolve(self, uri_text: str) -> Doc:
        """The active record an asset_uri names (``NotFound`` saying which part named nothing)."""
        uri = parse_asset_uri(uri_text)
        try:
            doc = self.assets.get(self.scope, asset_id_for_uri(uri.text))
        except NotFound:
            doc = None
        if doc is not None and doc.get("aios:uri") == uri.text:
            return doc
        if not uri.is_tag:
            raise NotFound(f"asset {uri.text!r} does not exist in the Assets DB {self.catalog_id!r}")
        field = "latest" if uri.rest == LATEST else "aios:tag"
        value: Any = True if uri.rest == LATEST else uri.rest
        found = self._versions(uri.name, Compare("eq", field, value))
        if not found:
            raise NotFound(f"tag {uri.rest!r} names no version of asset {uri.name!r}")
        return found[0]

    def query(self, body: Any, *, limit: int) -> list[Doc]:
        expr = compile_query(body if body is not None else {})
        try:
            self.catalogs.require_active(self.catalog_id)
        except NotFound:
            return []
        page = self.search.run(AssetQuery(catalog_ids=(self.catalog_id,), level="catalog", filter=expr, limit=limit))
        return page.items

    def download(self, asset_id: str) -> Download:
        doc, key, url = self.assets.download_target(self.scope, asset_id)
        info = doc.get("aios:file_info") or {}
        name = info.get("file_name") if isinstance(info.get("file_name"), str) else None
        return Download(doc, key, url, name or posixpath.basename(key or asset_id))

    # ------------------------------------------------------------------------------ writes

    def create(self, body: Any, *, actor: str) -> Doc:
        """``POST /asset``: an external asset (its ``asset_public_url``), or a record awaiting bytes."""
        value = parse_input(body)
        catalog = self.ensure_catalog(actor)
        asset_id = asset_id_for_uri(value.uri)
        href = value.asset_public_url or self.assets.storage.for_catalog(catalog).href(
            f"{self.assets.storage.prefix_of(catalog)}{asset_id}"
        )
        try:
            doc = self.assets.create(self.scope, record_fields(value, asset_id, href), actor=actor)
        except Conflict:
            raise Conflict(f"asset {value.uri!r} exists already; update it with PUT /aios/asset/{value.uri}") from None
        return self._relatest(value.asset_name, actor, doc)

    def upload(
        self, *, metadata: Any, filename: str | None, data: UploadBuffer, content_type: str | None, actor: str
    ) -> Doc:
        """``POST /upload_asset``: stored as ``{catalog prefix}{asset_id}{ext}``, the original name kept."""
        value = parse_input(metadata)
        if value.asset_public_url:
            raise Invalid("an uploaded asset gets its asset_public_url from the service; leave it out")
        self.ensure_catalog(actor)
        asset_id = asset_id_for_uri(value.uri)
        original = filename or "asset"
        ext = posixpath.splitext(original)[1][:16]
        fields = record_fields(value, asset_id, None)
        fields["aios:file_info"] = {**value.asset_file_info, "file_name": original}
        try:
            doc = self.assets.upload(
                self.scope,
                filename=f"{asset_id}{ext}",
                data=data,
                content_type=content_type,
                metadata=fields,
                actor=actor,
            )
        except Conflict:
            raise Conflict(f"asset {value.uri!r} exists already; delete it or upload another version") from None
        return self._relatest(value.asset_name, actor, doc)

    def update(self, uri_text: str, body: Any, *, actor: str) -> Doc:
        """``PUT /asset/{uri}``: replace the fields given (name, version and tag form the URI: fixed)."""
        if not isinstance(body, dict) or not body:
            raise Invalid(f"an update is a JSON object with some of {', '.join(UPDATABLE)}")
        fixed = sorted(k for k in body if k not in UPDATABLE and k not in ("asset_uri", "asset_id", "assets_db_id"))
        if fixed:
            raise Invalid(
                f"cannot update {', '.join(fixed)}: name, version and tag form the asset_uri (create a new version); "
                f"updatable: {', '.join(UPDATABLE)}"
            )
        current = self.resolve(uri_text)
        merged = {
            "asset_name": current.get("aios:name") or "",
            "asset_version": {"version": current.get("version") or "", "tag": current.get("aios:tag") or ""},
            "asset_metadata": body.get("asset_metadata", current.get("metadata") or {}),
            "asset_tags": body.get("asset_tags", current.get("tags") or []),
            "asset_file_info": body.get("asset_file_info", current.get("aios:file_info") or {}),
        }
        value: AssetInput = parse_input(merged)
        patch: dict[str, Any] = {
            "tags": value.asset_tags,
            "metadata": _replacing(current.get("metadata") or {}, value.asset_metadata),
            "aios:file_info": _replacing(current.get("aios:file_info") or {}, value.asset_file_info),
        }
        if body.get("asset_public_url"):
            if self.assets.stored_location(current) is not None:
                raise Invalid("an uploaded asset's asset_public_url is the service's; it cannot be changed")
            patch["href"] = body["asset_public_url"]
        return self.assets.patch(self.scope, current["id"], patch, actor=actor)

    def delete(self, uri_text: str, *, actor: str) -> Doc:
        """Soft delete (an editor restores it through the asset API); the next newest becomes latest."""
        current = self.resolve(uri_text)
        doc = self.assets.delete(self.scope, current["id"], actor=actor)
        return self._relatest(current.get("aios:name") or "", actor, doc)

    # ------------------------------------------------------------------------------ latest

    def _versions(self, name: str, extra: Any = None) -> list[Doc]:
        """Active records of ``name``, newest first (created, then id)."""
        expr = conjoin(Compare("eq", "aios:name", name), extra)
        query = AssetQuery(catalog_ids=(self.catalog_id,), level="catalog", filter=expr, limit=1000)
        docs = self.search.run(query).items
        return sorted(docs, key=lambda d: (d.get("created") or "", d["id"]), reverse=True)

    def _relatest(self, name: str, actor: str, written: Doc) -> Doc:
        """Exactly the newest active version of ``name`` has ``latest: true`` (idempotent); returns
        ``written`` as it is stored now."""
        versions = self._versions(name)
        writes, audits = [], []
        for index, doc in enumerate(versions):
            want = index == 0
            if bool(doc.get("latest")) != want:
                writes.append(AssetWrite({**doc, "latest": want}, doc["rev"]))
                audits.append(audit_doc(self.catalog_id, "asset", doc["id"], "update", actor, patch={"latest": want}))
        if writes:
            stored = {d["id"]: d for d in self.assets.store.write_assets(writes, audits=audits)}
            return stored.get(written["id"], written)
        return written


def _replacing(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A merge patch that turns ``old`` into ``new`` (keys left out are removed)."""
    return {**{k: None for k in old if k not in new}, **new}
