"""BlobStore contract: writes, preconditions, reads, listing, keys that must not escape."""

from __future__ import annotations

import hashlib
import io
import threading

import pytest

from dynastore.errors import Conflict, Invalid, NotFound
from dynastore.ports import BlobStore


def test_put_then_get_and_stat_describe_the_bytes(blobs: BlobStore) -> None:
    # GIVEN bytes with a content type and custom metadata
    data = b"hello dynastore"
    # WHEN they are written
    info = blobs.put("demo/s2/scene-1/B04.tif", data, content_type="image/tiff", metadata={"roles": "data"})
    # THEN put, stat and get agree on size, md5, type and metadata
    assert info.key == "demo/s2/scene-1/B04.tif"
    assert info.bucket == blobs.bucket
    assert info.size == len(data)
    assert info.md5 == hashlib.md5(data).hexdigest()
    assert info.generation
    stat = blobs.stat("demo/s2/scene-1/B04.tif")
    assert (stat.size, stat.md5, stat.generation) == (info.size, info.md5, info.generation)
    assert stat.content_type == "image/tiff"
    assert stat.metadata == {"roles": "data"}
    assert blobs.get("demo/s2/scene-1/B04.tif") == data


def test_put_streams_a_file_object(blobs: BlobStore) -> None:
    # GIVEN a 3 MiB stream  WHEN it is written
    data = bytes(range(256)) * (3 * 4096)
    info = blobs.put("demo/big.bin", io.BytesIO(data))
    # THEN the size and md5 cover every byte, and open() streams them back
    assert info.size == len(data)
    assert info.md5 == hashlib.md5(data).hexdigest()
    with blobs.open("demo/big.bin") as handle:
        assert handle.read(10) == data[:10]
        assert handle.read() == data[10:]


def test_overwrite_bumps_the_generation(blobs: BlobStore) -> None:
    first = blobs.put("demo/a.txt", b"one")
    second = blobs.put("demo/a.txt", b"two")
    assert int(second.generation) > int(first.generation)
    assert blobs.get("demo/a.txt") == b"two"
    assert blobs.stat("demo/a.txt").generation == second.generation


def test_create_only_refuses_an_existing_key(blobs: BlobStore) -> None:
    # GIVEN an object
    blobs.put("demo/a.txt", b"original")
    # WHEN a create-only write targets the same key  THEN Conflict and the bytes are untouched
    with pytest.raises(Conflict):
        blobs.put("demo/a.txt", b"intruder", if_generation_match=0)
    assert blobs.get("demo/a.txt") == b"original"
    # AND a create-only write of a new key works
    assert blobs.put("demo/b.txt", b"new", if_generation_match=0).size == 3


def test_racing_create_only_writers_have_exactly_one_winner(blobs: BlobStore) -> None:
    # GIVEN eight writers racing to create the same key with different bytes
    results: dict[int, str] = {}
    barrier = threading.Barrier(8)

    def write(n: int) -> None:
        barrier.wait()
        try:
            blobs.put("demo/race.bin", f"writer-{n}".encode() * 1000, if_generation_match=0)
            results[n] = "won"
        except Conflict:
            results[n] = "conflict"

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN exactly one wins and the stored bytes are the winner's, whole
    assert len(results) == 8, "a writer failed with something else than Conflict"
    winners = [n for n, outcome in results.items() if outcome == "won"]
    assert len(winners) == 1, results
    assert blobs.get("demo/race.bin") == f"writer-{winners[0]}".encode() * 1000
    assert blobs.stat("demo/race.bin").md5 == hashlib.md5(f"writer-{winners[0]}".encode() * 1000).hexdigest()
    assert [b.key for b in blobs.list("demo/")] == ["demo/race.bin"]


def test_generation_precondition(blobs: BlobStore) -> None:
    # GIVEN an object at a known generation
    info = blobs.put("demo/a.txt", b"v1")
    # WHEN written with a stale generation  THEN Conflict (PreconditionFailed) and nothing changes
    with pytest.raises(Conflict):
        blobs.put("demo/a.txt", b"v2", if_generation_match=int(info.generation) + 1)
    assert blobs.get("demo/a.txt") == b"v1"
    # WHEN written with the current generation  THEN it succeeds
    blobs.put("demo/a.txt", b"v2", if_generation_match=int(info.generation))
    assert blobs.get("demo/a.txt") == b"v2"


def test_missing_objects(blobs: BlobStore) -> None:
    with pytest.raises(NotFound):
        blobs.get("demo/missing.txt")
    with pytest.raises(NotFound):
        blobs.stat("demo/missing.txt")
    with pytest.raises(NotFound):
        blobs.open("demo/missing.txt")
    with pytest.raises(NotFound):
        blobs.delete("demo/missing.txt", missing_ok=False)
    blobs.delete("demo/missing.txt")  # missing_ok by default


