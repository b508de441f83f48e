"""The folder blob store beyond the contract: files copied in by hand, hidden internals, symlinks."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from dynastore.backends.local.blobs import META_DIR, FolderBlobStore, is_internal
from dynastore.errors import Conflict, Invalid, NotFound


@pytest.fixture
def blobs(tmp_path: Path) -> FolderBlobStore:
    return FolderBlobStore(tmp_path / "bucket")


def test_a_file_copied_in_by_hand_is_an_object(blobs: FolderBlobStore, tmp_path: Path) -> None:
    # GIVEN a file written straight into the bucket folder (as `cp` would)
    source = tmp_path / "B04.tif"
    source.write_bytes(b"pixels" * 1000)
    (blobs.root / "demo" / "s2").mkdir(parents=True)
    shutil.copy(source, blobs.root / "demo" / "s2" / "B04.tif")
    # WHEN it is described  THEN size and md5 are computed, the generation is its mtime_ns
    info = blobs.stat("demo/s2/B04.tif")
    assert info.size == 6000
    assert info.md5 == hashlib.md5(b"pixels" * 1000).hexdigest()
    assert info.generation == str(os.stat(blobs.root / "demo/s2/B04.tif").st_mtime_ns)
    assert info.content_type is None and info.metadata == {}
    assert [b.key for b in blobs.list("demo/")] == ["demo/s2/B04.tif"]
    assert blobs.get("demo/s2/B04.tif") == b"pixels" * 1000


def test_a_file_replaced_by_hand_is_seen_with_its_new_bytes(blobs: FolderBlobStore) -> None:
    # GIVEN an object written through the store
    first = blobs.put("demo/a.txt", b"written by the store", content_type="text/plain")
    # WHEN someone overwrites it in place with other bytes
    with open(blobs.root / "demo" / "a.txt", "wb") as handle:
        handle.write(b"overwritten by hand, longer")
    os.utime(blobs.root / "demo" / "a.txt", ns=(int(first.generation) + 10**9, int(first.generation) + 10**9))
    # THEN the old metadata record is not trusted: md5 and size describe the new bytes
    info = blobs.stat("demo/a.txt")
    assert info.md5 == hashlib.md5(b"overwritten by hand, longer").hexdigest()
    assert info.size == len(b"overwritten by hand, longer")
    assert int(info.generation) > int(first.generation)
    assert info.content_type is None


def test_internals_are_never_listed_nor_addressable(blobs: FolderBlobStore) -> None:
    blobs.put("demo/a.txt", b"x", metadata={"k": "v"})
    (blobs.root / "demo" / ".dynastore-tmp-123").write_bytes(b"half")
    assert (blobs.root / META_DIR).is_dir()
    assert [b.key for b in blobs.list("")] == ["demo/a.txt"]
    assert is_internal(f"{META_DIR}/ab/cd/1.json")
    assert is_internal("demo/.dynastore-tmp-123")
    assert not is_internal("demo/a.txt")
    with pytest.raises(Invalid):
        blobs.stat(f"{META_DIR}/x")
    with pytest.raises(Invalid):
        blobs.put("demo/.dynastore-tmp-1", b"x")


def test_a_symlink_out_of_the_bucket_is_not_an_object(blobs: FolderBlobStore, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (blobs.root / "demo").mkdir()
    os.symlink(secret, blobs.root / "demo" / "link.txt")
    os.symlink(tmp_path, blobs.root / "demo" / "outside")
    with pytest.raises(NotFound):
        blobs.get("demo/link.txt")
    with pytest.raises((NotFound, Invalid)):
        blobs.get("demo/outside/secret.txt")
    with pytest.raises(Invalid):
        blobs.put("demo/outside/evil.txt", b"x")
    assert not (tmp_path / "evil.txt").exists()
    assert [b.key for b in blobs.list("")] == []


def test_generations_increase_strictly_across_quick_overwrites(blobs: FolderBlobStore) -> None:
    generations = [int(blobs.put("demo/a.txt", str(n).encode()).generation) for n in range(20)]
    assert generations == sorted(set(generations))


def test_an_object_cannot_be_a_folder_of_another(blobs: FolderBlobStore) -> None:
    blobs.put("demo/a", b"x")
    with pytest.raises(Conflict):
        blobs.put("demo/a/b", b"y")


def test_href_is_the_absolute_file_url(blobs: FolderBlobStore) -> None:
    blobs.put("demo/s2/B04.tif", b"x")
    href = blobs.href("demo/s2/B04.tif")
    assert href == (blobs.root / "demo/s2/B04.tif").as_uri()
    assert Path(href.removeprefix("file://")).read_bytes() == b"x"


def test_delete_prunes_empty_folders_but_keeps_the_catalog_folder(blobs: FolderBlobStore) -> None:
    blobs.put("demo/s2/scene/B04.tif", b"x")
    blobs.delete("demo/s2/scene/B04.tif")
    assert not (blobs.root / "demo" / "s2").exists()
    assert (blobs.root / "demo").is_dir()


def test_metadata_survives_a_new_store_on_the_same_folder(blobs: FolderBlobStore) -> None:
    blobs.put("demo/a.tif", b"x", content_type="image/tiff", metadata={"roles": "data"})
    again = FolderBlobStore(blobs.root)
    info = again.stat("demo/a.tif")
    assert info.content_type == "image/tiff"
    assert info.metadata == {"roles": "data"}


def test_keys_with_unusual_but_safe_characters(blobs: FolderBlobStore) -> None:
    for key in ("demo/ümlaut é.tif", "demo/with space/a+b=c&d.tif", "demo/..dots../x", "demo/.hidden"):
        blobs.put(key, key.encode())
        assert blobs.get(key) == key.encode()
        assert blobs.key_for_href(blobs.href(key)) == key
    assert len(list(blobs.list("demo/"))) == 4
