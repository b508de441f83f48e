"""BlobStore.for_bucket contract: a catalog's storage binding names a bucket this backend serves."""

from __future__ import annotations

import pytest

from dynastore.bootstrap import Adapters
from dynastore.errors import Invalid, NotFound, Unavailable
from dynastore.ports import BlobStore


def test_its_own_bucket_is_the_same_store(blobs: BlobStore) -> None:
    # WHEN a store is asked for its own bucket  THEN it answers itself (no second client, same objects)
    assert blobs.for_bucket(blobs.bucket) is blobs


def test_the_bucket_of_a_catalog_binding_holds_the_catalogs_files(adapters: Adapters) -> None:
    # GIVEN a provisioned catalog (its binding names the bucket its files live in)
    binding = adapters.provisioner.provision_catalog("demo")
    store = adapters.blobs.for_bucket(binding["bucket"])
    assert store.bucket == binding["bucket"]
    store.health()
    # WHEN a file is written under the binding's prefix of that store
    key = binding["prefix"] + "s2/a.txt"
    info = store.put(key, b"bytes")
    # THEN it reads back there, and its href resolves in that store (and only there)
    assert (info.bucket, store.get(key)) == (binding["bucket"], b"bytes")
    assert store.key_for_href(store.href(key)) == key
    if binding["bucket"] != adapters.blobs.bucket:
        assert adapters.blobs.key_for_href(store.href(key)) is None
    # AND asking again gives a store on the same objects
    assert adapters.blobs.for_bucket(binding["bucket"]).get(key) == b"bytes"
    adapters.provisioner.deprovision_catalog("demo", binding)


def test_a_bucket_that_does_not_exist_is_never_silently_used(blobs: BlobStore) -> None:
    # WHEN a store is asked for a bucket that was never created
    name = f"{blobs.bucket}-never-made"
    try:
        other = blobs.for_bucket(name)
    except NotFound as exc:
        # THEN either the backend knows at once, and says which bucket it has
        assert blobs.bucket in exc.detail
        return
    # OR the store it gives reports the bucket as unavailable and cannot read from it
    assert other.bucket == name
    with pytest.raises(Unavailable):
        other.health()
    with pytest.raises((NotFound, Unavailable)):
        other.get("demo/a.txt")


@pytest.mark.parametrize("name", ["", "UPPER", "a/b", "x"])
def test_a_malformed_bucket_name_is_refused(blobs: BlobStore, name: str) -> None:
    with pytest.raises((Invalid, NotFound)):
        blobs.for_bucket(name)
