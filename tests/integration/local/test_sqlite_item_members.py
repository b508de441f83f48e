"""Schema 7 of the local store: ``item_members`` keeps each item's embedded-assets members text, so a
page of items found by id reads no asset rows. What it answers is what computing from the assets
answers, for any limit; a schema-6 database opens with none kept and computes until written."""

from __future__ import annotations

from pathlib import Path

from dynastore.backends.local.metadata import SqliteMetadataStore
from dynastore.backends.local.sqlite_catalogs import MEMBERS_LIMIT
from dynastore.backends.local.sqlite_schema import SCHEMA_VERSION
from dynastore.domain.asset import Asset
from dynastore.ports import AssetWrite

# item id -> how many assets: none, a few, exactly the kept limit, more than it
SIZES = {"none": 0, "few": 5, "at-limit": MEMBERS_LIMIT, "many": MEMBERS_LIMIT + 20}
KEYS = [("s2", item_id) for item_id in SIZES]


def _asset(item_id: str, n: int) -> dict[str, object]:
    return Asset.model_validate(
        {
            "id": f"{item_id}.a{n:03d}",
            "catalog_id": "demo",
            "collection_id": "s2",
            "item_id": item_id,
            "href": f"https://h.example.com/{item_id}/{n}.tif",
            "roles": ["data"],
        }
    ).to_doc()


def _store(path: Path) -> SqliteMetadataStore:
    store = SqliteMetadataStore(path)
    store.db.executescript(
        "INSERT INTO catalogs (id, rev, doc) VALUES ('demo', 1, '{\"id\":\"demo\"}'); "
        "INSERT INTO collections (catalog_id, id, rev, doc) VALUES ('demo', 's2', 1, '{\"id\":\"s2\"}');"
    )
    for item_id in SIZES:
        doc: dict[str, object] = {
            "type": "Feature",
            "id": item_id,
            "collection": "s2",
            "geometry": None,
            "properties": {},
        }
        store.put_item("demo", doc, expect_rev=0, audit={"catalog_id": "demo"})
    writes = [AssetWrite(_asset(i, n), expect_rev=0) for i, size in SIZES.items() for n in range(size)]
    store.write_assets(writes, audits=[])
    return store


def _kept(store: SqliteMetadataStore) -> int:
    return int(store.db.query_one("SELECT count(*) FROM item_members")[0])


def _computed(store: SqliteMetadataStore, limit: int) -> dict[tuple[str, str], tuple[int, str | None]]:
    """``item_asset_members`` with nothing kept (the rows restored after)."""
    rows = store.db.query("SELECT * FROM item_members")
    store.db.executescript("DELETE FROM item_members;")
    try:
        return store.item_asset_members("demo", KEYS, limit)
    finally:
        with store.db.write() as conn:
            conn.executemany("INSERT INTO item_members VALUES (?, ?, ?, ?)", rows)


def test_kept_members_answer_every_limit_as_computing_them_does(tmp_path: Path) -> None:
    # GIVEN items with 0, 5, MEMBERS_LIMIT and more assets, written in one batch
    store = _store(tmp_path / "db.sqlite")
    # THEN the write kept a row for each item with assets
    assert _kept(store) == 3
    # WHEN their members are asked with limits below, at and above the kept one
    for limit in (1, 4, 5, 6, MEMBERS_LIMIT - 1, MEMBERS_LIMIT, MEMBERS_LIMIT + 1, 500):
        answer = store.item_asset_members("demo", KEYS, limit)
        # THEN the answer is the computed one (counts capped at the limit, members in id order)
        assert answer == _computed(store, limit), limit
        assert answer[("s2", "few")][0] == min(5, limit) and ("s2", "none") not in answer
    assert _kept(store) == 3  # reads only read
    store.close()


def test_a_schema_6_database_computes_until_an_items_assets_are_written(tmp_path: Path) -> None:
    # GIVEN a schema-6 database (no item_members, no triggers) with items and assets
    path = tmp_path / "old.sqlite"
    old = _store(path)
    expected = old.item_asset_members("demo", KEYS, MEMBERS_LIMIT)
    old.db.executescript(
        "DROP TRIGGER item_members_asset_insert; DROP TRIGGER item_members_asset_update; "
        "DROP TRIGGER item_members_asset_delete; DROP TRIGGER item_members_item_delete; "
        "DROP TABLE item_members; PRAGMA user_version = 6;"
    )
    old.close()
    # WHEN this version opens it
    store = SqliteMetadataStore(path)
    # THEN it is schema 7 with nothing kept, and answers the same by computing
    assert store.db.query_one("PRAGMA user_version")[0] == SCHEMA_VERSION >= 7
    assert _kept(store) == 0
    assert store.item_asset_members("demo", KEYS, MEMBERS_LIMIT) == expected
    # AND a write to an item's assets keeps that item's row, with the change in it
    store.write_assets([AssetWrite(_asset("few", 7), expect_rev=0)], audits=[])
    assert _kept(store) == 1
    count, members = store.item_asset_members("demo", KEYS, MEMBERS_LIMIT)[("s2", "few")]
    assert count == 6 and members is not None and '"few.a007":{' in members
    store.close()
