"""What every part of ``StacService`` shares: its collaborators."""

from __future__ import annotations

from typing import Any

from dynastore.config import Settings
from dynastore.domain.search import AssetQuery
from dynastore.ports import MetadataStore
from dynastore.services.asset_records import AssetRecordBuilder
from dynastore.services.catalogs import CatalogService


class StacBase:
    """The state of ``StacService``; its parts (landing pages, collections, items, ...) extend it."""

    def __init__(self, settings: Settings, store: MetadataStore, catalogs: CatalogService) -> None:
        self.settings = settings
        self.store = store
        self.catalogs = catalogs
        self.records = AssetRecordBuilder(settings, catalogs)  # the asset rules of inline assets

    def _item_scope(self, catalog_id: str, collection_id: str, item_id: str, **kw: Any) -> AssetQuery:
        return AssetQuery(catalog_ids=(catalog_id,), collection_id=collection_id, item_id=item_id, level="item", **kw)
