"""gcp adapters beyond the contract: V4 signed URLs, the Cloud Tasks HTTP target, per-catalog buckets."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from dynastore.backends.gcp.gcs import GcsBlobStore
from dynastore.backends.gcp.grams import gram_map, query_grams, text_grams
from dynastore.backends.gcp.provisioner import GcpProvisioner, catalog_bucket_name
from dynastore.backends.gcp.tasks_queue import CloudTasksQueue, queue_id
from dynastore.errors import Conflict, Invalid, PayloadTooLarge

pytestmark = pytest.mark.gcp


def test_v4_signed_urls_read_and_write_through_the_emulator(gcp: Any) -> None:
    blobs: GcsBlobStore = gcp.adapters.blobs
    blobs.put("demo/a.txt", b"hello")
    # GIVEN a V4 signed GET URL THEN it serves the bytes, and carries a V4 signature
    url = blobs.signed_url("demo/a.txt", expires_seconds=60)
    assert url and "X-Goog-Algorithm=GOOG4-RSA-SHA256" in url and "X-Goog-Signature=" in url
    assert httpx.get(url).content == b"hello"
    # AND a signed PUT URL takes a direct upload
    put = blobs.signed_url("demo/up.bin", method="PUT", content_type="application/octet-stream")
    assert put is not None
    assert httpx.put(put, content=b"direct", headers={"content-type": "application/octet-stream"}).status_code == 200
    assert blobs.get("demo/up.bin") == b"direct"
    with pytest.raises(Invalid):
        blobs.signed_url("demo/a.txt", expires_seconds=8 * 24 * 3600)


def test_create_only_writes_and_generations(gcp: Any) -> None:
    blobs: GcsBlobStore = gcp.adapters.blobs
    first = blobs.put("demo/v@1.txt", b"one", if_generation_match=0)
    with pytest.raises(Conflict):
        blobs.put("demo/v@1.txt", b"two", if_generation_match=0)
    second = blobs.put("demo/v@1.txt", b"two", if_generation_match=int(first.generation))
    assert int(second.generation) > int(first.generation)
    assert second.md5 == "b8a9f715dbb64fd5c56e7783c6820a61"  # md5("two"), hex


def test_tasks_are_http_posts_with_an_oidc_token_to_run_task(gcp: Any) -> None:
    queue: CloudTasksQueue = gcp.adapters.queue
    name = queue.enqueue("jobs", {"job_id": "j1"})
    assert name.startswith(f"projects/{gcp.stack.project}/locations/{gcp.stack.location}/queues/")
    assert gcp.deliver("jobs") == [{"job_id": "j1"}]
    from infra.testing import TASKS_SERVICE_ACCOUNT, task_sink

    delivery = task_sink().received(gcp.tag)[-1]
    # the emulator marks that an OIDC token was asked for (Cloud Tasks would sign one for the account)
    assert delivery.headers["Authorization"].startswith("Bearer ")
    assert delivery.headers["X-Dynastore-Queue"] == "jobs"
    # AND the task asks Cloud Tasks for an OIDC token of the invoker account, audience run_task
    queue.enqueue("jobs", {"job_id": "later"}, delay_seconds=3600)
    (pending,) = queue.client.list_tasks(request={"parent": queue.queue_path("jobs"), "response_view": "FULL"})
    assert pending.http_request.oidc_token.service_account_email == TASKS_SERVICE_ACCOUNT
    assert pending.http_request.oidc_token.audience == gcp.settings.gcp_run_task_url
    assert pending.http_request.url == gcp.settings.gcp_run_task_url
    # AND payloads stay far below the 100 KB task limit
    with pytest.raises(PayloadTooLarge):
        queue.enqueue("jobs", {"blob": "x" * 100_000})


def test_queue_ids_are_valid_cloud_tasks_ids() -> None:
    assert queue_id("dyn", "demo") == "dyn-demo"
    odd = queue_id("dyn", "my.catalog~v2_x")
    assert odd.startswith("dyn-my-catalog-v2-x-") and all(c.isalnum() or c == "-" for c in odd)
    assert len(queue_id("dyn", "x" * 300)) <= 100


def test_a_catalog_can_get_its_own_bucket(gcp: Any) -> None:
    adapters = gcp.adapters
    provisioner = GcpProvisioner(adapters.blobs, adapters.queue, bucket_per_catalog=True, location="EUROPE-WEST1")
    # WHEN a catalog is provisioned with a dedicated bucket
    binding = provisioner.provision_catalog("Demo.Cat")
    assert binding == provisioner.provision_catalog("Demo.Cat")  # idempotent
    bucket = catalog_bucket_name(adapters.blobs.bucket, "Demo.Cat")
    assert binding["bucket"] == bucket != adapters.blobs.bucket
    dedicated = adapters.blobs.for_bucket(bucket)
    dedicated.health()
    dedicated.put("Demo.Cat/s2/a.tif", b"x")
    # THEN deprovisioning removes its objects and the bucket
    provisioner.deprovision_catalog("Demo.Cat", binding)
    provisioner.deprovision_catalog("Demo.Cat", binding)
    assert not dedicated.client.bucket(bucket).exists()


def test_bucket_names_are_valid() -> None:
    name = catalog_bucket_name("landing", "My_Catalog.v2")
    assert 3 <= len(name) <= 63 and name == name.lower() and "_" not in name and "." not in name
    assert catalog_bucket_name("landing", "demo") == "landing-demo"


def test_grams_of_a_text_and_of_a_query() -> None:
    assert text_grams("ab\ncd") == {"a", "b", "ab", "c", "d", "cd"}  # never across lines
    assert query_grams("AB") == ["ab"]
    assert len(query_grams("orthomosaic")) == 3
    assert query_grams("a\nb") == []
    assert gram_map(["x" * 10]) == {"g78": True, "g7878": True, "g787878": True}
    assert gram_map(["".join(chr(0x4E00 + i) for i in range(6000))]) is None  # too long: not indexed


def test_the_emulated_queue_retries_a_failing_target_a_few_times(gcp: Any) -> None:
    # The emulator is started with a retry cap: a target that fails does not get hammered forever.
    queue: CloudTasksQueue = gcp.adapters.queue
    broken = CloudTasksQueue(
        queue.client, project=queue.project, location=queue.location, target_url="http://127.0.0.1:9/nothing",
        queue_prefix=queue.queue_prefix,
    )  # fmt: skip
    broken.enqueue("broken", {"n": 1})
    path = broken.queue_path("broken")
    queue.client.resume_queue(name=path)
    # THEN the task is given up after its last retry (a dispatch in flight is briefly unlisted:
    # the queue must stay empty over more than the emulator's retry back-off)
    deadline = time.monotonic() + 60
    empty_since: float | None = None
    while time.monotonic() < deadline:
        if list(queue.client.list_tasks(request={"parent": path})):
            empty_since = None
        elif empty_since is None:
            empty_since = time.monotonic()
        elif time.monotonic() - empty_since > 2.0:
            break
        time.sleep(0.1)
    assert empty_since is not None and time.monotonic() - empty_since > 2.0, "the failing task was retried forever"
