"""The SQLite metadata store under threads and processes sharing one file."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dynastore.backends.local.metadata import SqliteMetadataStore
from dynastore.domain.asset import Asset
from dynastore.errors import Unavailable
from dynastore.ports import AssetWrite


def _asset(n: int) -> dict[str, object]:
    return Asset(id=f"a{n}", catalog_id="demo", href=f"https://example.com/{n}").to_doc()


def test_many_threads_write_and_read_without_errors(tmp_path: Path) -> None:
    store = SqliteMetadataStore(tmp_path / "db.sqlite")
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for n in range(40):
                number = worker * 1000 + n
                audit = {"catalog_id": "demo", "record_type": "asset", "record_id": f"a{number}", "action": "create"}
                store.write_assets([AssetWrite(_asset(number), expect_rev=0)], audits=[audit])
                assert store.get_asset("demo", f"a{number}")["rev"] == 1
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    ids = [f"a{w * 1000 + n}" for w in range(8) for n in range(40)]
    assert len(store.get_assets("demo", ids)) == 320
    store.close()


def test_two_stores_on_one_file_see_each_others_writes(tmp_path: Path) -> None:
    one = SqliteMetadataStore(tmp_path / "db.sqlite")
    two = SqliteMetadataStore(tmp_path / "db.sqlite")
    one.write_assets([AssetWrite(_asset(1), expect_rev=0)], audits=[])
    assert two.get_asset("demo", "a1")["rev"] == 1
    one.close()
    two.close()


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    store = SqliteMetadataStore(tmp_path / "db.sqlite")
    store.db.connection().execute("PRAGMA user_version = 99")
    store.close()
    with pytest.raises(Unavailable):
        SqliteMetadataStore(tmp_path / "db.sqlite")


def test_json_fast_paths_return_the_stored_documents(tmp_path: Path) -> None:
    # the optional get_assets_json / export_assets_json (ports.py) agree with the parsed reads
    import orjson

    store = SqliteMetadataStore(tmp_path / "db.sqlite")
    docs = [_asset(n) for n in range(2500)]
    store.write_assets([AssetWrite(d, expect_rev=0) for d in docs], audits=[])
    rows = store.get_assets_json("demo", ["a1", "a2", "nope"])
    assert sorted((i, s) for i, s, _ in rows) == [("a1", "active"), ("a2", "active")]
    assert sorted((orjson.loads(t) for _, _, t in rows), key=lambda d: d["id"]) == sorted(
        store.get_assets("demo", ["a1", "a2"]), key=lambda d: d["id"]
    )
    assert [orjson.loads(t) for t in store.export_assets_json("demo")] == list(store.export_assets("demo"))
    assert len(list(store.export_assets_json("demo"))) == 2500
    store.close()


def test_a_failed_write_inside_a_batch_leaves_nothing_and_the_batch_goes_on(tmp_path: Path) -> None:
    from dynastore.errors import Conflict, Invalid

    store = SqliteMetadataStore(tmp_path / "db.sqlite")
    with store.batch():
        store.write_assets([AssetWrite(_asset(1), expect_rev=0)], audits=[])
        with pytest.raises(Conflict):
            store.write_assets([AssetWrite(_asset(2), expect_rev=0), AssetWrite(_asset(1), expect_rev=0)], audits=[])
        with pytest.raises(Invalid):  # the asset row is written before the bad audit fails
            store.write_assets([AssetWrite(_asset(3), expect_rev=0)], audits=[{"no": "catalog"}])
        store.write_assets([AssetWrite(_asset(4), expect_rev=0)], audits=[])
    assert sorted(d["id"] for d in store.get_assets("demo", ["a1", "a2", "a3", "a4"])) == ["a1", "a4"]
    store.close()


def test_connections_of_ended_threads_are_closed(tmp_path: Path) -> None:
    store = SqliteMetadataStore(tmp_path / "db.sqlite")
    for _ in range(20):
        thread = threading.Thread(target=lambda: store.get_assets("demo", ["a1"]))
        thread.start()
        thread.join()
    store.get_assets("demo", ["a1"])
    assert len(store.db._connections) <= 3
    store.close()
