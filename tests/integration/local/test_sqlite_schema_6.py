"""Schema 6 of the local store: new database files use large pages, and a schema-5 database loses
the asset indexes no query used (created, dt_start, dt_end) while its searches answer the same."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dynastore.backends.local.metadata import SqliteMetadataStore
from dynastore.backends.local.sqlite_schema import PAGE_SIZE, SCHEMA_VERSION
from dynastore.domain.asset import Asset
from dynastore.domain.search import AssetQuery, SortKey
from dynastore.ports import AssetWrite

DROPPED = ("assets_created", "assets_dt_start", "assets_dt_end")


def _asset(n: int) -> dict[str, object]:
    fields = {
        "id": f"a{n}.tif",
        "catalog_id": "demo",
        "href": f"https://h.example.com/a{n}.tif",
        "created": f"2024-0{1 + n % 3}-01T00:00:00Z",
    }
    if n % 4:  # one in four has no datetime
        fields["datetime"] = f"2023-{1 + n % 12:02d}-15T00:00:00Z"
    return Asset.model_validate(fields).to_doc()


def _answers(store: SqliteMetadataStore) -> list[list[str]]:
    """The ids of searches that sort on created or datetime or filter on the time."""
    queries = [
        AssetQuery(catalog_ids=("demo",), sortby=(SortKey("created", "desc"),)),
        AssetQuery(catalog_ids=("demo",), sortby=(SortKey("datetime", "asc"),)),
        AssetQuery(catalog_ids=("demo",), datetime=("2023-03-01T00:00:00Z", "2023-06-30T00:00:00Z")),
        AssetQuery(catalog_ids=("demo",), datetime=(None, "2023-03-01T00:00:00Z"), q="a1"),
    ]
    return [[doc["id"] for doc in store.search_assets(q).items] for q in queries]


def _indexes(store: SqliteMetadataStore) -> set[str]:
    return {row[0] for row in store.db.query("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_a_new_database_file_uses_large_pages(tmp_path: Path) -> None:
    # GIVEN no database  WHEN the store creates one  THEN its pages are PAGE_SIZE, in WAL mode
    store = SqliteMetadataStore(tmp_path / "new.sqlite")
    assert store.db.query_one("PRAGMA page_size")[0] == PAGE_SIZE > 4096
    assert store.db.query_one("PRAGMA journal_mode")[0] == "wal"
    assert not _indexes(store) & set(DROPPED)
    store.close()


def test_a_schema_5_database_loses_the_unused_indexes_and_answers_the_same(tmp_path: Path) -> None:
    # GIVEN a schema-5 database of 4 KiB pages with the created/dt_start/dt_end indexes and assets
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA page_size = 4096")
        raw.execute("PRAGMA journal_mode = WAL")
    old = SqliteMetadataStore(path)
    old.write_assets([AssetWrite(_asset(n), expect_rev=0) for n in range(30)], audits=[])
    old.db.executescript(
        "CREATE INDEX assets_created ON assets (catalog_id, created, id); "
        "CREATE INDEX assets_dt_start ON assets (catalog_id, dt_start); "
        "CREATE INDEX assets_dt_end ON assets (catalog_id, dt_end); PRAGMA user_version = 5;"
    )
    before = _answers(old)
    old.close()
    # WHEN this version opens it
    store = SqliteMetadataStore(path)
    # THEN the indexes are gone, the file keeps its pages, and the searches answer exactly as before
    assert store.db.query_one("PRAGMA user_version")[0] == SCHEMA_VERSION >= 6
    assert not _indexes(store) & set(DROPPED)
    assert store.db.query_one("PRAGMA page_size")[0] == 4096
    assert _answers(store) == before
    assert all(before)  # every search found something
    # AND writes go on
    store.write_assets([AssetWrite(_asset(99), expect_rev=0)], audits=[])
    assert "a99.tif" in _answers(store)[0]
    store.close()
