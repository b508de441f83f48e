"""Schema 9 of the local store: the trigram index of asset texts keeps no positions (``detail='none'``),
so a ``q`` of 4+ characters is looked up as "every trigram of q" and the store's ``instr()`` check
keeps the answers exact; a schema-8 database is rebuilt with it when opened and answers the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynastore.backends.local.metadata import SqliteMetadataStore
from dynastore.backends.local.sqlite_assets import QUERY_TRIGRAMS_MAX, _text_index
from dynastore.backends.local.sqlite_schema import SCHEMA_VERSION
from dynastore.domain.asset import Asset, search_text
from dynastore.domain.search import AssetQuery
from dynastore.ports import AssetWrite

# "abcxbcd" holds every trigram of "abcd" (abc, bcd) but not "abcd": the index lists it, q must not find it
TITLES = ["abcd scene", "abcxbcd", "Þórður naïve", "B04 \U0001f30d tile", "ab cd", "scene scene 7", "x"]
QUERIES = ["abcd", "abc", "bcd", "xbc", "scene", "ene 7", "þórð", "naïv", "\U0001f30d t", "b04", "zzz", "ab c", "e s"]
SCHEMA_8_FTS = "assets_fts USING fts5(search_text, content='assets', content_rowid='seq', tokenize='trigram')"


def _asset(n: int, title: str) -> dict[str, object]:
    fields = {"id": f"a{n}.tif", "catalog_id": "demo", "href": "https://h.example.com/x", "title": title}
    return Asset.model_validate(fields).to_doc()


def _found(store: SqliteMetadataStore, q: str) -> list[str]:
    return [doc["id"] for doc in store.search_assets(AssetQuery(catalog_ids=("demo",), q=q, limit=100)).items]


def _expected(store: SqliteMetadataStore, q: str) -> list[str]:
    return sorted(doc["id"] for doc in store.export_assets("demo") if q.lower() in search_text(doc))


@pytest.fixture
def store(tmp_path: Path) -> SqliteMetadataStore:
    store = SqliteMetadataStore(tmp_path / "db.sqlite")
    store.write_assets([AssetWrite(_asset(n, t), expect_rev=0) for n, t in enumerate(TITLES)], audits=[])
    store.fts_drive_max = 1_000_000  # the text index always drives
    return store


def test_a_search_driven_by_the_index_finds_exactly_the_assets_holding_q(store: SqliteMetadataStore) -> None:
    # GIVEN an asset holding every trigram of "abcd" apart: the index lists it as a candidate
    listed = store.db.query("SELECT rowid FROM assets_fts WHERE assets_fts MATCH ?", ('"abc" AND "bcd"',))
    assert len(listed) == 2
    # WHEN q searches are driven by the index  THEN each finds exactly the assets whose text holds q
    for q in QUERIES:
        assert _found(store, q) == _expected(store, q), q
    assert _found(store, "abcd") == ["a0.tif"]
    # AND counts agree
    assert store.count_assets(AssetQuery(catalog_ids=("demo",), q="abcd")) == 1


def test_updates_and_deletes_keep_the_index_answers_exact(store: SqliteMetadataStore) -> None:
    # WHEN a title changes, one asset is deleted and a new one arrives
    store.write_assets(
        [
            AssetWrite({**_asset(1, "abcxbcd"), "title": "renamed abcd"}, expect_rev=1),
            AssetWrite(_asset(20, "new qzxw"), expect_rev=0),
        ],
        audits=[],
    )
    store.delete_asset("demo", "a0.tif", audit={"catalog_id": "demo", "action": "delete"})
    # THEN the searches follow the current texts
    assert _found(store, "abcd") == ["a1.tif"]
    assert _found(store, "qzxw") == ["a20.tif"]
    for q in [*QUERIES, "renamed", "xbcd"]:
        assert _found(store, q) == _expected(store, q), q


def test_a_schema_8_database_gets_the_index_without_positions_and_answers_the_same(tmp_path: Path) -> None:
    # GIVEN a database of schema 8: the trigram index with positions (detail=full)
    path = tmp_path / "old.sqlite"
    old = SqliteMetadataStore(path)
    old.write_assets([AssetWrite(_asset(n, t), expect_rev=0) for n, t in enumerate(TITLES)], audits=[])
    old.db.executescript(
        f"DROP TABLE assets_fts; CREATE VIRTUAL TABLE {SCHEMA_8_FTS}; "
        "INSERT INTO assets_fts (assets_fts) VALUES ('rebuild'); PRAGMA user_version = 8;"
    )
    old.fts_drive_max = 1_000_000
    before = {q: _found(old, q) for q in QUERIES}
    old.close()
    # WHEN this version opens it
    store = SqliteMetadataStore(path)
    store.fts_drive_max = 1_000_000
    # THEN the index is rebuilt without positions, from every asset's text
    assert store.db.query_one("PRAGMA user_version")[0] == SCHEMA_VERSION >= 9
    sql = store.db.query_one("SELECT sql FROM sqlite_master WHERE name = 'assets_fts'")[0]
    assert "detail='none'" in sql
    assert store.db.query_one("SELECT count(*) FROM assets_fts WHERE assets_fts MATCH '\"sce\"'")[0] == 2
    # AND every q answers as before, exactly
    assert {q: _found(store, q) for q in QUERIES} == before
    assert all(before[q] == _expected(store, q) for q in QUERIES)
    # AND writes and deletes keep working on the upgraded database
    store.write_assets([AssetWrite(_asset(30, "later scene"), expect_rev=0)], audits=[])
    store.delete_asset("demo", "a0.tif", audit={"catalog_id": "demo", "action": "delete"})
    assert _found(store, "scene") == ["a30.tif", "a5.tif"]
    store.close()


def test_a_very_long_q_is_looked_up_with_a_bounded_query_and_still_answers_exactly(
    store: SqliteMetadataStore,
) -> None:
    # GIVEN an asset whose title is a long text, and one holding all but its last characters
    long_title = "".join(f"{word} " for word in ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot")) * 8
    store.write_assets(
        [AssetWrite(_asset(40, long_title), expect_rev=0), AssetWrite(_asset(41, long_title[:-20]), expect_rev=0)],
        audits=[],
    )
    # WHEN q is that whole text (hundreds of distinct trigrams), or thousands of characters found nowhere
    q = long_title.strip().lower()
    absent = "qzxw" * 2500
    # THEN the index is asked with at most QUERY_TRIGRAMS_MAX of its trigrams
    for text in (q, absent):
        found = _text_index(text)
        assert found is not None and found[1].count(" AND ") + 1 <= QUERY_TRIGRAMS_MAX
    # AND the answers are exact: the asset holding the whole text, and nothing for the absent text
    assert _found(store, q) == _expected(store, q) == ["a40.tif"]
    assert _found(store, absent) == []
