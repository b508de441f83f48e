"""BlobStore contract: ``set_storage_class`` moves an object to a colder tier in place (retention)."""

from __future__ import annotations

import pytest

from dynastore.errors import NotFound
from dynastore.ports import BlobStore

# What each backend may call a tier (the local folder has one class: None).
COLD_NAMES = {None, "COLDLINE", "ARCHIVE", "STANDARD_IA", "GLACIER_IR"}


def test_archiving_keeps_the_key_bytes_and_type_readable(blobs: BlobStore) -> None:
    # GIVEN a published version of a file
    key = "demo/tracks/Bluefin-12/track@2025-08-10T0955Z.geojson"
    data = b'{"type": "FeatureCollection", "features": []}'
    blobs.put(key, data, content_type="application/geo+json", metadata={"asset_id": "a1"})
    # WHEN it is moved to the archive tier
    info = blobs.set_storage_class(key, "archive")
    # THEN stat reports the archive class, and the same key still serves the same bytes and type
    assert info.key == key and info.size == len(data)
    assert info.storage_class in COLD_NAMES
    stat = blobs.stat(key)
    assert stat.storage_class == info.storage_class
    assert stat.content_type == "application/geo+json"
    assert stat.metadata == {"asset_id": "a1"}
    assert blobs.get(key) == data
    with blobs.open(key) as handle:
        assert handle.read() == data


def test_archiving_twice_is_a_no_op_and_hot_brings_it_back(blobs: BlobStore) -> None:
    # GIVEN an archived object
    key = "demo/tracks/Bluefin-12/summary@2025-08-10T0955Z.csv"
    blobs.put(key, b"a,b\n1,2\n", content_type="text/csv")
    first = blobs.set_storage_class(key, "archive")
    # WHEN it is archived again (a retention run repeated: at-least-once)
    again = blobs.set_storage_class(key, "archive")
    # THEN nothing changes; and the hot tier is a class of its own where the backend has classes
    assert (again.storage_class, again.size) == (first.storage_class, first.size)
    hot = blobs.set_storage_class(key, "hot")
    assert hot.storage_class in (None, "STANDARD")
    assert (first.storage_class is None) == (hot.storage_class is None)
    assert blobs.get(key) == b"a,b\n1,2\n"


def test_storage_class_of_a_missing_object_is_not_found(blobs: BlobStore) -> None:
    # GIVEN no object  WHEN its class is set  THEN NotFound, and nothing is created
    with pytest.raises(NotFound):
        blobs.set_storage_class("demo/none/here@2025-01-01T0000Z.txt", "cold")
    with pytest.raises(NotFound):
        blobs.stat("demo/none/here@2025-01-01T0000Z.txt")
