"""The three ways the SQLite store runs a `q` search (index-driven, ordered scan testing the index's
candidates, ordered scan) give the same pages."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dynastore.backends.local.metadata import SqliteMetadataStore
from dynastore.domain.asset import Asset, search_text
from dynastore.domain.filters import Compare, CompareOp
from dynastore.domain.search import AssetQuery, SortKey
from dynastore.ports import AssetWrite
from support import paging


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SqliteMetadataStore:
    store = SqliteMetadataStore(Path(tmp_path_factory.mktemp("plans")) / "db.sqlite")
    docs = [
        Asset.model_validate(
            {
                "id": f"S2A_{n:05d}_B{n % 13:02d}.TIF",
                "catalog_id": "demo",
                "href": "https://h.example.com/x",
                "title": f"scene {n}",
                "file:size": n % 97,
            }
        ).to_doc()
        for n in range(3000)
    ]
    store.write_assets([AssetWrite(d, expect_rev=0) for d in docs], audits=[])
    return store


def pages(store: SqliteMetadataStore, query: AssetQuery) -> list[list[str]]:
    found = paging.pages(lambda token: store.search_assets(replace(query, token=token)))
    return [[d["id"] for d in page.items] for page in found]


@pytest.mark.parametrize(
    "q", ["b04", "_b1", "scene 1", "tif", "00012", "zzz", "s2a_0299", "b", "7", "04", "f\n", "z", "zz", "\n"]
)
@pytest.mark.parametrize("sortby", [(), (SortKey("file:size", "desc"),)])
def test_index_driven_and_scanned_searches_agree(
    store: SqliteMetadataStore, q: str, sortby: tuple[SortKey, ...]
) -> None:
    query = AssetQuery(catalog_ids=("demo",), q=q, sortby=sortby, limit=37)
    store.fts_drive_max = 1_000_000  # the text index always drives
    driven = pages(store, query)
    count_driven = store.count_assets(query)
    store.fts_drive_max, store.fts_filter_max = 0, 1_000_000  # ordered scan testing the candidates' seqs
    filtered = pages(store, query)
    store.fts_filter_max = 0  # ordered scan with instr() alone
    scanned = pages(store, query)
    store.fts_drive_max, store.fts_filter_max = 5000, 30_000
    assert driven == filtered == scanned
    expected = sum(1 for d in store.export_assets("demo") if q in search_text(d))
    assert count_driven == expected == sum(len(p) for p in driven)


@pytest.mark.parametrize(("q", "size_op", "plan"), [("tif", "gte", "+a.seq IN"), ("tif", "lt", "MATCH ?) AS f")])
def test_a_filtered_search_scans_in_order_only_when_the_filters_keep_its_candidates(
    store: SqliteMetadataStore, q: str, size_op: CompareOp, plan: str
) -> None:
    # GIVEN a text in every asset and a filter that keeps all of them ("gte" 0) or none ("lt" 0)
    query = AssetQuery(catalog_ids=("demo",), q=q, filter=Compare(size_op, "file:size", 0), limit=37)
    modes = {"drive": (1_000_000, 1_000_000), "sampled": (0, 1_000_000), "scan": (0, 0)}
    found = {}
    for mode, (drive_max, filtered_drive_max) in modes.items():
        store.fts_drive_max, store.fts_filtered_drive_max = drive_max, filtered_drive_max
        found[mode] = pages(store, query)
        if mode == "sampled":
            # WHEN the store samples the candidates  THEN it scans in order testing them when the filter
            # keeps them, else the index drives
            selection = store._asset_selection(query)
            assert plan in selection.from_sql + " ".join(selection.where)
    store.fts_drive_max, store.fts_filtered_drive_max = 5000, 50_000
    # AND every plan gives the same pages
    assert found["drive"] == found["sampled"] == found["scan"]
    assert sum(len(p) for p in found["drive"]) == (3000 if size_op == "gte" else 0)


def test_a_schema_1_database_gets_its_short_q_postings_when_opened(tmp_path: Path) -> None:
    # GIVEN a database written before the short-q postings existed (schema 1: no short-q index, no record column)
    path = tmp_path / "old.sqlite"
    old = SqliteMetadataStore(path)
    doc = Asset.model_validate({"id": "t1.tif", "title": "Þór", "catalog_id": "demo", "href": "https://h.example.com/x"}).to_doc()
    old.write_assets([AssetWrite(doc, expect_rev=0)], audits=[])
    old.db.executescript(
        "DROP TRIGGER asset_short_grams_delete; DROP TABLE asset_short_grams; "
        "ALTER TABLE assets DROP COLUMN record; PRAGMA user_version = 1;"
    )
    old.close()
    # WHEN this version opens it  THEN a 1- or 2-character q driven by the postings finds the asset
    store = SqliteMetadataStore(path)
    store.fts_drive_max = 1_000_000
    for q in ("þ", "óR", "f"):
        assert [d["id"] for d in store.search_assets(AssetQuery(catalog_ids=("demo",), q=q)).items] == ["t1.tif"]
    assert store.db.query_one("PRAGMA user_version")[0] >= 2
    store.close()
