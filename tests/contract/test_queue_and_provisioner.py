"""TaskQueue and Provisioner contracts."""

from __future__ import annotations

import pytest

from dynastore.bootstrap import Adapters
from dynastore.domain.catalog import StorageBinding
from dynastore.errors import Invalid

from .conftest import Backend


def test_enqueued_messages_are_delivered_once(backend: Backend) -> None:
    queue = backend.adapters.queue
    first = queue.enqueue("demo", {"job_id": "j1"})
    second = queue.enqueue("demo", {"job_id": "j2"})
    assert first and second and first != second
    delivered = backend.deliver("demo")
    assert sorted(m["job_id"] for m in delivered) == ["j1", "j2"]
    assert backend.deliver("demo") == []


def test_the_same_dedup_key_enqueues_once(backend: Backend) -> None:
    queue = backend.adapters.queue
    name = queue.enqueue("demo", {"job_id": "j1"}, dedup_key="job-j1")
    assert queue.enqueue("demo", {"job_id": "j1"}, dedup_key="job-j1") == name
    other = queue.enqueue("demo", {"job_id": "j2"}, dedup_key="job-j2")
    assert other != name
    assert sorted(m["job_id"] for m in backend.deliver("demo")) == ["j1", "j2"]


def test_delayed_messages_are_not_due_yet(backend: Backend) -> None:
    queue = backend.adapters.queue
    queue.enqueue("demo", {"job_id": "later"}, delay_seconds=3600)
    queue.enqueue("demo", {"job_id": "now"})
    assert [m["job_id"] for m in backend.deliver("demo")] == ["now"]


def test_queues_are_separate_and_deletable(backend: Backend) -> None:
    queue = backend.adapters.queue
    queue.enqueue("demo", {"n": 1})
    queue.enqueue("other", {"n": 2})
    queue.delete_queue("demo")
    queue.delete_queue("never-existed")
    assert backend.deliver("demo") == []
    assert backend.deliver("other") == [{"n": 2}]


def test_queue_health(adapters: Adapters) -> None:
    adapters.queue.health()


def test_provisioning_is_idempotent_and_binds_storage(adapters: Adapters) -> None:
    binding = adapters.provisioner.provision_catalog("demo")
    again = adapters.provisioner.provision_catalog("demo")
    assert binding == again
    parsed = StorageBinding.model_validate(binding)
    assert parsed.bucket == adapters.blobs.bucket
    assert parsed.prefix.startswith("demo") and parsed.prefix.endswith("/")
    assert parsed.queue


def test_deprovisioning_removes_the_catalogs_files_and_messages(backend: Backend) -> None:
    adapters = backend.adapters
    demo = adapters.provisioner.provision_catalog("demo")
    other = adapters.provisioner.provision_catalog("other")
    adapters.blobs.put(f"{demo['prefix']}s2/scene/B04.tif", b"x")
    adapters.blobs.put(f"{demo['prefix']}readme.pdf", b"x")
    adapters.blobs.put(f"{other['prefix']}keep.pdf", b"x")
    adapters.queue.enqueue(demo["queue"], {"n": 1})
    adapters.queue.enqueue(other["queue"], {"n": 2})
    adapters.provisioner.deprovision_catalog("demo", demo)
    adapters.provisioner.deprovision_catalog("demo", demo)  # idempotent
    assert list(adapters.blobs.list(demo["prefix"])) == []
    assert [b.key for b in adapters.blobs.list("")] == [f"{other['prefix']}keep.pdf"]
    if demo["queue"] == other["queue"]:
        # one deployment-wide queue (aws: the one Terraform wires to run_task): it stays, with the
        # other catalog's messages (the removed catalog's jobs find no record and are dropped)
        assert {"n": 2} in backend.deliver(other["queue"])
    else:
        assert backend.deliver(demo["queue"]) == []
        assert backend.deliver(other["queue"]) == [{"n": 2}]


def test_provisioning_an_unsafe_catalog_id_is_invalid(adapters: Adapters) -> None:
    with pytest.raises(Invalid):
        adapters.provisioner.provision_catalog("../etc")
