"""Item search, asset search and the per-item assets endpoint, over the active catalogs a query names
(typed queries: the API parses request parameters into ``ItemQuery`` / ``AssetQuery``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from dynastore.domain.search import AssetQuery, ItemQuery, Page
from dynastore.ports import Doc
from dynastore.services.stac.items import ItemsMixin
from dynastore.services.stac.rendering import GEOJSON, JSON, Links, link, render_asset


class SearchMixin(ItemsMixin):
    def search_items(self, query: ItemQuery, *, count: bool = True) -> Page[Doc]:
        """Items of the named catalogs (which must be active), else of every active one."""
        resolved = replace(query, catalog_ids=self.catalogs.resolve_ids(query.catalog_ids))
        return _counted(resolved, self.store.search_items, self.store.count_items, count)

    def list_items(self, catalog_id: str, collection_id: str, query: ItemQuery) -> Page[Doc]:
        """``/collections/{col}/items``: an item search restricted to one collection."""
        self.get_collection_doc(catalog_id, collection_id)
        return self.search_items(replace(query, catalog_ids=(catalog_id,), collections=(collection_id,)))

    def search_assets(self, query: AssetQuery, *, count: bool = True) -> Page[Doc]:
        """Assets of the named catalogs (which must be active), else of every active one."""
        resolved = replace(query, catalog_ids=self.catalogs.resolve_ids(query.catalog_ids))
        return _counted(resolved, self.store.search_assets, self.store.count_assets, count)

    def item_assets(self, catalog_id: str, collection_id: str, item_id: str, query: AssetQuery) -> Page[Doc]:
        """The paginated assets of one item (``datetime``, ``roles``, ``type``, ``q``, ``filter`` narrow it)."""
        self.get_item_doc(catalog_id, collection_id, item_id)
        scoped = replace(query, catalog_ids=(catalog_id,), collection_id=collection_id, item_id=item_id, level="item")
        return self.search_assets(scoped)

    def render_asset_record(self, doc: Doc, links: Links) -> Doc:
        """An asset as a first-class record (CEDA asset spec idea): the STAC Asset Object plus its
        id, scope references and links (``rel=item`` back to its item)."""
        record: Doc = {"id": doc["id"], **render_asset(doc, links)}
        c, col, item = doc["catalog_id"], doc.get("collection_id"), doc.get("item_id")
        record["catalog"] = c
        record["collection"] = col
        record["item"] = item
        props = {k: doc[k] for k in ("datetime", "start_datetime", "end_datetime") if doc.get(k)}
        if props:
            record["properties"] = props
        rec_links = [link("self", links.asset_api(doc), JSON, "This asset in the asset API")]
        if item and col:
            rec_links.append(link("item", links.item(c, col, item), GEOJSON, f"Item {item}"))
            rec_links.append(link("parent", links.item(c, col, item), GEOJSON))
            rec_links.append(link("collection", links.collection(c, col)))
        elif col:
            rec_links.append(link("collection", links.collection(c, col)))
            rec_links.append(link("parent", links.collection(c, col)))
        else:
            rec_links.append(link("parent", links.catalog(c)))
        rec_links.append(link("root", links.catalog(c)))
        record["links"] = rec_links
        return record


Q = TypeVar("Q", ItemQuery, AssetQuery)


def _counted(query: Q, search: Callable[[Q], Page[Doc]], count: Callable[[Q], int], with_count: bool) -> Page[Doc]:
    """One page of ``query``; with ``with_count`` its ``matched`` is filled (counted only when the page
    does not say it already and there is more than this one page)."""
    if not query.catalog_ids:
        return Page(items=[], next_token=None, matched=0)
    page = search(query)
    if with_count and page.matched is None:
        if query.token is None and page.next_token is None:
            page.matched = len(page.items)
        else:
            page.matched = count(query)
    return page
