"""``write_items`` cuts the ``item_members`` rows of its items in Python before the write lock
(``sqlite_members``): what it stores is, byte for byte, what the SQL refill (``_REFILL_MEMBERS_SQL``)
computes from the stored assets, and a scope the batch cannot answer alone is left to that SQL."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from dynastore.backends.local import sqlite_catalogs
from dynastore.backends.local.metadata import SqliteMetadataStore
from dynastore.backends.local.sqlite_catalogs import MEMBERS_LIMIT, refill_members
from dynastore.domain.asset import Asset
from dynastore.ports import AssetWrite, ItemWrite

CAT, COL = "demo", "s2"
Scope = tuple[str, str, str]


def _asset(item_id: str | None, name: str, **fields: Any) -> dict[str, Any]:
    body = {"href": f"https://h.example.com/{item_id}/{name}.tif", "roles": ["data"], **fields}
    scope = {"catalog_id": CAT, "collection_id": COL, "item_id": item_id}
    return Asset.model_validate({"id": f"{item_id}.{name}", **scope, **body}).to_doc()


def _item(item_id: str) -> dict[str, Any]:
    return {"type": "Feature", "id": item_id, "collection": COL, "geometry": None, "properties": {}}


@pytest.fixture
def store(tmp_path: Path) -> SqliteMetadataStore:
    store = SqliteMetadataStore(tmp_path / "meta.db")
    store.db.executescript(
        "INSERT INTO catalogs (id, rev, doc) VALUES ('demo', 1, '{\"id\":\"demo\"}'); "
        "INSERT INTO collections (catalog_id, id, rev, doc) VALUES ('demo', 's2', 1, '{\"id\":\"s2\"}');"
    )
    return store


@pytest.fixture
def refilled(monkeypatch: pytest.MonkeyPatch) -> list[Scope]:
    """The scopes ``write_items`` leaves to the SQL refill."""
    seen: list[Scope] = []

    def spy(conn: Any, keys: Any) -> None:
        keys = list(keys)
        seen.extend(key for key in dict.fromkeys(keys) if key not in seen)
        refill_members(conn, keys)

    monkeypatch.setattr(sqlite_catalogs, "refill_members", spy)
    return seen


def _load(
    store: SqliteMetadataStore,
    items: dict[str, list[dict[str, Any]]],
    *,
    expect_rev: int | None = 0,
    extra: Sequence[dict[str, Any]] = (),
) -> None:
    writes = [ItemWrite(_item(item_id), expect_rev, {"catalog_id": CAT}) for item_id in items]
    assets = [AssetWrite(doc, expect_rev) for docs in items.values() for doc in docs]
    assets += [AssetWrite(doc, None) for doc in extra]  # written whatever is stored
    store.write_items(CAT, writes, assets=assets)


def _stored_and_sql(store: SqliteMetadataStore) -> tuple[list[Any], list[Any]]:
    """The ``item_members`` rows as stored, and as ``_REFILL_MEMBERS_SQL`` computes them for the same scopes."""
    select = "SELECT catalog_id, collection_id, item_id, members FROM item_members ORDER BY 1, 2, 3"
    stored = [tuple(row) for row in store.db.query(select)]
    with store.db.write() as conn:
        conn.execute("DELETE FROM item_members")
        refill_members(conn, [row[:3] for row in stored])
        computed = [tuple(row) for row in conn.execute(select)]
    return stored, computed


def _members(store: SqliteMetadataStore, item_id: str) -> str:
    return str(store.db.query_one("SELECT members FROM item_members WHERE item_id = ?", (item_id,))[0])


def test_new_items_of_every_size_are_cut_before_the_lock_as_the_sql_cuts_them(
    store: SqliteMetadataStore, refilled: list[Scope]
) -> None:
    # GIVEN items with 0, 1, MEMBERS_LIMIT - 1, MEMBERS_LIMIT and more than MEMBERS_LIMIT new assets
    sizes = {"none": 0, "one": 1, "below": MEMBERS_LIMIT - 1, "at": MEMBERS_LIMIT, "over": MEMBERS_LIMIT + 7}
    items = {item_id: [_asset(item_id, f"a{n:03d}") for n in range(size)] for item_id, size in sizes.items()}
    # WHEN they are written in one batch
    _load(store, items)
    # THEN every item has its row, none of them computed by the SQL refill, each what the SQL computes
    assert refilled == []
    stored, computed = _stored_and_sql(store)
    assert [row[2] for row in stored] == sorted(sizes)
    assert stored == computed
    assert _members(store, "none") == ""
    assert _members(store, "over").startswith(f"{MEMBERS_LIMIT} 0 ")


def test_assets_that_cannot_be_cut_are_kept_as_the_sql_keeps_them(
    store: SqliteMetadataStore, refilled: list[Scope]
) -> None:
    # GIVEN items each holding a plain asset and one whose record cannot be cut: a file name with '@',
    # a record holding one of RECORD_SIGNS, an id needing JSON escapes, a local file (no record)
    plain = _asset("x", "plain")
    escaped = {**_asset("escaped", "q"), "id": 'escaped.q"\\'}
    items = {
        "at": [_asset("at", "b", href="https://h.example.com/at/file@v2.tif")],
        "time": [_asset("time", "b", datetime="2024-01-01T00:00:00Z")],
        "version": [{**_asset("version", "b"), "version": "v2"}],
        "thumb": [_asset("thumb", "b", roles=["thumbnail"])],
        "meta": [_asset("meta", "b", roles=["metadata"])],
        "escaped": [escaped],
        "local": [_asset("local", "b", href="file:///data/local/b.tif")],
    }
    for item_id, docs in items.items():
        docs.append({**plain, "id": f"{item_id}.plain", "item_id": item_id})
    # WHEN they are written in one batch
    _load(store, items)
    # THEN each row says one asset cannot be cut, and is what the SQL computes, byte for byte
    assert refilled == []
    stored, computed = _stored_and_sql(store)
    assert stored == computed
    assert {row[2]: row[3].split(" ")[:2] for row in stored} == {item_id: ["2", "1"] for item_id in items}


def test_a_scope_holding_other_assets_is_left_to_the_sql(store: SqliteMetadataStore, refilled: list[Scope]) -> None:
    # GIVEN an asset created through the asset API for item "pre" before the items are loaded
    store.write_assets([AssetWrite(_asset("pre", "earlier"), 0)], audits=[])
    # WHEN "pre" and "fresh" are loaded with new assets
    _load(store, {"pre": [_asset("pre", f"a{n}") for n in range(3)], "fresh": [_asset("fresh", "a0")]})
    # THEN "pre" is refilled by the SQL, with its earlier asset counted; "fresh" is cut before the lock
    assert refilled == [(CAT, COL, "pre")]
    stored, computed = _stored_and_sql(store)
    assert stored == computed
    assert _members(store, "pre").startswith("4 0 ")


def test_an_upsert_that_drops_an_asset(store: SqliteMetadataStore, refilled: list[Scope]) -> None:
    # GIVEN two items loaded with three assets each
    _load(store, {item_id: [_asset(item_id, f"a{n}") for n in range(3)] for item_id in ("kept", "deleted")})
    # WHEN both are upserted without their asset a2: "kept" leaves it stored, "deleted" soft-deletes it
    gone = {**_asset("deleted", "a2"), "status": "deleted"}
    upsert = {item_id: [_asset(item_id, f"a{n}", title="again") for n in range(2)] for item_id in ("kept", "deleted")}
    refilled.clear()
    _load(store, upsert, expect_rev=None, extra=[gone])
    # THEN "kept" (a2 still in its scope) is refilled by the SQL; "deleted" is cut before the lock,
    # without a2; both are what the SQL computes
    assert refilled == [(CAT, COL, "kept")]
    stored, computed = _stored_and_sql(store)
    assert stored == computed
    assert _members(store, "kept").startswith("3 0 ")
    assert _members(store, "deleted").startswith("2 0 ") and "deleted.a2" not in _members(store, "deleted")


def test_a_mixed_batch(store: SqliteMetadataStore, refilled: list[Scope]) -> None:
    # GIVEN an item "other" loaded earlier, and an asset of item "pre" created before the load
    _load(store, {"other": [_asset("other", "a0")]})
    store.write_assets([AssetWrite(_asset("pre", "earlier", datetime="2024-01-01T00:00:00Z"), 0)], audits=[])
    refilled.clear()
    # WHEN one batch writes: a plain item, "pre", an item with a deleted and a collection-level asset,
    # an asset written twice (the second time into another item) and one more asset of "other"
    moved = _asset("plain", "moving")
    items = {
        "plain": [_asset("plain", "a0"), moved],
        "pre": [_asset("pre", "a0")],
        "levels": [_asset("levels", "a0"), {**_asset("levels", "a1"), "status": "deleted"}],
        "empty": [],
    }
    collection_level = {**_asset("levels", "col"), "item_id": None, "id": "col-asset"}
    extra = [collection_level, {**moved, "item_id": "levels"}, _asset("other", "a1")]
    _load(store, items, extra=extra)
    # THEN the scopes holding only the batch's assets are cut before the lock ("other" held a0 before);
    # every row is what the SQL computes
    assert sorted(refilled) == [(CAT, COL, "other"), (CAT, COL, "pre")]
    stored, computed = _stored_and_sql(store)
    assert [row[2] for row in stored] == ["empty", "levels", "other", "plain", "pre"]
    assert stored == computed
    assert _members(store, "plain").startswith("1 0 ")
    assert _members(store, "levels").startswith("2 0 ") and "plain.moving" in _members(store, "levels")
