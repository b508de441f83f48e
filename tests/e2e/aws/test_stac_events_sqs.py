"""Seed 003 publish envelopes consumed from SQS by ``on_stac_event``, on moto's server.

The envelope queue is made as terraform/modules/aws makes it (``<prefix>-esgf-events``); messages
reach the handler as the Lambda event source hands them over (``Deployment.batch``), or as the
sample SQS event ``tests/events/aws/sqs_esgf_envelope.json`` (body = ``tests/events/esgf/replace.json``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from dynastore.errors import Conflict
from e2e.aws.conftest import Deployment
from integration.aws_lambda.conftest import load_event
from support.stac_docs import collection_doc

pytestmark = pytest.mark.aws

ENVELOPE = Path(__file__).resolve().parents[2] / "events" / "esgf" / "replace.json"
COLLECTION = "cmip6"
ITEM = "CMIP6.ScenarioMIP.UA.MCM-UA-1-0.ssp245.r1i1p1f2.Amon.psl.gn.v20190731"


def provision(deployment: Deployment, *catalogs: str) -> Any:
    services = deployment.handlers.services()
    for catalog in catalogs:
        services.catalogs.create({"id": catalog}, actor="setup")
        services.stac.create_collection(catalog, collection_doc(COLLECTION, license="other"), actor="setup")
    return services


def item_trail(services: Any, catalog: str) -> list[dict[str, Any]]:
    return list(services.adapters.store.list_audit(catalog, record_type="item", record_id=ITEM, limit=100).items)


def record(event: dict[str, Any], message_id: str, body: str | None = None) -> dict[str, Any]:
    """A copy of the sample's SQS record under another message id (and body)."""
    copied = copy.deepcopy(event["Records"][0])
    copied["messageId"] = message_id
    if body is not None:
        copied["body"] = body
    return dict(copied)


def test_an_envelope_sent_to_the_queue_twice_is_applied_once(deployment: Deployment) -> None:
    # GIVEN the catalog "cmip" with the collection, and the envelope queue terraform creates
    services = provision(deployment, "cmip")
    sqs = deployment.sqs
    url = sqs.create_queue(QueueName=f"{deployment.backend.settings.aws_queue_prefix}-esgf-events")["QueueUrl"]
    # WHEN a publisher sends the seed's replacement envelope for that catalog, and SQS delivers it twice
    for _ in range(2):
        sqs.send_message(
            QueueUrl=url,
            MessageBody=ENVELOPE.read_text(),
            MessageAttributes={"catalog_id": {"DataType": "String", "StringValue": "cmip"}},
        )
    records = deployment.batch(url)
    result = deployment.handlers.on_stac_event({"Records": records}, deployment.context)
    # THEN nothing is retried, the item exists with its inline assets, and its trail holds one create
    assert len(records) == 2 and result == {"batchItemFailures": []}
    item = services.stac.get_item_doc("cmip", COLLECTION, ITEM)
    assert item["properties"]["cmip6:variable_id"] == "psl"
    assert services.adapters.store.get_asset("cmip", f"{ITEM}.data0000")["alternate:name"] == "LLNL"
    trail = item_trail(services, "cmip")
    assert [(e["action"], e["actor"]) for e in trail] == [("create", "queue:esgf")]
    assert trail[0]["details"]["publisher"] == "esgf_publisher/1.1.1"


def test_a_bad_envelope_is_dropped_and_a_lost_race_is_retried_alone(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the catalog the sample event names, and a batch of: a message that is not JSON, an envelope
    # for a collection the catalog does not have, and the sample envelope, whose write loses a race
    services = provision(deployment, "esgf")
    event = load_event("sqs_esgf_envelope.json")
    unknown = json.loads(event["Records"][0]["body"])
    unknown["data"]["payload"]["collection_id"] = unknown["data"]["payload"]["item"]["collection"] = "cmip5"
    batch = {
        "Records": [
            record(event, "not-json", "{not json"),
            record(event, "unknown-collection", json.dumps(unknown)),
            record(event, "lost-race"),
        ]
    }
    real_replace = services.stac.replace_item
    calls: list[str] = []

    def replace_item(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[2])
        if len(calls) == 1:
            raise Conflict("the item changed while the envelope was applied")
        return real_replace(*args, **kwargs)

    monkeypatch.setattr(services.stac, "replace_item", replace_item)
    # WHEN on_stac_event gets the batch
    result = deployment.handlers.on_stac_event(batch, deployment.context)
    # THEN only the lost race goes back to the queue; the others are dropped (a retry cannot help)
    assert result == {"batchItemFailures": [{"itemIdentifier": "lost-race"}]}
    assert item_trail(services, "esgf") == []
    # AND its redelivery applies it, and one more redelivery changes nothing
    for _ in range(2):
        assert deployment.handlers.on_stac_event({"Records": [record(event, "lost-race")]}, deployment.context) == {
            "batchItemFailures": []
        }
    assert [e["action"] for e in item_trail(services, "esgf")] == ["create"]
    assert services.stac.get_item_doc("esgf", COLLECTION, ITEM)["id"] == ITEM


def test_an_envelope_without_a_catalog_attribute_goes_to_the_configured_catalog(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN DYNASTORE_ESGF_CATALOG_ID=cmip-default, and the sample message without its catalog_id attribute
    monkeypatch.setenv("DYNASTORE_ESGF_CATALOG_ID", "cmip-default")
    services = provision(deployment, "cmip-default", "esgf")
    event = load_event("sqs_esgf_envelope.json")
    event["Records"][0]["messageAttributes"] = {}
    # WHEN on_stac_event gets it
    assert deployment.handlers.on_stac_event(event, deployment.context) == {"batchItemFailures": []}
    # THEN the item is in the configured catalog, not in the one the sample attribute would name
    assert services.stac.get_item_doc("cmip-default", COLLECTION, ITEM)["id"] == ITEM
    assert item_trail(services, "esgf") == []
