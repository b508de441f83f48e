"""Seed 003 publish envelopes consumed from Pub/Sub by ``on_stac_event`` (its own process, on the
emulators): the sample Eventarc CloudEvent (``tests/events/gcp/pubsub.messagePublished.esgf_replace.json``,
whose message is ``tests/events/esgf/replace.json``), and a message published to the Pub/Sub emulator
and pushed to the function."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.gcp.test_functions_chain import eventually, post_cloudevent, unique
from support.stac_docs import collection_doc

pytestmark = [pytest.mark.gcp, pytest.mark.slow]

EVENTS = Path(__file__).resolve().parents[2] / "events"
COLLECTION = "cmip6"
ITEM = "CMIP6.ScenarioMIP.UA.MCM-UA-1-0.ssp245.r1i1p1f2.Amon.psl.gn.v20190731"


def provision(api: httpx.Client, catalog: str) -> None:
    api.post("/assets/catalogs", json={"id": catalog}).raise_for_status()
    collection = collection_doc(COLLECTION, license="other")
    api.post(f"/stac/catalogs/{catalog}/collections", json=collection).raise_for_status()


def sample_event(catalog: str) -> dict[str, Any]:
    event = json.loads((EVENTS / "gcp" / "pubsub.messagePublished.esgf_replace.json").read_text())
    event["data"]["message"]["attributes"]["catalog_id"] = catalog
    return dict(event)


def deliver(deployment: Any, event: dict[str, Any]) -> None:
    """The CloudEvent as Eventarc POSTs it (binary mode; ``post_cloudevent`` fails on a non-2xx answer)."""
    post_cloudevent(
        deployment.url("on_stac_event"), event["type"], event["source"], event["id"], copy.deepcopy(event["data"])
    )


def item(api: httpx.Client, catalog: str) -> dict[str, Any] | None:
    response = api.get(f"/stac/catalogs/{catalog}/collections/{COLLECTION}/items/{ITEM}")
    return response.json() if response.status_code == 200 else None


def asset_history(api: httpx.Client, catalog: str) -> list[str]:
    response = api.get(
        f"/assets/catalogs/{catalog}/collections/{COLLECTION}/items/{ITEM}/assets/{ITEM}.data0000/history"
    )
    response.raise_for_status()
    return [entry["action"] for entry in response.json()["events"]]


def test_the_sample_pubsub_envelope_is_applied_once_however_often_it_is_delivered(
    deployment: Any, api: httpx.Client
) -> None:
    # GIVEN a catalog with the CMIP6 collection, and the sample CloudEvent naming that catalog
    catalog = unique("esgf")
    provision(api, catalog)
    event = sample_event(catalog)
    assert base64.b64decode(event["data"]["message"]["data"]) == json.dumps(
        json.loads((EVENTS / "esgf" / "replace.json").read_text()), separators=(",", ":")
    ).encode()
    # WHEN Eventarc delivers it to on_stac_event, and delivers it again (at-least-once)
    deliver(deployment, event)
    first = item(api, catalog)
    deliver(deployment, event)
    # THEN the item is there with the record's properties, and the redelivery wrote nothing
    assert first is not None and first["properties"]["cmip6:variable_id"] == "psl"
    assert item(api, catalog) == first
    assert asset_history(api, catalog) == ["create"]


def test_a_message_that_holds_no_envelope_is_acked_not_redelivered(deployment: Any, api: httpx.Client) -> None:
    # GIVEN a Pub/Sub message whose data is not an envelope, and one whose data is not base64
    catalog = unique("esgf")
    provision(api, catalog)
    not_envelope = sample_event(catalog)
    not_envelope["data"]["message"]["data"] = base64.b64encode(b'{"hello": "world"}').decode()
    not_base64 = sample_event(catalog)
    not_base64["data"]["message"]["data"] = "%%% not base64 %%%"
    # WHEN both are delivered THEN on_stac_event answers 2xx (acked: a retry cannot help) and writes nothing
    deliver(deployment, not_envelope)
    deliver(deployment, not_base64)
    assert item(api, catalog) is None


def test_an_envelope_published_to_the_topic_reaches_the_catalog_of_its_attribute(
    deployment: Any, api: httpx.Client
) -> None:
    # GIVEN an envelope topic on the Pub/Sub emulator pushing to on_stac_event (what the Eventarc trigger does)
    catalog = unique("esgf")
    provision(api, catalog)
    stack = deployment.stack
    topic = unique("esgf-events")
    stack.create_topic(topic)
    subscription = stack.create_push_subscription(
        topic, unique("on-stac-event"), f"{deployment.url('on_stac_event')}/projects/{stack.project}/topics/{topic}"
    )
    try:
        # WHEN a publisher publishes the seed's replacement envelope with the attribute catalog_id
        stack.publish(topic, (EVENTS / "esgf" / "replace.json").read_bytes(), {"catalog_id": catalog})
        # THEN the item appears in that catalog
        found = eventually(lambda: item(api, catalog))
        assert found["id"] == ITEM
    finally:
        stack.pubsub_call("DELETE", subscription)
