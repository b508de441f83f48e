"""Bulk indexing takes its fast path (one atomic ``write_assets`` per batch) and, when that write
fails, falls back to object-by-object writes: logged at WARNING and counted in ``stats``. Runs on
the real local store, wrapped to count (and, for the fallback, refuse) batch writes."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from dynastore.bootstrap import Services, bootstrap
from dynastore.config import Settings
from dynastore.domain.events import StorageEvent
from dynastore.errors import Unavailable
from dynastore.ports import AssetWrite, MetadataStore
from dynastore.services.catalogs import CatalogService
from dynastore.services.indexing import IndexingService

KEYS = [f"demo/s2/scene-{n // 4}/B0{n % 4}.csv" for n in range(12)]


class CountingStore:
    """The real store, counting ``write_assets`` calls by size; ``fail_batches`` refuses any call
    that writes more than one asset (what a concurrent writer or an outage does to a batch)."""

    def __init__(self, store: MetadataStore, *, fail_batches: bool = False) -> None:
        self._store = store
        self.fail_batches = fail_batches
        self.write_sizes: list[int] = []

    def write_assets(self, writes: Sequence[AssetWrite], **kwargs: Any) -> Any:
        self.write_sizes.append(len(writes))
        if self.fail_batches and len(writes) > 1:
            raise Unavailable("the batch write failed (test)")
        return self._store.write_assets(writes, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = bootstrap(Settings(data_dir=tmp_path, watch_bucket=False, log_level="WARNING"))
    for n, key in enumerate(KEYS):
        built.adapters.blobs.put(key, f"band,value\nB0{n % 4},{n}\n".encode())
    yield built
    built.close()


def indexing_over(services: Services, store: CountingStore) -> IndexingService:
    adapters = services.adapters
    catalogs = CatalogService(store, adapters.provisioner)  # type: ignore[arg-type]
    return IndexingService(store, adapters.blobs, adapters.provisioner, services.settings,  # type: ignore[arg-type]
                           catalogs=catalogs)


def test_a_batch_of_new_files_is_written_in_one_call(services: Services) -> None:
    # GIVEN new files and indexing over the real store
    store = CountingStore(services.adapters.store)
    indexing = indexing_over(services, store)
    # WHEN they are indexed in bulk
    outcomes = indexing.index_keys(KEYS, listed=True)
    # THEN every asset lands in one write_assets call: the fast path, and no fallback counted
    assert [o.status for o in outcomes] == ["indexed"] * len(KEYS)
    assert store.write_sizes == [len(KEYS)]
    assert indexing.stats.to_doc() == {"batch_writes": 1, "batch_fallbacks": 0, "fallback_objects": 0}


def test_a_failed_batch_write_falls_back_file_by_file_with_a_warning_and_a_count(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a store whose batch writes fail, single writes succeed
    store = CountingStore(services.adapters.store, fail_batches=True)
    indexing = indexing_over(services, store)
    # WHEN the files are indexed in bulk
    with caplog.at_level(logging.WARNING, logger="dynastore.indexing"):
        outcomes = indexing.index_keys(KEYS, listed=True)
    # THEN every file is still indexed, one write per file after the failed batch
    assert [o.status for o in outcomes] == ["indexed"] * len(KEYS)
    assert store.write_sizes == [len(KEYS)] + [1] * len(KEYS)
    assert {doc["id"] for doc in services.adapters.store.get_assets("demo", [o.asset_id or "" for o in outcomes])} == {
        o.asset_id for o in outcomes
    }
    # AND the fallback is counted and logged at WARNING, not hidden at INFO
    assert indexing.stats.to_doc() == {"batch_writes": 0, "batch_fallbacks": 1, "fallback_objects": len(KEYS)}
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "one by one" in r.getMessage()]
    assert len(warnings) == 1 and "batch write failed" in warnings[0].getMessage()


def test_a_new_file_checks_its_bucket_once(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a catalog that exists, and a count of bucket checks around the real one
    indexing = services.indexing
    assert indexing.handle(StorageEvent.from_blob(services.adapters.blobs.stat(KEYS[0]))).status == "indexed"
    checks: list[tuple[str, str | None]] = []
    real = indexing.facts.check_bucket

    def counted(bucket: str, catalog_id: str | None) -> None:
        checks.append((bucket, catalog_id))
        real(bucket, catalog_id)

    monkeypatch.setattr(indexing.facts, "check_bucket", counted)
    # WHEN the event of a new file in it is handled
    outcome = indexing.handle(StorageEvent.from_blob(services.adapters.blobs.stat(KEYS[1])))
    # THEN it is indexed after one bucket check (it was three: apply, and before and after ensuring the catalog)
    assert outcome.status == "indexed"
    assert checks == [(services.adapters.blobs.bucket, "demo")]
