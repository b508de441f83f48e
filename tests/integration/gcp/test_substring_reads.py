"""Substring search on Firestore reads a bounded number of documents beyond its page.

Reads are counted by the store (``FirestoreMetadataStore.stats``: every document a query or get
returned, which is what Firestore bills). Figures are printed (``pytest -s``) for the README.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from dynastore.backends.gcp.firestore_store import FirestoreMetadataStore
from dynastore.backends.gcp.grams import query_grams
from dynastore.domain.asset import Asset, search_text
from dynastore.domain.audit import AuditEvent
from dynastore.domain.catalog import Catalog
from dynastore.domain.search import AssetQuery, SortKey
from dynastore.ports import AssetWrite
from support.paging import all_items

pytestmark = pytest.mark.gcp

CATALOG_SIZE = 1200


def build(store: FirestoreMetadataStore, *, decoys: int = 0) -> list[dict[str, Any]]:
    """1,200 ordinary assets, 15 "orthomosaic" ones, and ``decoys`` that hold the query's chosen
    trigrams (ort, aic, omo) without the substring, named to sort before the real matches."""
    audit = AuditEvent(catalog_id="demo", record_type="catalog", record_id="demo", action="create").to_doc()
    store.put_catalog(Catalog(id="demo").to_doc(), expect_rev=0, audit=audit)

    def doc(asset_id: str, path: str, title: str, **fields: Any) -> dict[str, Any]:
        return Asset(id=asset_id, catalog_id="demo", href=f"gs://b/demo/{path}", title=title, **fields).to_doc()

    def at(month: int, second: int) -> str:
        return f"2024-0{month}-01T00:00:{second:02d}.000000Z"

    docs = [
        doc(f"m-scene-{n:04d}", f"s2/scene-{n:04d}.tif", f"Sentinel scene {n}", updated=at(1, n % 60))
        for n in range(CATALOG_SIZE)
    ]
    docs += [
        doc(f"z-target-{n:02d}", f"lc/ortho-{n:02d}.tif", f"Landsat Orthomosaic {n}", updated=at(2, n))
        for n in range(15)
    ]
    docs += [doc(f"a-decoy-{n:04d}", f"x/decoy-{n:04d}.bin", f"port mosaic omo {n}") for n in range(decoys)]
    for start in range(0, len(docs), 300):
        store.write_assets([AssetWrite(d, 0) for d in docs[start : start + 300]], audits=[])
    return docs


def reads(store: FirestoreMetadataStore, query: AssetQuery) -> tuple[Any, int]:
    before = store.stats.documents
    page = store.search_assets(query)
    return page, store.stats.documents - before


def everything(store: FirestoreMetadataStore, query: AssetQuery) -> list[str]:
    return [d["id"] for d in all_items(lambda token: store.search_assets(replace(query, token=token)))]


def test_substring_search_reads_about_its_page(gcp: Any) -> None:
    store: FirestoreMetadataStore = gcp.adapters.store
    docs = build(store)
    expected = sorted(d["id"] for d in docs if "orthomosaic" in search_text(d))
    query = AssetQuery(catalog_ids=("demo",), q="OrthoMosaic", limit=5)
    # WHEN the first page is asked for
    page, n = reads(store, query)
    # THEN it holds the first 5 matches and cost at most the page, one look-ahead and the slack
    assert [d["id"] for d in page.items] == expected[:5]
    print(f"\nq=orthomosaic limit=5 over {len(docs)} assets: {n} document reads")
    assert n <= 5 + 1 + 4
    # AND a 2-letter query is answered by the index alone (no false positives)
    page, n = reads(store, replace(query, q="Z-", limit=3))
    assert [d["id"] for d in page.items] == expected[:3]
    assert n <= 3 + 1 + 4
    # AND sorted by another field, the candidates are read once and sorted in memory
    sorted_query = replace(query, sortby=(SortKey("updated", "desc"),))
    page, n = reads(store, sorted_query)
    assert [d["id"] for d in page.items] == sorted(expected, key=lambda i: i, reverse=True)[:5]
    print(f"q=orthomosaic sorted by -updated: {n} document reads (15 candidates)")
    assert n <= len(expected)
    # AND paging is exact
    assert sorted(everything(store, query)) == expected
    assert everything(store, sorted_query) == sorted(expected, reverse=True)


def test_false_positives_are_bounded_by_the_read_budget(gcp: Any) -> None:
    store: FirestoreMetadataStore = gcp.adapters.store
    assert query_grams("orthomosaic") == ["ort", "aic", "omo"]
    docs = build(store, decoys=300)
    expected = sorted(d["id"] for d in docs if "orthomosaic" in search_text(d))
    store.scan_budget = 120
    query = AssetQuery(catalog_ids=("demo",), q="orthomosaic", limit=5)
    # WHEN 300 decoys holding the chosen trigrams sort before every real match
    page, n = reads(store, query)
    # THEN the page stops at the read budget: short, with a token to go on, never a full scan
    print(f"\n300 decoys, budget 120: first page {len(page.items)} items, {n} document reads")
    assert n <= store.scan_budget + 2 * (5 + 1 + 4)
    assert n < CATALOG_SIZE
    assert page.next_token is not None and page.extra.get("truncated")
    # AND following the tokens still returns every match exactly once, in order
    assert everything(store, query) == expected
