"""The Firestore index file: up to date, and enough for every query the store sends.

The emulator answers any query; production Firestore refuses a query without its composite
index. Here an index guard makes the store behave like production (every query shape is checked
against ``firestore_indexes.json`` before it runs, FAILED_PRECONDITION otherwise) and the results
must stay the same as the reference: the indexed queries run natively, the others fall back to
the indexed filters plus exact per-document checks.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from typing import Any

import pytest

from dynastore.backends.gcp.firestore_common import ASSET_SORT_NATIVE
from dynastore.backends.gcp.firestore_store import FirestoreMetadataStore
from dynastore.backends.gcp.indexes import INDEX_FILE, QueryShape, index_file, servable
from dynastore.domain.asset import Asset, AssetStatus
from dynastore.domain.audit import AuditEvent
from dynastore.domain.catalog import Catalog
from dynastore.domain.filters import Compare
from dynastore.domain.job import Job
from dynastore.domain.search import (
    ASSET_SORT_FIELDS,
    ITEM_SORT_FIELDS,
    AssetQuery,
    ItemQuery,
    SortDirection,
    SortKey,
    asset_matches,
)
from dynastore.ports import AssetWrite, IngestRecord
from support.paging import all_items

pytestmark = pytest.mark.gcp

DIRECTIONS: tuple[SortDirection, ...] = ("asc", "desc")
STATUS_CYCLE: tuple[AssetStatus, ...] = ("active", "deleted", "active", "missing")


def test_index_file_is_generated_from_the_code() -> None:
    # GIVEN the checked-in index file WHEN compared with what the code declares THEN equal
    assert json.loads(INDEX_FILE.read_text()) == index_file(), (
        "firestore_indexes.json is stale: run python -m dynastore.backends.gcp.indexes --write"
    )


def test_servable_follows_firestore_rules() -> None:
    indexes = index_file()["indexes"]
    # equality filters in name order: merged single-field indexes
    assert servable(
        QueryShape("assets", frozenset({"catalog_id", "status", "type"}), frozenset({"roles"}), (), ()), indexes
    )
    # sorted with the indexed filters: the composite index
    sort = (("updated", "DESCENDING"),)
    assert servable(QueryShape("assets", frozenset({"catalog_id", "status"}), frozenset(), (), sort), indexes)
    # sorted with another filter: no index (the store then falls back)
    assert not servable(
        QueryShape("assets", frozenset({"catalog_id", "status", "type"}), frozenset(), (), sort), indexes
    )
    # export: range on the first order field
    export = QueryShape(
        "assets", frozenset({"catalog_id", "status"}), frozenset(), ("updated",), (("updated", "ASCENDING"),)
    )
    assert servable(export, indexes)


def production_guard(store: FirestoreMetadataStore, refused: list[QueryShape]) -> None:
    from google.api_core.exceptions import FailedPrecondition

    indexes = index_file()["indexes"]

    def guard(shape: QueryShape) -> None:
        if not servable(shape, indexes):
            refused.append(shape)
            raise FailedPrecondition("The query requires an index. You can create it here: https://console")

    store.index_guard = guard


def seed(store: FirestoreMetadataStore) -> list[dict[str, Any]]:
    for catalog_id in ("demo", "other"):
        store.put_catalog(
            Catalog(id=catalog_id).to_doc(),
            expect_rev=0,
            audit=AuditEvent(
                catalog_id=catalog_id, record_type="catalog", record_id=catalog_id, action="create"
            ).to_doc(),
        )
    docs = []
    for n in range(60):
        # fields whose alias is not a Python name go in by alias (mypy sees them only as **kwargs)
        by_alias: dict[str, Any] = {"file:size": n * 10 if n % 8 else None}
        docs.append(
            Asset(
                id=f"a{n:03d}",
                catalog_id="demo" if n % 3 else "other",
                collection_id=None if n % 4 == 0 else f"c{n % 2}",
                href=f"gs://b/demo/file-{n % 7}.tif",
                title=None if n % 5 == 0 else f"Scene {n % 9} band",
                type=["image/tiff", "application/pdf", None][n % 3],
                roles=[["data"], ["thumbnail"], []][n % 3],
                tags=[["x", "y"], ["y"], []][n % 3],
                status=STATUS_CYCLE[n % 4],
                datetime=f"2024-0{1 + n % 9}-01T00:00:00Z" if n % 6 else None,
                metadata={"cloud": n % 11},
                updated=f"2024-05-{1 + n % 28:02d}T00:00:00.000000Z",
                **by_alias,
            ).to_doc()
        )
    store.write_assets([AssetWrite(d, 0) for d in docs], audits=[])
    return docs


def all_pages(store: FirestoreMetadataStore, query: AssetQuery) -> list[tuple[str, str]]:
    found = all_items(lambda token: store.search_assets(replace(query, token=token)))
    return [(d["catalog_id"], d["id"]) for d in found]


def item_ids(store: FirestoreMetadataStore, query: ItemQuery) -> list[str]:
    return [d["id"] for d in all_items(lambda token: store.search_items(replace(query, token=token)))]


def test_every_query_shape_is_indexed_or_falls_back_exactly(gcp: Any) -> None:
    store: FirestoreMetadataStore = gcp.adapters.store
    docs = seed(store)
    refused: list[QueryShape] = []
    production_guard(store, refused)
    queries: list[AssetQuery] = []
    base = AssetQuery(catalog_ids=("demo", "other"), limit=7)
    for field, direction in itertools.product(ASSET_SORT_FIELDS, DIRECTIONS):
        queries.append(replace(base, sortby=(SortKey(field, direction),)))
    queries += [
        replace(base, types=("image/tiff",), sortby=(SortKey("updated", "desc"),)),  # not indexed: fallback
        replace(base, roles=("data",), collection_id="c1", status=("active", "missing")),
        replace(base, tags=("y", "x"), sortby=(SortKey("title"),)),
        replace(base, q="scene 4", sortby=(SortKey("file:size", "desc"),)),
        replace(base, q="e-3"),
        replace(base, datetime=("2024-03-01T00:00:00.000000Z", None), sortby=(SortKey("datetime"),)),
        replace(base, filter=Compare("lt", "metadata.cloud", 5), sortby=(SortKey("created", "desc"),)),
    ]
    for query in queries:
        # WHEN paged through under production's index rules
        got = all_pages(store, query)
        # THEN the same records, in the same order, as the reference evaluation
        key = _reference_order(query)
        expected = sorted((d for d in docs if asset_matches(query, d)), key=key)
        assert got == [(d["catalog_id"], d["id"]) for d in expected], query
    # AND the plain sorted searches ran natively (no fallback), only the unindexed ones fell back
    assert refused, "the unindexed sorted search should have been refused"
    assert all(s.collection == "assets" and s.order for s in refused)
    for shape in store.stats.shapes:
        if shape not in refused:
            assert servable(shape), shape
    # AND counts need no composite index at all
    assert store.count_assets(replace(base, types=("image/tiff",))) == sum(
        1 for d in docs if asset_matches(replace(base, types=("image/tiff",)), d)
    )


def _reference_order(query: AssetQuery) -> Any:
    from functools import cmp_to_key

    from dynastore.backends.gcp.firestore_common import asset_fields
    from dynastore.backends.gcp.firestore_scan import fs_compare

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        fa, fb = asset_fields(a), asset_fields(b)
        for key in query.sortby:
            native = ASSET_SORT_NATIVE[key.field]
            c = fs_compare(fa[native], fb[native])
            if c:
                return -c if key.direction == "desc" else c
        ka, kb = (a["catalog_id"], a["id"]), (b["catalog_id"], b["id"])
        return (ka > kb) - (ka < kb)

    return cmp_to_key(compare)


def test_item_search_jobs_and_audit_under_production_indexes(gcp: Any) -> None:
    store: FirestoreMetadataStore = gcp.adapters.store
    audit = AuditEvent(catalog_id="demo", record_type="catalog", record_id="demo", action="create").to_doc()
    store.put_catalog(Catalog(id="demo").to_doc(), expect_rev=0, audit=audit)
    for col in ("c0", "c1"):
        store.put_collection("demo", {"id": col, "type": "Collection"}, expect_rev=0, audit=audit)
    for n in range(12):
        item = {
            "type": "Feature",
            "id": f"i{n:02d}",
            "collection": f"c{n % 2}",
            "geometry": {"type": "Point", "coordinates": [n, 0]},
            "properties": {"datetime": f"2024-01-{n + 1:02d}T00:00:00.000000Z", "title": f"T{n % 4}"},
        }
        store.put_item("demo", item, expect_rev=0, audit=audit)
    for _ in range(5):
        store.put_job(Job(task_id="checksum", catalog_id="demo", status="accepted").to_doc(), expect_rev=0)
    for n, status in enumerate(("failed", "indexed", "skipped", "failed")):
        at = f"2024-01-0{n + 1}T00:00:00.000000Z"
        store.put_ingest_record(IngestRecord("b", f"demo/f{n}", status, at, "demo"))  # type: ignore[arg-type]
    refused: list[QueryShape] = []
    production_guard(store, refused)
    for field, direction in itertools.product(ITEM_SORT_FIELDS, DIRECTIONS):
        for collections in ((), ("c1",)):
            query = ItemQuery(
                catalog_ids=("demo",), collections=collections, sortby=(SortKey(field, direction),), limit=5
            )
            seen = item_ids(store, query)
            assert sorted(seen) == sorted(f"i{n:02d}" for n in range(12) if not collections or n % 2 == 1)
    assert len(store.list_jobs(filters={"status": "accepted"}, limit=3).items) == 3
    assert len(store.list_jobs(limit=10).items) == 5
    assert len(store.list_audit("demo", record_type="catalog", limit=10).items) >= 1
    assert len(store.list_audit("demo", record_type="catalog", record_id="demo").items) >= 1
    recent = all_items(lambda token: store.list_ingest_records("demo", limit=1, token=token))
    assert [r.key for r in recent] == ["demo/f3", "demo/f0", "demo/f2", "demo/f1"]
    assert [r.key for r in store.list_ingest_records("demo", status="indexed").items] == ["demo/f1"]
    assert refused == []
