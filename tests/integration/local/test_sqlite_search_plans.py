"""Both ways the SQLite store runs a `q` search (trigram-driven, ordered scan) give the same pages."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dynastore.backends.local.metadata import SqliteMetadataStore
from dynastore.domain.asset import Asset, search_text
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
    store.fts_drive_max = 1_000_000  # the trigram index always drives
    driven = pages(store, query)
    count_driven = store.count_assets(query)
    store.fts_drive_max = 0  # never: ordered scan with instr()
    scanned = pages(store, query)
    store.fts_drive_max = 5000
    assert driven == scanned
    expected = sum(1 for d in store.export_assets("demo") if q in search_text(d))
    assert count_driven == expected == sum(len(p) for p in driven)


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
