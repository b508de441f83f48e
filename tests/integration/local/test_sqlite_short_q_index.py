"""The local store's short-``q`` index (``asset_short_grams``) lists exactly the assets whose search
text holds each 1- or 2-character string, through inserts, updates, deletes and a schema-3 upgrade."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynastore.backends.local.grams import short_token
from dynastore.backends.local.metadata import SqliteMetadataStore
from dynastore.backends.local.sqlite_schema import SCHEMA_VERSION
from dynastore.domain.asset import Asset, search_text
from dynastore.domain.search import AssetQuery
from dynastore.ports import AssetWrite

TITLES = ["Þór 1", "scene ð kj", "B04 \U0001f30d a", "x", "", "naïve\ncafé", "Ab aB"]


def _asset(n: int, title: str) -> dict[str, object]:
    fields = {"id": f"a{n}.tif", "catalog_id": "demo", "href": "https://h.example.com/x", "title": title}
    return Asset.model_validate(fields).to_doc()


def _indexed(store: SqliteMetadataStore, q: str) -> set[str]:
    """The ids of the assets the index lists for ``q`` (no instr check)."""
    rows = store.db.query(
        "SELECT a.id FROM asset_short_grams AS g JOIN assets AS a ON a.seq = g.rowid WHERE asset_short_grams MATCH ?",
        (f'"{short_token(q)}"',),
    )
    return {row[0] for row in rows}


def _assert_index_is_exact(store: SqliteMetadataStore) -> None:
    texts = {doc["id"]: search_text(doc) for doc in store.export_assets("demo")}
    strings = {t[i : i + n] for t in texts.values() for n in (1, 2) for i in range(len(t) - n + 1)}
    for q in sorted(strings | {"ÿ", "zq", "\U0001f30d"}):
        assert _indexed(store, q) == {i for i, t in texts.items() if q in t}, repr(q)


@pytest.fixture
def store(tmp_path: Path) -> SqliteMetadataStore:
    store = SqliteMetadataStore(tmp_path / "db.sqlite")
    store.write_assets([AssetWrite(_asset(n, t), expect_rev=0) for n, t in enumerate(TITLES)], audits=[])
    return store


def test_the_index_lists_exactly_the_assets_holding_each_short_string(store: SqliteMetadataStore) -> None:
    # GIVEN assets with ASCII, accented, multi-byte and empty titles  THEN each 1-2 character string is indexed exactly
    _assert_index_is_exact(store)


def test_updates_and_deletes_keep_the_index_exact(store: SqliteMetadataStore) -> None:
    # GIVEN indexed assets
    # WHEN one title changes, one asset is rewritten unchanged, one is deleted, and new ones arrive
    store.write_assets(
        [
            AssetWrite({**_asset(0, "Þór 1"), "title": "renamed qz"}, expect_rev=1),
            AssetWrite(_asset(1, "scene ð kj"), expect_rev=1),
            AssetWrite(_asset(10, "new ðq"), expect_rev=0),
        ],
        audits=[],
    )
    store.delete_asset("demo", "a2.tif", audit={"catalog_id": "demo", "action": "delete"})
    # THEN the index lists exactly the current texts: the old title's strings are gone, the new ones there
    _assert_index_is_exact(store)
    assert _indexed(store, "þ") == set() and _indexed(store, "qz") == {"a0.tif"}
    assert _indexed(store, "\U0001f30d") == set()
    # AND a search driven by the index finds them
    store.fts_drive_max = 1_000_000
    found = store.search_assets(AssetQuery(catalog_ids=("demo",), q="ðQ")).items
    assert [d["id"] for d in found] == ["a10.tif"]


def test_a_schema_3_database_gets_the_new_index_and_loses_its_postings_table(tmp_path: Path) -> None:
    # GIVEN a database of schema 3: 2-gram postings in asset_grams, no asset_short_grams
    path = tmp_path / "old.sqlite"
    old = SqliteMetadataStore(path)
    old.write_assets([AssetWrite(_asset(n, t), expect_rev=0) for n, t in enumerate(TITLES)], audits=[])
    old.db.executescript(
        "DROP TRIGGER asset_short_grams_delete; DROP TABLE asset_short_grams; "
        "CREATE TABLE asset_grams (gram TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (gram, seq)) WITHOUT ROWID; "
        "INSERT INTO asset_grams VALUES ('ab', 1); PRAGMA user_version = 3;"
    )
    old.close()
    # WHEN this version opens it
    store = SqliteMetadataStore(path)
    # THEN the short-q index holds every asset's strings and the postings table is gone
    assert store.db.query_one("PRAGMA user_version")[0] == SCHEMA_VERSION
    assert store.db.query_one("SELECT count(*) FROM sqlite_master WHERE name = 'asset_grams'")[0] == 0
    _assert_index_is_exact(store)
    # AND deletes keep working on the upgraded database
    store.delete_asset("demo", "a0.tif", audit={"catalog_id": "demo", "action": "delete"})
    assert _indexed(store, "þ") == set()
    store.close()
