"""MetadataStore contract: service records (the AIOS registry's store), on every backend."""

from __future__ import annotations

import pytest

from dynastore.errors import Conflict, Invalid, NotFound
from dynastore.ports import MetadataStore
from support.paging import all_items


def test_a_record_is_created_read_replaced_and_deleted(store: MetadataStore) -> None:
    # GIVEN a new registry record
    created = store.put_record("aios_registry", {"id": "db-1", "name": "one"}, expect_rev=0)
    assert created["rev"] == 1
    # THEN it reads back, and a second create of it is refused
    assert store.get_record("aios_registry", "db-1")["name"] == "one"
    with pytest.raises(Conflict):
        store.put_record("aios_registry", {"id": "db-1", "name": "again"}, expect_rev=0)
    # WHEN it is replaced over its revision, a stale revision is refused
    replaced = store.put_record("aios_registry", {"id": "db-1", "name": "two"}, expect_rev=1)
    assert replaced["rev"] == 2
    with pytest.raises(Conflict):
        store.put_record("aios_registry", {"id": "db-1", "name": "stale"}, expect_rev=1)
    # WHEN it is deleted THEN it is gone, and deleting it again says so
    store.delete_record("aios_registry", "db-1")
    with pytest.raises(NotFound):
        store.get_record("aios_registry", "db-1")
    with pytest.raises(NotFound):
        store.delete_record("aios_registry", "db-1")


def test_records_list_in_id_order_per_kind_and_page(store: MetadataStore) -> None:
    # GIVEN five records of one kind and one of another
    for n in (3, 1, 4, 0, 2):
        store.put_record("aios_registry", {"id": f"r{n}"}, expect_rev=None)
    store.put_record("other_kind", {"id": "r9"}, expect_rev=None)
    # THEN the kind lists its own records in id order, across pages of two
    first = store.list_records("aios_registry", limit=2)
    assert [d["id"] for d in first.items] == ["r0", "r1"] and first.next_token
    listed = all_items(lambda token: store.list_records("aios_registry", limit=2, token=token))
    assert [d["id"] for d in listed] == ["r0", "r1", "r2", "r3", "r4"]
    assert [d["id"] for d in store.list_records("other_kind").items] == ["r9"]


def test_a_malformed_kind_or_id_is_refused(store: MetadataStore) -> None:
    with pytest.raises(Invalid):
        store.put_record("Bad Kind", {"id": "x"}, expect_rev=None)
    with pytest.raises(Invalid):
        store.put_record("aios_registry", {"id": "a/b"}, expect_rev=None)
    with pytest.raises(NotFound):
        store.get_record("aios_registry", "absent")
