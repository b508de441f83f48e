"""Asset search across catalogs: an ``AssetQuery`` (parsed in the API, ``dynastore.api.search_params``)
narrowed to the catalogs the caller may read and run on the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from dynastore.config import Settings
from dynastore.domain.search import AssetQuery, ItemQuery, Page
from dynastore.ports import Doc, MetadataStore
from dynastore.services.catalogs import CatalogService

Q = TypeVar("Q", ItemQuery, AssetQuery)
R = TypeVar("R")


def counted_page(query: Q, search: Callable[[Q], Page[R]], count: Callable[[Q], int], with_count: bool) -> Page[R]:
    """One page of ``query``; with ``with_count`` its ``matched`` is filled (counted only when the page
    does not say it already and there is more than this one page), else left out."""
    if not query.catalog_ids:
        return Page(items=[], next_token=None, matched=0 if with_count else None)
    page = search(query)
    if not with_count:
        page.matched = None
    elif page.matched is None:
        if query.token is None and page.next_token is None:
            page.matched = len(page.items)
        else:
            page.matched = count(query)
    return page


class SearchService:
    def __init__(self, store: MetadataStore, catalogs: CatalogService, settings: Settings) -> None:
        self.store = store
        self.catalogs = catalogs
        self.settings = settings

    def resolve_catalogs(self, query: AssetQuery) -> AssetQuery:
        """Named catalogs must be active (``NotFound`` otherwise); none named means every active one."""
        return replace(query, catalog_ids=self.catalogs.resolve_ids(query.catalog_ids))

    def run(self, query: AssetQuery, visible: tuple[str, ...] | None = (), *, count: bool = False) -> Page[Doc]:
        """``visible``: the catalogs the caller may search (``()``: no restriction; None: none at all).
        ``count``: fill ``matched`` (a count of every match, so only when asked)."""
        if visible is None:
            return Page(items=[], next_token=None, matched=0 if count else None)
        resolved = self.resolve_catalogs(replace(query, catalog_ids=visible or query.catalog_ids))
        return counted_page(resolved, self.store.search_assets, self.store.count_assets, count)

    def count(self, query: AssetQuery) -> int:
        resolved = self.resolve_catalogs(query)
        return self.store.count_assets(resolved) if resolved.catalog_ids else 0
