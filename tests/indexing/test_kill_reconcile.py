"""A service killed with SIGKILL in the middle of indexing 10,000 files loses nothing: started
again (its startup reconcile) every file is indexed exactly once; the reconcile command agrees."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from dynastore.backends.local.metadata import SqliteMetadataStore
from dynastore.domain.search import AssetQuery
from support.devserver import dev_server, dynastore, env, wait_until

pytestmark = pytest.mark.slow

N_FILES = 10_000


def _count(store: SqliteMetadataStore) -> int:
    return store.count_assets(AssetQuery(catalog_ids=("demo",)))


def test_killed_mid_indexing_then_restarted_indexes_everything_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    bucket = data_dir / "bucket"
    # GIVEN 10,000 files already in the bucket folder
    for n in range(N_FILES):
        folder = bucket / "demo" / "s2" / f"scene-{n // 100}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"obs-{n}.csv").write_text(f"id,value\n{n},{n * 0.5}\n")
    # WHEN `dynastore index` is killed with SIGKILL in the middle of its work
    log_path = tmp_path / "index.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            dynastore("index", str(bucket), "--data-dir", str(data_dir), "--quiet"),
            env=env(), stdout=log, stderr=subprocess.STDOUT,
        )
        database = data_dir / "dynastore.db"
        wait_until(database.exists, timeout=60, what="the database")
        store = SqliteMetadataStore(database)
        try:
            wait_until(lambda: _count(store) >= 300 or process.poll() is not None, timeout=300,
                       what="indexing to start", interval=0.02)
            process.send_signal(signal.SIGKILL)
            process.wait(30)
            indexed_when_killed = _count(store)
            assert process.returncode == -signal.SIGKILL, log_path.read_text()
            assert 0 < indexed_when_killed < N_FILES, f"not killed mid-way ({indexed_when_killed} indexed)"

            # AND the service is started again (its startup reconcile catches up)
            with dev_server(data_dir):
                started = time.monotonic()
                wait_until(lambda: _count(store) == N_FILES, timeout=600, what=f"{N_FILES} indexed assets",
                           interval=0.5)
                print(f"\nkilled at {indexed_when_killed} indexed; the restart caught up the rest in "
                      f"{time.monotonic() - started:.1f} s")

            # THEN every file is one asset, indexed exactly once
            keys: Counter[str] = Counter()
            token = None
            while True:
                page = store.search_assets(AssetQuery(catalog_ids=("demo",), limit=10000, token=token))
                keys.update(doc["storage"]["key"] for doc in page.items)
                token = page.next_token
                if not token:
                    break
            assert len(keys) == N_FILES and set(keys.values()) == {1}
            index_entries: Counter[str] = Counter()
            token = None
            while True:
                audit = store.list_audit("demo", record_type="asset", limit=10000, token=token)
                index_entries.update(e["record_id"] for e in audit.items if e["action"] == "index")
                token = audit.next_token
                if not token:
                    break
            assert len(index_entries) == N_FILES and set(index_entries.values()) == {1}
        finally:
            store.close()

    # AND the reconcile command finds nothing left to do
    result = subprocess.run(
        dynastore("reconcile", "--data-dir", str(data_dir), "--json"), env=env(), capture_output=True, timeout=600
    )
    assert result.returncode == 0, result.stderr.decode()
    report = json.loads(result.stdout.decode().strip().splitlines()[-1])
    assert (report["scanned"], report["indexed"], report["missing"], report["failed"]) == (N_FILES, 0, 0, 0)
