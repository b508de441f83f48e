"""Lifecycle contract: retire hides at once; cleanup removes blobs, queue and records after
retention, resumes after an interruption, never touches other catalogs, and is idempotent."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from dynastore.bootstrap import Adapters
from dynastore.domain import time as dtime
from dynastore.domain.events import StorageEvent, asset_id_for_key
from dynastore.errors import NotFound
from dynastore.ports import AssetWrite, Doc

from .indexing_support import Indexing, make_indexing


def _populate(ix: Indexing, catalog_id: str, n: int = 8) -> list[str]:
    keys = [f"{catalog_id}/readme.pdf"] + [f"{catalog_id}/s2/scene-{i % 3}/B{i}.csv" for i in range(n - 1)]
    for key in keys:
        ix.indexing.handle(ix.finalize(key, f"data of {key}".encode()))
    return keys


def _no_records_of(ix: Indexing, catalog_id: str, keys: list[str]) -> None:
    store = ix.adapters.store
    with pytest.raises(NotFound):
        store.get_catalog(catalog_id)
    for key in keys:
        with pytest.raises(NotFound):
            store.get_asset(catalog_id, asset_id_for_key(key))
        assert ix.record(key) is None
    assert store.list_audit(catalog_id, limit=10).items == []
    assert store.list_collections(catalog_id, limit=10).items == []


def test_retire_then_cleanup_with_retention_zero_leaves_nothing(adapters: Adapters, tmp_path: Path) -> None:
    ix = make_indexing(adapters, tmp_path, retention_days=0)
    # GIVEN two catalogs with files and records
    demo_keys = _populate(ix, "demo")
    other_keys = _populate(ix, "other", 4)
    # WHEN demo is retired and the cleanup runs
    ix.catalogs.retire("demo", actor="test")
    report = ix.lifecycle.cleanup()
    # THEN demo's prefix is empty and no record of it is left
    assert report.catalogs_purged == ["demo"] and not report.errors
    assert report.blobs_deleted == len(demo_keys)
    assert list(ix.adapters.blobs.list("demo/")) == []
    _no_records_of(ix, "demo", demo_keys)
    # AND the other catalog is intact
    assert sorted(a["storage"]["key"] for a in ix.assets("other", ("active",))) == sorted(other_keys)
    assert len(list(ix.adapters.blobs.list("other/"))) == len(other_keys)
    assert ix.adapters.store.get_catalog("other")["status"] == "active"
    # AND the events the cleanup's deletes cause (delivered late) leave nothing behind
    for key in demo_keys:
        ix.indexing.handle(StorageEvent(kind="deleted", bucket=ix.adapters.blobs.bucket, key=key, generation="1"))
    _no_records_of(ix, "demo", demo_keys)
    # AND running the cleanup again is harmless
    again = ix.lifecycle.cleanup()
    assert again.catalogs_purged == [] and not again.errors
    assert len(ix.assets("other", ("active",))) == len(other_keys)


def test_retired_catalog_waits_for_its_retention(adapters: Adapters, tmp_path: Path) -> None:
    ix = make_indexing(adapters, tmp_path, retention_days=30)
    keys = _populate(ix, "demo", 3)
    ix.catalogs.retire("demo", actor="test")
    report = ix.lifecycle.cleanup()
    assert report.catalogs_waiting == ["demo"] and report.catalogs_purged == []
    assert len(list(ix.adapters.blobs.list("demo/"))) == len(keys)
    # 31 days later it goes
    later = ix.lifecycle.cleanup(now=dtime.utcnow() + timedelta(days=31))
    assert later.catalogs_purged == ["demo"]
    _no_records_of(ix, "demo", keys)


class _FailingOnce:
    """A provisioner whose first deprovision dies half-way (after the blobs went)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failed = False

    def provision_catalog(self, catalog_id: str) -> Doc:
        result: Doc = self.inner.provision_catalog(catalog_id)
        return result

    def deprovision_catalog(self, catalog_id: str, binding: Doc) -> None:
        if not self.failed:
            self.failed = True
            raise RuntimeError("simulated crash while deleting the queue")
        self.inner.deprovision_catalog(catalog_id, binding)


def test_an_interrupted_cleanup_resumes_where_it_stopped(adapters: Adapters, tmp_path: Path) -> None:
    ix = make_indexing(adapters, tmp_path, retention_days=0)
    keys = _populate(ix, "demo", 5)
    ix.catalogs.retire("demo", actor="test")
    ix.lifecycle.provisioner = _FailingOnce(adapters.provisioner)
    first = ix.lifecycle.cleanup()
    assert first.errors and first.catalogs_purged == []
    assert ix.adapters.store.get_catalog("demo")["status"] == "retired"  # still there: found again next time
    second = ix.lifecycle.cleanup()
    assert second.catalogs_purged == ["demo"] and not second.errors
    assert list(ix.adapters.blobs.list("demo/")) == []
    _no_records_of(ix, "demo", keys)


def test_soft_deleted_assets_past_retention_are_purged_with_their_file(adapters: Adapters, tmp_path: Path) -> None:
    ix = make_indexing(adapters, tmp_path, retention_days=1)
    keys = _populate(ix, "demo", 4)
    store = ix.adapters.store
    old, recent = ix.asset_for(keys[1]), ix.asset_for(keys[2])
    two_days_ago = dtime.isoformat(dtime.utcnow() - timedelta(days=2))
    for doc, when in ((old, two_days_ago), (recent, dtime.now_iso())):
        store.write_assets([AssetWrite({**doc, "status": "deleted", "deleted_at": when}, doc["rev"])], audits=[])
    report = ix.lifecycle.cleanup()
    assert report.assets_purged == 1
    with pytest.raises(NotFound):
        store.get_asset("demo", old["id"])
    with pytest.raises(NotFound):
        ix.adapters.blobs.stat(keys[1])
    assert store.get_asset("demo", recent["id"])["status"] == "deleted"  # within retention
    assert ix.adapters.blobs.stat(keys[2]).key == keys[2]
    assert ix.asset_for(keys[0])["status"] == "active"
    # the purge's own delete event finds nothing to do
    outcome = ix.indexing.handle(StorageEvent(kind="deleted", bucket=ix.adapters.blobs.bucket, key=keys[1]))
    assert outcome.status == "deleted" and ix.assets(statuses=("active",))
    assert ix.lifecycle.cleanup().assets_purged == 0
