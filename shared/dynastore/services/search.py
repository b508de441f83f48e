"""Asset search across catalogs: an ``AssetQuery`` (parsed in the API, ``dynastore.api.search_params``)
narrowed to the catalogs the caller may read and run on the store."""

from __future__ import annotations

from dataclasses import replace

from dynastore.config import Settings
from dynastore.domain.search import AssetQuery, Page
from dynastore.ports import Doc, MetadataStore
from dynastore.services.catalogs import CatalogService


class SearchService:
    def __init__(self, store: MetadataStore, catalogs: CatalogService, settings: Settings) -> None:
        self.store = store
        self.catalogs = catalogs
        self.settings = settings

    def resolve_catalogs(self, query: AssetQuery) -> AssetQuery:
        """Named catalogs must be active (``NotFound`` otherwise); none named means every active one."""
        return replace(query, catalog_ids=self.catalogs.resolve_ids(query.catalog_ids))

    def run(self, query: AssetQuery, visible: tuple[str, ...] | None = ()) -> Page[Doc]:
        """``visible``: the catalogs the caller may search (``()``: no restriction; None: none at all)."""
        if visible is None:
            return Page(items=[], next_token=None, matched=0)
        resolved = self.resolve_catalogs(replace(query, catalog_ids=visible or query.catalog_ids))
        if not resolved.catalog_ids:
            return Page(items=[], next_token=None, matched=0)
        return self.store.search_assets(resolved)

    def count(self, query: AssetQuery) -> int:
        resolved = self.resolve_catalogs(query)
        return self.store.count_assets(resolved) if resolved.catalog_ids else 0
