"""Indexing contract: objects are indexed from the bucket their catalog's storage binding names."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynastore.bootstrap import Adapters
from dynastore.domain.events import StorageEvent
from dynastore.errors import NotFound

from .indexing_support import make_indexing


def test_an_event_from_a_bucket_no_catalog_is_bound_to_writes_nothing(adapters: Adapters, tmp_path: Path) -> None:
    ix = make_indexing(adapters, tmp_path)
    foreign = f"{adapters.blobs.bucket}-elsewhere"
    # WHEN a finalize arrives from a bucket that is neither the landing bucket nor any catalog's
    event = StorageEvent(kind="finalized", bucket=foreign, key="demo/s2/a.txt", generation="1", size=3)
    outcome = ix.indexing.handle(event)
    # THEN it is recorded as failed under that bucket, saying which bucket and why
    assert outcome.status == "failed"
    record = adapters.store.get_ingest_record(foreign, "demo/s2/a.txt")
    assert record.status == "failed" and foreign in (record.error or "")
    assert "nothing was indexed" in (record.error or "")
    # AND nothing else is written: the catalog the key names is not created, no asset exists
    with pytest.raises(NotFound):
        adapters.store.get_catalog("demo")
    assert ix.assets("demo") == []
    # AND a delete from such a bucket is skipped without a trace
    gone = ix.indexing.handle(StorageEvent(kind="deleted", bucket=foreign, key="demo/s2/b.txt", generation="2"))
    assert gone.status == "skipped" and foreign in (gone.detail or "")
    with pytest.raises(NotFound):
        adapters.store.get_ingest_record(foreign, "demo/s2/b.txt")


def test_the_catalogs_bucket_is_where_its_objects_are_read(adapters: Adapters, tmp_path: Path) -> None:
    ix = make_indexing(adapters, tmp_path)
    # GIVEN a catalog and the store of the bucket its binding names
    catalog = ix.catalogs.create({"id": "demo"}, actor="t")
    store = adapters.blobs.for_bucket(catalog["storage"]["bucket"])
    # WHEN an object written there is reported
    info = store.put("demo/s2/a.txt", b"abc")
    outcome = ix.indexing.handle(StorageEvent.from_blob(info))
    # THEN it is indexed with that bucket's href and coordinates
    assert outcome.status == "indexed", outcome
    doc = adapters.store.get_asset("demo", outcome.asset_id or "")
    assert doc["href"] == store.href("demo/s2/a.txt")
    assert doc["storage"]["bucket"] == catalog["storage"]["bucket"]
    assert ix.indexing.ingest_status("demo/s2/a.txt").status == "indexed"
