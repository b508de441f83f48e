"""What the aws adapters do beyond the contract: S3-compatible access through ``endpoint_url``
(path-style, as MinIO or Ceph are reached), presigned URLs, the SQS dead-letter queue, long delays,
per-catalog buckets."""

from __future__ import annotations

import urllib.request
from typing import Any

import orjson
import pytest

from dynastore.errors import Invalid, Unavailable

pytestmark = pytest.mark.aws


def test_presigned_put_then_get_through_the_s3_compatible_endpoint(aws: Any) -> None:
    blobs = aws.adapters.blobs
    # GIVEN a presigned PUT URL of the store reached through its endpoint_url, path-style
    url = blobs.signed_url("demo/up.txt", method="PUT", content_type="text/plain")
    assert url.startswith(f"{aws.server.endpoint_url}/{blobs.bucket}/demo/up.txt?")
    # WHEN a client without credentials uploads through it
    request = urllib.request.Request(url, data=b"direct", method="PUT", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    # THEN the object is there, and a presigned GET reads it back
    assert blobs.get("demo/up.txt") == b"direct"
    with urllib.request.urlopen(blobs.signed_url("demo/up.txt"), timeout=10) as response:
        assert response.read() == b"direct"


def test_presigned_urls_live_at_most_fifteen_minutes(aws: Any) -> None:
    with pytest.raises(Invalid, match="900"):
        aws.adapters.blobs.signed_url("demo/a.txt", expires_seconds=901)


def test_a_catalog_queue_redrives_to_the_dead_letter_queue(aws: Any) -> None:
    queue = aws.adapters.queue
    binding = aws.adapters.provisioner.provision_catalog("demo")
    url = queue.ensure_queue(binding["queue"])
    attributes = queue.client.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
    policy = orjson.loads(attributes["RedrivePolicy"])
    dlq_arn = queue.client.get_queue_attributes(QueueUrl=queue.dlq_url(), AttributeNames=["QueueArn"])
    assert policy["deadLetterTargetArn"] == dlq_arn["Attributes"]["QueueArn"]
    assert int(policy["maxReceiveCount"]) == aws.settings.task_max_attempts


def test_a_delay_beyond_sqs_limit_is_carried_as_not_before(aws: Any) -> None:
    from dynastore.backends.aws.sqs_queue import remaining_delay

    queue = aws.adapters.queue
    queue.enqueue("demo", {"n": 1}, delay_seconds=3600)
    sent = queue.client.receive_message(
        QueueUrl=queue.queue_url("demo"), MaxNumberOfMessages=1, WaitTimeSeconds=0, MessageAttributeNames=["All"]
    ).get("Messages", [])
    assert sent == []  # SQS itself holds it for 900 s
    assert remaining_delay({"not_before": {"stringValue": "0"}}) == 0
    assert 3500 < remaining_delay({"not_before": {"StringValue": "4600"}}, now=1000) <= 3600


def test_a_catalog_bucket_is_made_and_removed() -> None:
    from infra.aws_testing import aws_adapters

    with aws_adapters(aws_bucket_per_catalog=True) as built:
        binding = built.adapters.provisioner.provision_catalog("demo")
        assert binding["bucket"] != built.adapters.blobs.bucket
        store = built.adapters.blobs.for_bucket(binding["bucket"])
        store.put("demo/a.txt", b"x")
        built.adapters.provisioner.deprovision_catalog("demo", binding)
        with pytest.raises(Unavailable, match="does not exist"):
            store.health()


def test_every_catalog_binds_the_one_task_queue_terraform_wires_to_run_task(aws: Any) -> None:
    from dynastore.backends.aws.sqs_queue import queue_name

    provisioner, queue = aws.adapters.provisioner, aws.adapters.queue
    # GIVEN two provisioned catalogs
    demo, other = provisioner.provision_catalog("demo"), provisioner.provision_catalog("other")
    # THEN both bind the deployment-wide queue <queue_prefix>-dynastore-tasks and none of their own
    assert demo["queue"] == other["queue"] == "dynastore-tasks"
    assert (
        queue_name(aws.settings.aws_queue_prefix, demo["queue"]) == f"{aws.settings.aws_queue_prefix}-dynastore-tasks"
    )
    assert queue.queue_url("demo") is None and queue.queue_url("other") is None
    # WHEN one is deprovisioned THEN the shared queue keeps the other's messages
    queue.enqueue(other["queue"], {"n": 2})
    provisioner.deprovision_catalog("demo", demo)
    assert aws.deliver(other["queue"]) == [{"n": 2}]


def test_a_queue_terraform_created_is_used_as_it_is(aws: Any) -> None:
    from dynastore.backends.aws.sqs_queue import queue_name

    queue = aws.adapters.queue
    # GIVEN the task queue already exists with Terraform's attributes (no redrive from the code)
    name = queue_name(aws.settings.aws_queue_prefix, "dynastore-tasks")
    url = queue.client.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "5400"})["QueueUrl"]
    # WHEN a job is enqueued on it
    queue.enqueue("dynastore-tasks", {"job_id": "j1"})
    # THEN the message is on that queue, whose attributes the code left alone
    attributes = queue.client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "5400" and "RedrivePolicy" not in attributes
    assert aws.deliver("dynastore-tasks") == [{"job_id": "j1"}]
