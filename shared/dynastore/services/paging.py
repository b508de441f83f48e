"""Reading every page of a store query (the ports page with opaque keyset tokens)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from dynastore.domain.search import AssetQuery
from dynastore.ports import Doc, MetadataStore


def every_asset(store: MetadataStore, query: AssetQuery) -> Iterator[Doc]:
    """Every asset record ``search_assets`` finds for ``query``, page after page (read lazily)."""
    while True:
        page = store.search_assets(query)
        yield from page.items
        if not page.next_token:
            return
        query = replace(query, token=page.next_token)
