"""Reconciler contract: bucket and store compared, drift repaired, safe while events flow."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dynastore.bootstrap import Adapters
from dynastore.domain.events import asset_id_for_key
from dynastore.domain.search import AssetQuery
from dynastore.ports import AssetWrite
from dynastore.services.catalogs import CatalogService

from .indexing_support import Indexing, make_indexing


@pytest.fixture
def ix(adapters: Adapters, tmp_path: Path) -> Indexing:
    return make_indexing(adapters, tmp_path)


def _keys(n: int, catalog: str = "demo") -> list[str]:
    return [f"{catalog}/s2/scene-{i % 5}/file-{i}.csv" for i in range(n)]


def test_reconcile_indexes_what_no_event_announced_and_counts(ix: Indexing) -> None:
    # GIVEN files written while no event source was listening (two catalogs, one sidecar)
    for key in _keys(12):
        ix.put(key, f"id,value\n{key},1\n".encode())
    ix.put("demo/s2/scene-0/file-0.csv.meta.json", b'{"title": "described"}')
    ix.put("other/readme.pdf", b"%PDF-1.4")
    # WHEN the reconciler runs over the whole bucket
    report = ix.lifecycle.reconcile()
    # THEN every file is an asset, catalogs included, and the counts say so
    assert sorted(report.catalogs) == ["demo", "other"]
    assert report.scanned == 14 and report.failed == 0
    assert report.indexed == 13  # the sidecar was read with its file: re-applying it changes nothing
    assert len(ix.assets("demo")) == 12 and len(ix.assets("other")) == 1
    assert ix.asset_for("demo/s2/scene-0/file-0.csv")["title"] == "described"
    # AND a second run finds nothing to do
    again = ix.lifecycle.reconcile()
    assert (again.indexed, again.missing, again.failed, again.unchanged) == (0, 0, 0, 14)


def test_reconcile_marks_what_is_gone_missing(ix: Indexing) -> None:
    keys = _keys(6)
    for key in keys:
        ix.indexing.handle(ix.finalize(key, key.encode()))
    for key in keys[:2]:
        ix.adapters.blobs.delete(key)  # no event delivered
    report = ix.lifecycle.reconcile("demo")
    assert report.missing == 2 and report.indexed == 0
    statuses = {a["storage"]["key"]: a["status"] for a in ix.assets()}
    assert [statuses[k] for k in keys] == ["missing", "missing", "active", "active", "active", "active"]
    assert ix.lifecycle.reconcile("demo").missing == 0


def test_reconcile_keeps_a_users_soft_delete(ix: Indexing) -> None:
    ix.indexing.handle(ix.finalize("demo/readme.pdf", b"%PDF-1.4"))
    asset = ix.asset_for("demo/readme.pdf")
    soft_deleted = {**asset, "status": "deleted", "deleted_at": asset["updated"]}
    ix.adapters.store.write_assets([AssetWrite(soft_deleted, asset["rev"])], audits=[])
    report = ix.lifecycle.reconcile("demo")
    assert report.indexed == 0
    assert ix.adapters.store.get_asset("demo", asset["id"])["status"] == "deleted"


def test_reconcile_repairs_a_crash_between_asset_and_ingest_record(ix: Indexing) -> None:
    # GIVEN an asset written by an indexer that died before writing the key's ingest record
    key = "demo/s2/scene-1/a.csv"
    ix.indexing.handle(ix.finalize(key, b"a,b\n"))
    record = ix.record(key)
    ix.adapters.store.put_ingest_record(record.__class__(**{**record.__dict__, "status": "failed", "error": "crash"}))
    # WHEN reconciling
    ix.lifecycle.reconcile("demo")
    # THEN the record is repaired, with no second asset and no second audit entry
    assert ix.record(key).status == "indexed"
    assert len(ix.assets()) == 1
    assert ix.history("demo", asset_id_for_key(key)) == ["index"]


def test_reconcile_is_safe_while_events_flow(ix: Indexing) -> None:
    # GIVEN half of the files already announced, the other half not
    keys = _keys(60)
    events = [ix.finalize(key, key.encode()) for key in keys]
    for event in events[:30]:
        ix.indexing.handle(event)
    # WHEN the reconciler and the event handler run at the same time over everything
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            for event in events[30:]:
                ix.indexing.handle(event)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=deliver)
    thread.start()
    report = ix.lifecycle.reconcile("demo")
    thread.join()
    # THEN each file is exactly one active asset, indexed once
    assert not errors and report.failed == 0
    assets = ix.assets(statuses=("active",))
    assert sorted(a["storage"]["key"] for a in assets) == sorted(keys)
    for key in keys:
        assert ix.history("demo", asset_id_for_key(key)) == ["index"]
    assert ix.adapters.store.count_assets(AssetQuery(catalog_ids=("demo",))) == 60


def test_reconcile_leaves_retired_catalogs_alone(ix: Indexing) -> None:
    ix.put("demo/readme.pdf", b"%PDF-1.4")
    CatalogService(ix.adapters.store, ix.adapters.provisioner).create({"id": "demo"}, actor="t")
    ix.catalogs.retire("demo", actor="t")
    report = ix.lifecycle.reconcile()
    assert report.indexed == 0 and "demo" not in report.catalogs
