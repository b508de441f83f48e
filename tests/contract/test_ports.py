"""The ports, capabilities included: every backend's adapters implement each member (checked once,
at start-up, by ``bootstrap``), and each capability gives the same answer on every backend, whether
the backend does it natively or inherits the default of ``dynastore.ports``."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest

from dynastore.adapters import Adapters
from dynastore.bootstrap import bootstrap
from dynastore.config import Settings
from dynastore.errors import Unavailable
from dynastore.ports import (
    BlobStore,
    IngestRecord,
    MetadataStore,
    Provisioner,
    TaskQueue,
    missing_members,
    port_members,
)

from .conftest import Backend
from .helpers import asset_doc, seed_catalog, write_new


class Without:
    """An adapter with one member taken away (``None``: there, but not callable)."""

    def __init__(self, inner: object, name: str, *, not_callable: bool = False) -> None:
        self._inner, self._name, self._not_callable = inner, name, not_callable

    def __getattr__(self, name: str) -> Any:
        if name == self._name:
            if self._not_callable:
                return None
            raise AttributeError(name)
        return getattr(self._inner, name)


def _record(key: str, status: str = "indexed", **fields: Any) -> IngestRecord:
    return IngestRecord(bucket="bucket-a", key=key, status=status, at="2024-01-01T00:00:00.000000Z", **fields)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ the start-up check


def test_each_adapter_implements_every_member_of_its_port(adapters: Adapters) -> None:
    # GIVEN the adapters a backend builds
    pairs: list[tuple[object, type]] = [
        (adapters.blobs, BlobStore),
        (adapters.store, MetadataStore),
        (adapters.queue, TaskQueue),
        (adapters.provisioner, Provisioner),
    ]
    for adapter, port in pairs:
        # THEN each has every member of its port, capabilities included
        assert missing_members(adapter, port) == [], port.__name__
        assert isinstance(adapter, port)
    assert {"get_assets_json", "put_ingest_records", "batch", "close", "health"} <= set(port_members(MetadataStore))
    assert {"root", "local_reads", "list_keys", "close", "health"} <= set(port_members(BlobStore))
    assert {"local_worker", "start_worker", "stop", "close", "health"} <= set(port_members(TaskQueue))
    # AND the start-up check passes
    adapters.check()


@pytest.mark.parametrize(
    ("field", "member", "not_callable", "port"),
    [
        ("store", "get_assets_json", False, "MetadataStore"),
        ("blobs", "list_keys", False, "BlobStore"),
        ("queue", "start_worker", True, "TaskQueue"),
        ("provisioner", "deprovision_catalog", False, "Provisioner"),
    ],
)
def test_bootstrap_refuses_an_adapter_missing_a_member_and_names_it(
    adapters: Adapters, tmp_path: Path, field: str, member: str, not_callable: bool, port: str
) -> None:
    # GIVEN adapters one of which lacks a member of its port (or has it, but not callable)
    partial = Without(getattr(adapters, field), member, not_callable=not_callable)
    broken = dataclasses.replace(adapters, **{field: partial})
    # WHEN the services are built on them
    # THEN start-up fails with a message naming the adapter, its port and the missing member
    with pytest.raises(TypeError, match=rf"the {field} adapter Without does not implement {port}: missing {member}\b"):
        bootstrap(Settings(data_dir=tmp_path / "unused"), broken)


# ------------------------------------------------------------------------------------ MetadataStore capabilities


def test_get_assets_json_gives_the_stored_documents_as_json_text(store: MetadataStore) -> None:
    # GIVEN assets of any status, one in another catalog
    seed_catalog(store, "demo")
    seed_catalog(store, "other")
    write_new(store, asset_doc("demo", "a1"), asset_doc("demo", "a2", status="deleted"), asset_doc("other", "a3"))
    # WHEN read as JSON rows
    rows = store.get_assets_json("demo", ["a1", "a2", "a3", "missing"])
    # THEN each existing asset of that catalog is one (id, status, JSON text) row equal to its document
    docs = {doc["id"]: doc for doc in store.get_assets("demo", ["a1", "a2"])}
    assert sorted((row[0], row[1], orjson.loads(row[2])) for row in rows) == [
        ("a1", "active", docs["a1"]),
        ("a2", "deleted", docs["a2"]),
    ]
    assert store.get_assets_json("demo", []) == []


def test_export_assets_json_is_export_assets_as_text_in_the_same_order(store: MetadataStore) -> None:
    # GIVEN assets updated at different times, some deleted
    seed_catalog(store, "demo")
    docs = [
        asset_doc("demo", f"a{n:03d}", updated=f"2024-01-{1 + n % 9:02d}T00:00:00.000000Z",
                  status="deleted" if n % 4 == 0 else "active")
        for n in range(40)
    ]
    write_new(store, *docs)
    since = "2024-01-05T00:00:00.000000Z"
    for kwargs in ({}, {"since": since}, {"statuses": ("active", "deleted")}):
        # WHEN exported as text
        texts = list(store.export_assets_json("demo", **kwargs))  # type: ignore[arg-type]
        # THEN the same documents in the same order as the parsed export
        assert [orjson.loads(text) for text in texts] == list(store.export_assets("demo", **kwargs))  # type: ignore[arg-type]
    assert len(list(store.export_assets_json("demo", statuses=("active", "deleted")))) == 40


def test_ingest_records_in_bulk_agree_with_one_by_one(store: MetadataStore) -> None:
    # GIVEN records written in one call, one key twice (the later one wins)
    store.put_ingest_records(
        [_record("demo/a.tif", "failed", error="boom"), _record("demo/b.tif"), _record("demo/a.tif", catalog_id="demo")]
    )
    store.put_ingest_records([])
    # WHEN read in bulk, with a key that has no record and a repeated key
    found = store.get_ingest_records("bucket-a", ["demo/a.tif", "demo/b.tif", "demo/none.tif", "demo/a.tif"])
    # THEN the records of the keys that have one, each once, as read one by one
    assert sorted(found, key=lambda r: r.key) == [_record("demo/a.tif", catalog_id="demo"), _record("demo/b.tif")]
    assert sorted(found, key=lambda r: r.key) == [
        store.get_ingest_record("bucket-a", "demo/a.tif"),
        store.get_ingest_record("bucket-a", "demo/b.tif"),
    ]
    assert store.get_ingest_records("bucket-b", ["demo/a.tif"]) == []
    assert store.get_ingest_records("bucket-a", []) == []


def test_writes_in_a_batch_are_all_there_after_it(store: MetadataStore) -> None:
    # GIVEN several small writes grouped in a batch
    with store.batch():
        store.put_ingest_record(_record("demo/x.tif"))
        store.put_ingest_record(_record("demo/y.tif", "deleted"))
    # THEN each is stored once the batch ends
    assert store.get_ingest_record("bucket-a", "demo/x.tif").status == "indexed"
    assert store.get_ingest_record("bucket-a", "demo/y.tif").status == "deleted"


# ------------------------------------------------------------------------------------ BlobStore capabilities


def test_list_keys_gives_the_keys_list_gives(blobs: BlobStore) -> None:
    # GIVEN objects under two prefixes
    for key in ("demo/b.txt", "demo/a/1.txt", "demo/a/2.txt", "other/c.txt"):
        blobs.put(key, b"x")
    # THEN list_keys gives the keys of list, in key order, for any prefix
    for prefix in ("", "demo/", "demo/a", "nothing/"):
        assert blobs.list_keys(prefix) == [info.key for info in blobs.list(prefix)]
    assert blobs.list_keys("demo/") == ["demo/a/1.txt", "demo/a/2.txt", "demo/b.txt"]


def test_a_bucket_with_a_root_folder_holds_each_key_as_its_file(blobs: BlobStore) -> None:
    # GIVEN an object
    blobs.put("demo/s2/B04.txt", b"band four")
    # THEN a bucket is either a local folder (local reads, key k is the file root/k) or not local at all
    assert blobs.local_reads is (blobs.root is not None)
    if blobs.root is not None:
        assert (blobs.root / "demo/s2/B04.txt").read_bytes() == b"band four"


# ------------------------------------------------------------------------------------ TaskQueue capabilities


def test_a_local_worker_runs_the_handler_and_a_push_queue_has_none(backend: Backend) -> None:
    queue = backend.adapters.queue
    delivered: list[dict[str, Any]] = []
    arrived = threading.Event()

    def handler(message: dict[str, Any]) -> None:
        delivered.append(message)
        arrived.set()

    if not queue.local_worker:
        # GIVEN a queue that pushes its messages: THEN it refuses to run a worker in this process
        with pytest.raises(Unavailable, match="no in-process worker"):
            queue.start_worker(handler)
        queue.stop()  # and stopping is harmless
        return
    # GIVEN a queue with an in-process worker, started
    queue.start_worker(handler, 1)
    try:
        # WHEN a message is enqueued
        queue.enqueue("demo", {"job_id": "j1"})
        # THEN the worker hands it to the handler
        assert arrived.wait(30), "the worker never delivered the message"
    finally:
        queue.stop()
    assert delivered == [{"job_id": "j1"}]
