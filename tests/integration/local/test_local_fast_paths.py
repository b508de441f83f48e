"""The local backend's shortcuts on the bulk-indexing path behave like the careful paths they replace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dynastore.backends.local.blobs import FolderBlobStore
from dynastore.backends.local.metadata import SqliteMetadataStore
from dynastore.errors import NotFound
from dynastore.ports import IngestRecord


@pytest.fixture
def blobs(tmp_path: Path) -> FolderBlobStore:
    return FolderBlobStore(tmp_path / "bucket")


def test_symlinks_that_stay_inside_the_bucket_are_objects(blobs: FolderBlobStore, tmp_path: Path) -> None:
    # GIVEN an object, a file symlink to it and a folder symlink to its folder, all inside the bucket
    blobs.put("demo/s2/B04.tif", b"pixels")
    os.symlink(blobs.root / "demo/s2/B04.tif", blobs.root / "demo/s2/alias.tif")
    os.symlink(blobs.root / "demo/s2", blobs.root / "demo/mirror")
    # WHEN they are read  THEN both resolve to the bytes (a symlink sends the check down the careful path)
    assert blobs.get("demo/s2/alias.tif") == b"pixels"
    assert blobs.get("demo/mirror/B04.tif") == b"pixels"
    assert blobs.stat("demo/mirror/B04.tif").size == 6


def test_a_folder_symlink_out_of_the_bucket_hides_what_is_behind_it(blobs: FolderBlobStore, tmp_path: Path) -> None:
    # GIVEN a folder outside the bucket, reachable through a symlinked folder inside it
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "secret.txt").write_text("secret")
    (blobs.root / "demo").mkdir()
    os.symlink(outside, blobs.root / "demo" / "door")
    # WHEN a key runs through that symlink  THEN there is no such object
    for read in (blobs.get, blobs.stat, blobs.open):
        with pytest.raises(NotFound):
            read("demo/door/deep/secret.txt")


def test_a_missing_object_or_a_folder_is_not_found(blobs: FolderBlobStore) -> None:
    blobs.put("demo/s2/B04.tif", b"x")
    for key in ("demo/s2/B05.tif", "demo/s2", "demo/s2/B04.tif/x", "other/a.txt"):
        with pytest.raises(NotFound):
            blobs.stat(key)


def test_ingest_records_in_batches_read_and_write_like_one_at_a_time(tmp_path: Path) -> None:
    store = SqliteMetadataStore(tmp_path / "db.sqlite")
    try:
        # GIVEN records written in one batch, one key twice (the last one wins, as written in order)
        first = IngestRecord(bucket="local", key="demo/a.txt", status="failed", at="2024-01-01T00:00:00Z", error="x")
        again = IngestRecord(
            bucket="local",
            key="demo/a.txt",
            status="indexed",
            at="2024-01-02T00:00:00Z",
            catalog_id="demo",
            asset_id="a.txt",
            generation="7",
        )
        other = IngestRecord(bucket="local", key="demo/b.txt", status="skipped", at="2024-01-01T00:00:00Z")
        elsewhere = IngestRecord(bucket="other", key="demo/a.txt", status="indexed", at="2024-01-01T00:00:00Z")
        store.put_ingest_records([first, other, again, elsewhere])
        store.put_ingest_records([])
        # WHEN they are read back in a batch and one by one
        batch = store.get_ingest_records("local", ["demo/a.txt", "demo/b.txt", "demo/none.txt"])
        # THEN both ways agree, absent keys are left out and other buckets are not mixed in
        assert sorted(batch, key=lambda r: r.key) == [again, other]
        assert store.get_ingest_record("local", "demo/a.txt") == again
        assert store.get_ingest_record("other", "demo/a.txt") == elsewhere
        assert store.get_ingest_records("local", []) == []
    finally:
        store.close()
