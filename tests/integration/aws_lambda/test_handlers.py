"""The four Lambda handlers on real payloads (SQS-wrapped S3 notifications, API Gateway v2, the
scheduler input), against the local backend."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dynastore.errors import Unavailable

from .conftest import API_KEY, LambdaContext, landing_event, load_event

BODY = b"hello world\n"  # the eTag of tests/events/aws/sqs_s3_object_created.json is its MD5
KEY = "demo/docs/read me.txt"  # the event's key is URL-encoded: demo/docs/read+me.txt


def put_object(handlers: ModuleType, key: str = KEY, data: bytes = BODY) -> None:
    handlers.services().adapters.blobs.put(key, data)


def api_get(handlers: ModuleType, context: LambdaContext, path: str, *, key: str | None = API_KEY) -> dict[str, Any]:
    event = load_event("apigw_v2_get_catalog.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    if key is None:
        del event["headers"]["x-api-key"]
    else:
        event["headers"]["x-api-key"] = key
    response: dict[str, Any] = handlers.api(event, context)
    return response


def test_an_s3_upload_delivered_through_sqs_is_indexed_and_served_by_the_api(
    handlers: ModuleType, context: LambdaContext
) -> None:
    # GIVEN an object in the landing bucket and the SQS message S3 sent for it
    put_object(handlers)
    event = landing_event("sqs_s3_object_created.json", handlers)
    # WHEN on_object_event gets the batch
    result = handlers.on_object_event(event, context)
    # THEN no record is reported failed, and the API (through API Gateway's event) lists the new asset
    assert result == {"batchItemFailures": []}
    response = api_get(handlers, context, "/assets/catalogs/demo/collections/docs/assets")
    assert response["statusCode"] == 200, response
    assets = json.loads(response["body"])["assets"]
    assert [asset["storage"]["key"] for asset in assets] == [KEY]


def test_a_redelivered_s3_record_is_a_no_op_but_a_later_sequencer_is_applied(
    handlers: ModuleType, context: LambdaContext
) -> None:
    # GIVEN an indexed upload
    put_object(handlers)
    event = landing_event("sqs_s3_object_created.json", handlers)
    handlers.on_object_event(event, context)
    record = handlers.SQSRecord(event["Records"][0])
    (first,) = handlers.storage_events(record)
    # WHEN the same S3 record arrives again (SQS is at-least-once)
    again = handlers.services().indexing.handle(first)
    # THEN it is recognised by its key and sequencer and changes nothing
    assert first.event_id == f"s3:{first.bucket}/{KEY}@0055AED6DCD90281E5"
    assert again.status == "duplicate"
    # AND an overwrite of the same key (a new sequencer) is a new event
    put_object(handlers, data=b"hello again\n")
    newer = landing_event(
        "sqs_s3_object_created.json", handlers, sequencer="0055AED6DCD90281F0", eTag="", versionId="v2", size=12
    )
    assert handlers.on_object_event(newer, context) == {"batchItemFailures": []}
    (second,) = handlers.storage_events(handlers.SQSRecord(newer["Records"][0]))
    assert second.event_id != first.event_id
    assert handlers.services().indexing.handle(second).status == "duplicate"  # it was applied once already


def test_only_the_failed_record_of_a_batch_is_retried(
    handlers: ModuleType, context: LambdaContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a batch of two uploads, and a metadata store that is unavailable for the second one
    put_object(handlers, "demo/docs/a.txt")
    put_object(handlers, "demo/docs/b.txt")
    event = landing_event("sqs_s3_object_created.json", handlers, key="demo/docs/a.txt")
    second = copy.deepcopy(landing_event("sqs_s3_object_created.json", handlers, key="demo/docs/b.txt")["Records"][0])
    second["messageId"] = "second-message"
    event["Records"].append(second)
    indexing = handlers.services().indexing
    real_handle = indexing.handle

    def handle(storage_event: Any, **kwargs: Any) -> Any:
        if storage_event.key.endswith("b.txt"):
            raise Unavailable("the metadata store did not answer")
        return real_handle(storage_event, **kwargs)

    monkeypatch.setattr(indexing, "handle", handle)
    # WHEN on_object_event gets the batch
    result = handlers.on_object_event(event, context)
    # THEN SQS is told to redeliver only the second message; the first one is indexed
    assert result == {"batchItemFailures": [{"itemIdentifier": "second-message"}]}
    listed = api_get(handlers, context, "/assets/catalogs/demo/collections/docs/assets")
    assert [asset["storage"]["key"] for asset in json.loads(listed["body"])["assets"]] == ["demo/docs/a.txt"]


def test_the_s3_test_event_and_an_unreadable_message_are_dropped_without_retries(
    handlers: ModuleType, context: LambdaContext
) -> None:
    # GIVEN the s3:TestEvent S3 sends when notifications are configured, and a message that is not JSON
    event = load_event("sqs_s3_test_event.json")
    broken = copy.deepcopy(event["Records"][0])
    broken["messageId"], broken["body"] = "broken", "not json"
    event["Records"].append(broken)
    # WHEN on_object_event gets them
    result = handlers.on_object_event(event, context)
    # THEN nothing fails (a retry could not help) and nothing is indexed
    assert result == {"batchItemFailures": []}
    listed = api_get(handlers, context, "/assets/catalogs")
    assert json.loads(listed["body"])["catalogs"] == []


def test_run_task_runs_the_job_of_an_sqs_message(handlers: ModuleType, context: LambdaContext) -> None:
    # GIVEN an indexed asset and an async checksum job queued for it
    from dynastore.services.assets import Scope

    put_object(handlers)
    handlers.on_object_event(landing_event("sqs_s3_object_created.json", handlers), context)
    services = handlers.services()
    (asset,) = services.assets.list_in_scope(Scope("demo", "docs")).items
    job = services.tasks.execute(Scope("demo", "docs"), asset["id"], "checksum", {}, mode=None, actor="t").job
    assert job["status"] == "accepted"
    # WHEN the task queue delivers its message to run_task
    event = load_event("sqs_task_message.json")
    event["Records"][0]["body"] = json.dumps({"job_id": job["id"]})
    result = handlers.run_task(event, context)
    # THEN the job ran to completion and no record is retried
    assert result == {"batchItemFailures": []}
    assert services.tasks.get_job(job["id"])["status"] == "successful"


def test_maintenance_runs_reconcile_and_cleanup_and_rejects_an_unknown_action(
    handlers: ModuleType, context: LambdaContext
) -> None:
    # GIVEN an object that no event announced (drift between bucket and database)
    put_object(handlers)
    # WHEN the scheduler's input invokes maintenance
    result = handlers.maintenance(load_event("scheduler_maintenance.json"), context)
    # THEN every scheduled job ran (reconcile indexed it; cleanup, version retention, registry health)
    assert set(result) == {"reconcile", "cleanup", "retention", "aios_registry"}
    listed = api_get(handlers, context, "/assets/catalogs/demo/collections/docs/assets")
    assert [asset["storage"]["key"] for asset in json.loads(listed["body"])["assets"]] == [KEY]
    # AND a schedule with an action it does not know fails loudly
    with pytest.raises(ValueError, match="unknown maintenance action 'vacuum'"):
        handlers.maintenance({"action": "vacuum"}, context)


def test_maintenance_runs_the_aios_registry_health_check(handlers: ModuleType, context: LambdaContext) -> None:
    # GIVEN an /aios registry entry for an asset database that is down
    registry = handlers.services().registry
    entry = registry.create({"asset_registry_name": "down", "asset_registry_public_url": "http://127.0.0.1:9/aios"})
    # WHEN the scheduler invokes maintenance with the aios_registry action
    result = handlers.maintenance({"action": "aios_registry"}, context)
    # THEN the entry was checked and its health recorded as unhealthy, never seen
    assert result == {"aios_registry": {"checked": 1, "healthy": [], "unhealthy": [entry["id"]]}}
    health = registry.get(entry["id"])["health"]
    assert health["status"] == "unhealthy" and health["last_seen"] is None


def test_api_needs_a_key_and_logs_its_cold_start_once(
    handlers: ModuleType, context: LambdaContext, caplog: pytest.LogCaptureFixture
) -> None:
    # WHEN the API is called twice without a key and once with one
    first = api_get(handlers, context, "/assets/catalogs", key=None)
    api_get(handlers, context, "/assets/catalogs", key=None)
    with_key = api_get(handlers, context, "/assets/catalogs")
    # THEN key-less writes/reads of a private deployment are refused as problem+json, a key is accepted
    assert first["statusCode"] == 401 and first["headers"]["content-type"] == "application/problem+json"
    assert with_key["statusCode"] == 200
    # AND the cold start (import time, bootstrap, app build) is logged once
    cold = [record for record in caplog.records if record.getMessage() == "cold start"]
    built = [record for record in caplog.records if record.getMessage() == "api app built"]
    assert len(cold) == 1 and cold[0].import_ms >= 0 and cold[0].bootstrap_ms > 0  # type: ignore[attr-defined]
    assert len(built) == 1 and built[0].create_app_ms > 0  # type: ignore[attr-defined]


def test_every_sample_payload_is_valid_json_of_its_source() -> None:
    events = Path(__file__).resolve().parents[2] / "events" / "aws"
    for path in sorted(events.glob("sqs_*.json")):
        for record in json.loads(path.read_text())["Records"]:
            assert record["eventSource"] == "aws:sqs"
            json.loads(record["body"])
    assert json.loads((events / "apigw_v2_get_catalog.json").read_text())["version"] == "2.0"
