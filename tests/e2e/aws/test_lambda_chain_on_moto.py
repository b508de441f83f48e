"""S3 → SQS → on_object_event → DynamoDB → api, and the task queue → run_task, on moto's server.

The S3 notifications are moto's own (its server sends them to the SQS queue the bucket is
configured with); moto's payload has no ``sequencer``, so idempotency there rests on the event's
deterministic id (kind, bucket, key, etag, event time)."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import pytest

from e2e.aws.conftest import Deployment

pytestmark = pytest.mark.aws


def listed_keys(deployment: Deployment) -> list[str]:
    response = deployment.api_get("/assets/catalogs/demo/collections/docs/assets", "limit=1000")
    assert response["statusCode"] == 200, response
    return [asset["storage"]["key"] for asset in json.loads(response["body"])["assets"]]


def s3_event_names(records: list[dict[str, Any]]) -> list[str]:
    """The S3 event names in SQS records (S3's ``s3:TestEvent`` on configuring has none)."""
    return [r["eventName"] for record in records for r in json.loads(record["body"]).get("Records", [])]


def index(deployment: Deployment, records: list[dict[str, Any]]) -> None:
    """Hand ``records`` to on_object_event in batches of 10, as the event source mapping does."""
    for start in range(0, len(records), 10):
        result = deployment.handlers.on_object_event({"Records": records[start : start + 10]}, deployment.context)
        assert result == {"batchItemFailures": []}


def test_an_object_put_with_boto3_is_found_through_the_api(deployment: Deployment) -> None:
    # GIVEN an object put into the landing bucket with boto3 (moto notifies the object-events queue)
    deployment.s3.put_object(Bucket=deployment.bucket, Key="demo/docs/report.pdf", Body=b"%PDF-1.7 report")
    batch = deployment.batch(deployment.events_queue_url)
    assert s3_event_names(batch) == ["ObjectCreated:Put"]
    # WHEN on_object_event gets the SQS batch
    index(deployment, batch)
    # THEN the api (an API Gateway v2 event through Mangum) finds the asset
    assert listed_keys(deployment) == ["demo/docs/report.pdf"]


def test_duplicated_and_reordered_s3_events_lose_and_duplicate_nothing(deployment: Deployment) -> None:
    # GIVEN 40 uploads, 4 of which are deleted again, with every S3 notification moto sent
    keys = [f"demo/docs/file-{n:02d}.txt" for n in range(40)]
    for key in keys:
        deployment.s3.put_object(Bucket=deployment.bucket, Key=key, Body=key.encode())
    removed = keys[::10]
    for key in removed:
        deployment.s3.delete_object(Bucket=deployment.bucket, Key=key)
    records = deployment.batch(deployment.events_queue_url)
    assert len(s3_event_names(records)) == 44
    # WHEN 10 % of them arrive twice and all of them in a shuffled order
    rng = random.Random(12)
    delivered = records + rng.sample(records, len(records) // 10)
    rng.shuffle(delivered)
    index(deployment, delivered)
    # THEN every remaining object is one asset: none lost, none duplicated, the deleted ones absent
    listed = listed_keys(deployment)
    assert sorted(listed) == sorted(set(keys) - set(removed))
    assert len(listed) == len(set(listed))


def test_run_task_puts_back_a_message_that_came_before_its_not_before(deployment: Deployment) -> None:
    from dynastore.services.assets import Scope

    handlers = deployment.handlers
    deployment.s3.put_object(Bucket=deployment.bucket, Key="demo/docs/a.txt", Body=b"a")
    index(deployment, deployment.batch(deployment.events_queue_url))
    services = handlers.services()
    (asset,) = services.assets.list_in_scope(Scope("demo", "docs")).items
    # GIVEN a queued job whose message carries a not_before 20 minutes ahead (a delay beyond SQS's 900 s)
    job = services.tasks.execute(Scope("demo", "docs"), asset["id"], "checksum", {}, mode=None, actor="t").job
    tasks_url = services.adapters.queue.queue_url("dynastore-tasks")
    (record,) = deployment.batch(tasks_url)
    record["messageAttributes"]["not_before"] = {"stringValue": f"{time.time() + 1200:.3f}", "dataType": "Number"}
    # WHEN SQS hands it to run_task early
    assert handlers.run_task({"Records": [record]}, deployment.context) == {"batchItemFailures": []}
    # THEN the job did not run, and the message is back on the task queue, delayed, with its not_before
    assert services.tasks.get_job(job["id"])["status"] == "accepted"
    counts = deployment.sqs.get_queue_attributes(QueueUrl=tasks_url, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessagesDelayed"] == "1"
    assert deployment.batch(tasks_url) == []  # not visible before its delay
    # AND once it is due, run_task runs the job
    record["messageAttributes"]["not_before"]["stringValue"] = f"{time.time() - 1:.3f}"
    assert handlers.run_task({"Records": [record]}, deployment.context) == {"batchItemFailures": []}
    assert services.tasks.get_job(job["id"])["status"] == "successful"
