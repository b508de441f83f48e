"""The local backend's shortcuts on the bulk-indexing path behave like the careful paths they replace."""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace
from pathlib import Path

import pytest

from dynastore.backends.local.blobs import MD5_CACHE_MIN_BYTES, FolderBlobStore
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


def records_of(blobs: FolderBlobStore, key: str) -> list[str]:
    folder = blobs._meta_dir(key)
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_the_md5_of_a_hand_copied_file_is_cached_only_when_the_file_is_large(blobs: FolderBlobStore) -> None:
    # GIVEN a small and a large file copied in by hand (no metadata record)
    small, large = b"id,value\n1,2\n", b"x" * MD5_CACHE_MIN_BYTES
    (blobs.root / "demo").mkdir()
    (blobs.root / "demo" / "small.csv").write_bytes(small)
    (blobs.root / "demo" / "large.bin").write_bytes(large)
    # WHEN they are described twice
    for _ in range(2):
        assert blobs.stat("demo/small.csv").md5 == hashlib.md5(small).hexdigest()
        assert blobs.stat("demo/large.bin").md5 == hashlib.md5(large).hexdigest()
    # THEN only the large one has a record (hashing a small file again is cheaper than a record)
    assert records_of(blobs, "demo/small.csv") == []
    assert records_of(blobs, "demo/large.bin") == [f"{os.stat(blobs.root / 'demo/large.bin').st_ino}.json"]


def test_a_small_file_replaced_in_place_by_hand_does_not_keep_a_stale_record(blobs: FolderBlobStore) -> None:
    # GIVEN an object written through the store (it has a record for its inode)
    first = blobs.put("demo/a.txt", b"written by the store", content_type="text/plain")
    ino = os.stat(blobs.root / "demo/a.txt").st_ino
    # WHEN its bytes are overwritten in place (same inode) and it is described
    with open(blobs.root / "demo/a.txt", "r+b") as handle:
        handle.write(b"WRITTEN")
    later = int(first.generation) + 10**9
    os.utime(blobs.root / "demo/a.txt", ns=(later, later))
    info = blobs.stat("demo/a.txt")
    # THEN the new bytes are described and the record of that inode now says so
    assert info.md5 == hashlib.md5(b"WRITTEN by the store").hexdigest() and info.content_type is None
    assert records_of(blobs, "demo/a.txt") == [f"{ino}.json"]
    assert blobs._read_record("demo/a.txt", os.stat(blobs.root / "demo/a.txt")) is not None


def test_ingest_records_in_batches_read_and_write_like_one_at_a_time(tmp_path: Path) -> None:
    store = SqliteMetadataStore(tmp_path / "db.sqlite")
    try:
        # GIVEN records written in one batch, one key twice (the last one wins, as written in order)
        first = IngestRecord(bucket="local", key="demo/a.txt", status="failed", at="2024-01-01T00:00:00Z", error="x")
        again = replace(first, status="indexed", at="2024-01-02T00:00:00Z", error=None, generation="7")
        again = replace(again, catalog_id="demo", asset_id="a.txt")
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