def test_delete_removes_the_object(blobs: BlobStore) -> None:
    blobs.put("demo/s2/a.txt", b"x")
    blobs.delete("demo/s2/a.txt")
    with pytest.raises(NotFound):
        blobs.stat("demo/s2/a.txt")
    assert list(blobs.list("demo/")) == []


def test_list_by_prefix_in_key_order(blobs: BlobStore) -> None:
    # GIVEN objects under several prefixes, written out of order
    keys = ["demo/s2/b.tif", "demo/a.pdf", "demo/s2/a.tif", "demo/s2-x/c.tif", "demo/s2/sub/z.tif", "other/a.txt"]
    for key in keys:
        blobs.put(key, key.encode())
    # THEN list returns what is under a prefix (a string prefix, not only a folder), sorted by key
    assert [b.key for b in blobs.list("demo/s2/")] == ["demo/s2/a.tif", "demo/s2/b.tif", "demo/s2/sub/z.tif"]
    assert [b.key for b in blobs.list("demo/s2")] == [
        "demo/s2-x/c.tif",
        "demo/s2/a.tif",
        "demo/s2/b.tif",
        "demo/s2/sub/z.tif",
    ]
    assert [b.key for b in blobs.list("")] == sorted(keys)
    assert list(blobs.list("nothing/")) == []
    listed = {b.key: b for b in blobs.list("demo/")}
    assert listed["demo/a.pdf"].size == len(b"demo/a.pdf")
    assert listed["demo/a.pdf"].md5 == hashlib.md5(b"demo/a.pdf").hexdigest()


def test_copy_keeps_bytes_type_and_metadata(blobs: BlobStore) -> None:
    blobs.put("demo/src.tif", b"pixels", content_type="image/tiff", metadata={"title": "Band 4"})
    copied = blobs.copy("demo/src.tif", "demo/dst.tif")
    assert copied.key == "demo/dst.tif"
    assert blobs.get("demo/dst.tif") == b"pixels"
    stat = blobs.stat("demo/dst.tif")
    assert stat.content_type == "image/tiff"
    assert stat.metadata == {"title": "Band 4"}
    assert blobs.get("demo/src.tif") == b"pixels"
    with pytest.raises(NotFound):
        blobs.copy("demo/none.tif", "demo/other.tif")


def test_href_round_trips_to_the_key(blobs: BlobStore) -> None:
    href = blobs.href("demo/s2/scene 1/B04.tif")
    assert "://" in href
    assert blobs.key_for_href(href) == "demo/s2/scene 1/B04.tif"
    assert blobs.key_for_href("https://elsewhere.example.com/demo/a.tif") is None
    assert blobs.key_for_href("gs://not-this-bucket-4f1c/demo/a.tif") is None


def test_signed_url_is_a_url_or_none(blobs: BlobStore) -> None:
    blobs.put("demo/a.txt", b"x")
    url = blobs.signed_url("demo/a.txt")
    assert url is None or url.startswith(("http://", "https://"))


def test_health(blobs: BlobStore) -> None:
    blobs.health()


BAD_KEYS = [
    "",
    "../escape.txt",
    "demo/../../escape.txt",
    "demo/../escape.txt",
    "/etc/passwd",
    "demo//a.txt",
    "demo/./a.txt",
    "demo/a.txt/",
    "demo\\..\\escape.txt",
    "demo/a\x00.txt",
    "demo/a\n.txt",
    "..",
    ".",
]


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
def test_keys_that_could_escape_the_bucket_are_invalid(blobs: BlobStore, key: str) -> None:
    # WHEN any operation uses an unsafe key  THEN Invalid, and nothing is written anywhere
    with pytest.raises(Invalid):
        blobs.put(key, b"x")
    with pytest.raises(Invalid):
        blobs.put(key, b"x", if_generation_match=0)
    with pytest.raises(Invalid):
        blobs.get(key)
    with pytest.raises(Invalid):
        blobs.stat(key)
    with pytest.raises(Invalid):
        blobs.delete(key)
    with pytest.raises(Invalid):
        blobs.href(key)
    assert list(blobs.list("")) == []


def test_copy_to_an_unsafe_key_is_invalid(blobs: BlobStore) -> None:
    blobs.put("demo/a.txt", b"x")
    with pytest.raises(Invalid):
        blobs.copy("demo/a.txt", "../../a.txt")
    assert [b.key for b in blobs.list("")] == ["demo/a.txt"]
