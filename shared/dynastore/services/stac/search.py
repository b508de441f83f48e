"""Item search, asset search and the per-item assets endpoint, over the active catalogs a query names
(typed queries: the API parses request parameters into ``ItemQuery`` / ``AssetQuery``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson

from dynastore.domain.asset_record import is_local_file, record_members, record_properties
from dynastore.domain.gc_pause import gc_paused
from dynastore.domain.search import AssetQuery, ItemQuery, Page, item_matches
from dynastore.ports import Doc
from dynastore.services.search import counted_page
from dynastore.services.stac.items import ItemsMixin
from dynastore.services.stac.rendering import Links, render_asset


class SearchMixin(ItemsMixin):
    def search_items(self, query: ItemQuery, *, count: bool = False) -> Page[Doc]:
        """Items of the named catalogs (which must be active), else of every active one; ``count``:
        fill ``matched`` too."""
        resolved = replace(query, catalog_ids=self.catalogs.resolve_ids(query.catalog_ids))
        search = self._items_by_key if _keyed(resolved) else self.store.search_items
        return counted_page(resolved, search, self.store.count_items, count)

    def search_item_features(self, query: ItemQuery, links: Links, *, count: bool = False) -> Page[Any] | None:
        """``search_items`` with its items rendered (``render_items(..., spliced=True)``), straight from
        the stored texts where the store answers the query so (``search_item_texts``: the local store, a
        search by ``ids`` alone); None: search and render the usual way."""
        if not query.ids or query.token is not None or query.sortby:
            return None
        resolved = replace(query, catalog_ids=self.catalogs.resolve_ids(query.catalog_ids))
        texts = self.store.search_item_texts(resolved) if resolved.catalog_ids else None
        if texts is None:
            return None
        return Page(items=self.render_item_texts(texts, links), next_token=None, matched=len(texts) if count else None)

    def _items_by_key(self, query: ItemQuery) -> Page[Doc]:
        """``ids`` with ``collections``, all on one page: one batched read of every (collection, id) key
        per catalog, then the other criteria checked on what was read; in the search's default order."""
        rest = replace(query, ids=(), collections=())
        keys = [(c, i) for c in query.collections for i in query.ids]
        found = [
            doc
            for catalog_id in query.catalog_ids
            for doc in self.store.get_items(catalog_id, keys)
            if item_matches(rest, doc)
        ]
        found.sort(key=lambda d: (d.get("catalog_id") or "", d.get("collection") or "", d["id"]))
        return Page(items=found, next_token=None, matched=len(found))

    def list_items(self, catalog_id: str, collection_id: str, query: ItemQuery, *, count: bool = False) -> Page[Doc]:
        """``/collections/{col}/items``: an item search restricted to one collection."""
        self.get_collection_doc(catalog_id, collection_id)
        scoped = replace(query, catalog_ids=(catalog_id,), collections=(collection_id,))
        return self.search_items(scoped, count=count)

    def search_assets(self, query: AssetQuery, *, count: bool = False) -> Page[Doc]:
        """Assets of the named catalogs (which must be active), else of every active one."""
        resolved = replace(query, catalog_ids=self.catalogs.resolve_ids(query.catalog_ids))
        return counted_page(resolved, self.store.search_assets, self.store.count_assets, count)

    def item_assets(
        self, catalog_id: str, collection_id: str, item_id: str, query: AssetQuery, *, count: bool = False
    ) -> Page[str | Doc]:
        """The paginated assets of one item (``datetime``, ``roles``, ``type``, ``q``, ``filter`` narrow it):
        each the record's JSON text where the store keeps it pre-rendered, else the document
        (``item_asset_records_json`` renders the page's records)."""
        self.get_item_doc(catalog_id, collection_id, item_id)
        scoped = replace(query, catalog_ids=(catalog_id,), collection_id=collection_id, item_id=item_id, level="item")
        resolved = replace(scoped, catalog_ids=self.catalogs.resolve_ids(scoped.catalog_ids))
        return counted_page(resolved, self.store.search_asset_records, self.store.count_assets, count)

    def render_asset_records(self, docs: list[Doc], links: Links, *, in_item: bool = False) -> list[Doc]:
        """Assets as first-class records (CEDA asset spec idea): the STAC Asset Object plus its id and
        scope references (``catalog``, ``collection``, ``item``; left out with ``in_item``, where the
        page names its one item). Lean by design: no per-asset links (each would repeat what the
        scope references and the page's links say; the asset API URL is
        ``/assets/catalogs/{catalog}[/collections/{collection}[/items/{item}]]/assets/{id}``)."""
        with gc_paused():
            return [_asset_record(doc, links, in_item) for doc in docs]

    def item_asset_records_json(self, items: list[str | Doc], links: Links) -> bytes:
        """The JSON array of one item's asset records (``render_asset_records(..., in_item=True)``):
        stored record texts spliced as they are, documents rendered."""
        dumps = orjson.dumps
        with gc_paused():
            parts = [
                item.encode() if isinstance(item, str) else dumps(_asset_record(item, links, True)) for item in items
            ]
        return b"[" + b",".join(parts) + b"]"


def _asset_record(doc: Doc, links: Links, in_item: bool) -> Doc:
    """``render_asset`` in one pass over the stored document (the hot path of asset pages); the
    stored record (``domain.asset_record``) is this with ``in_item`` and no ``file://`` href."""
    record = record_members(doc)
    if is_local_file(doc):
        local = render_asset(doc, links)  # the download URL, the file under alternate
        record.update((k, local[k]) for k in ("href", "alternate") if k in local)
    if not in_item:
        record["catalog"] = doc["catalog_id"]
        record["collection"] = doc.get("collection_id")
        record["item"] = doc.get("item_id")
    properties = record_properties(doc)
    if properties is not None:
        record["properties"] = properties
    return record


KEYED_READ_MAX = 10_000  # (catalog, collection, id) keys read in one batched item search


def _keyed(query: ItemQuery) -> bool:
    """Can the search be answered by reading its items by key? ``ids`` and ``collections`` name every
    key, all of which fit on the first page, and no ``sortby`` asks for another order."""
    keys = len(query.ids) * len(query.collections) * len(query.catalog_ids)
    return bool(keys) and keys <= min(query.limit, KEYED_READ_MAX) and not query.sortby and query.token is None
