"""End to end on the emulated Google Cloud: GCS → Pub/Sub → on_object_event → Firestore → api,
Cloud Tasks → run_task, Cloud Scheduler → scheduled. Every function is its own process."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.gcp, pytest.mark.slow]


def eventually(check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.1) -> Any:
    """The first truthy value of ``check()``; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"not reached within {timeout}s (last: {last!r})")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def search(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/assets/search", params=params)
    if response.status_code == 404:  # the catalog does not exist (yet)
        return []
    response.raise_for_status()
    return list(response.json()["assets"])


def post_cloudevent(url: str, event_type: str, source: str, event_id: str, data: dict[str, Any], **extra: str) -> None:
    """An HTTP POST in CloudEvents binary mode, as Eventarc delivers."""
    headers = {
        "ce-specversion": "1.0",
        "ce-type": event_type,
        "ce-source": source,
        "ce-id": event_id,
        "ce-time": "2024-05-20T16:00:00.000Z",
        "content-type": "application/json",
        **{f"ce-{k}": v for k, v in extra.items()},
    }
    response = httpx.post(url, content=json.dumps(data), headers=headers, timeout=60)
    assert response.status_code < 300, response.text


def storage_cloudevent(deployment: Any, kind: str, resource: dict[str, Any], event_id: str) -> None:
    post_cloudevent(
        deployment.url("on_object_event"),
        f"google.cloud.storage.object.v1.{kind}",
        f"//storage.googleapis.com/projects/_/buckets/{resource['bucket']}",
        event_id,
        resource,
        subject=f"objects/{resource['name']}",
    )


def notification_cloudevent(
    deployment: Any, event_type: str, resource: dict[str, Any], message_id: str, **attrs: str
) -> None:
    """A Cloud Storage Pub/Sub notification as an Eventarc Pub/Sub trigger delivers it."""
    attributes = {
        "bucketId": resource["bucket"],
        "objectId": resource["name"],
        "objectGeneration": str(resource["generation"]),
        "eventType": event_type,
        "payloadFormat": "JSON_API_V1",
        **attrs,
    }
    message = {
        "attributes": attributes,
        "data": base64.b64encode(json.dumps(resource).encode()).decode(),
        "messageId": message_id,
        "publishTime": "2024-05-20T16:00:00.000Z",
    }
    post_cloudevent(
        deployment.url("on_object_event"),
        "google.cloud.pubsub.topic.v1.messagePublished",
        "//pubsub.googleapis.com/projects/dynastore-local/topics/gcs-notifications",
        message_id,
        {"message": message, "subscription": "projects/dynastore-local/subscriptions/eventarc"},
    )


def upload(bucket: Any, key: str, data: bytes, **metadata: str) -> dict[str, Any]:
    blob = bucket.blob(key)
    if metadata:
        blob.metadata = metadata
    blob.upload_from_string(data, content_type="image/tiff")
    return dict(blob._properties)


def test_an_upload_becomes_searchable_through_pubsub_push(api: httpx.Client, bucket: Any, pubsub_push: str) -> None:
    # GIVEN the bucket notifies Pub/Sub, which pushes to on_object_event
    catalog = unique("push")
    # WHEN a file lands in the bucket
    upload(bucket, f"{catalog}/s2/scene-1/B04.tif", b"II*\x00" + b"1" * 2048, title="Red band")
    # THEN it is searchable through the api, with what the event said
    found = eventually(lambda: search(api, q="b04", catalog_id=catalog))
    asset = found[0]
    assert (asset["catalog_id"], asset["collection_id"], asset["item_id"]) == (catalog, "s2", "scene-1")
    assert asset["file:size"] == 2052 and asset["title"] == "Red band"
    assert asset["href"] == f"gs://{bucket.name}/{catalog}/s2/scene-1/B04.tif"


def test_an_eventarc_finalized_cloudevent_indexes_the_object(deployment: Any, api: httpx.Client, bucket: Any) -> None:
    # GIVEN an object whose notification nobody receives (no subscription)
    catalog = unique("arc")
    resource = upload(bucket, f"{catalog}/readme.tif", b"II*\x00readme")
    assert search(api, q="readme", catalog_id=catalog) == []
    # WHEN Eventarc delivers google.cloud.storage.object.v1.finalized
    storage_cloudevent(deployment, "finalized", resource, unique("evt"))
    # THEN the catalog-level asset is searchable
    found = eventually(lambda: search(api, q="readme", catalog_id=catalog))
    assert found[0]["collection_id"] is None and found[0]["file:size"] == 10


def test_a_queued_task_reaches_run_task_through_cloud_tasks(deployment: Any, api: httpx.Client, bucket: Any) -> None:
    # GIVEN an indexed asset
    catalog = unique("task")
    resource = upload(bucket, f"{catalog}/s2/doc.tif", b"II*\x00" + b"x" * 100)
    storage_cloudevent(deployment, "finalized", resource, unique("evt"))
    asset = eventually(lambda: search(api, q="doc.tif", catalog_id=catalog))[0]
    # WHEN the checksum task is executed asynchronously
    response = api.post(
        f"/assets/catalogs/{catalog}/collections/s2/assets/{asset['id']}/tasks/checksum/execute",
        params={"mode": "async-execute"},
        json={"inputs": {}},
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["jobID"]
    # THEN Cloud Tasks delivers the job to run_task, which runs it
    job = eventually(
        lambda: (j := api.get(f"/assets/jobs/{job_id}").json())["status"] in ("successful", "failed") and j
    )
    assert job["status"] == "successful", job
    results = api.get(f"/assets/jobs/{job_id}/results").json()
    assert results, results


def test_scheduled_cleanup_purges_a_retired_catalog(deployment: Any, api: httpx.Client, bucket: Any) -> None:
    # GIVEN a retired catalog with a file (retention is 0 days in this deployment)
    catalog = unique("old")
    assert api.post("/assets/catalogs", json={"id": catalog, "title": "old"}).status_code == 201
    bucket.blob(f"{catalog}/leftover.bin").upload_from_string(b"x")
    assert api.delete(f"/assets/catalogs/{catalog}").status_code == 200
    # WHEN Cloud Scheduler calls scheduled
    response = httpx.post(deployment.url("scheduled"), json={"action": "cleanup"}, timeout=120)
    # THEN the catalog, its records and its files are gone
    assert response.status_code == 200, response.text
    assert catalog in json.dumps(response.json())
    assert api.get(f"/assets/catalogs/{catalog}").status_code == 404
    assert list(bucket.client.list_blobs(bucket.name, prefix=f"{catalog}/")) == []
    # AND an unknown action is a 400
    assert httpx.post(deployment.url("scheduled"), json={"action": "nope"}, timeout=30).status_code == 400


def test_scheduled_aios_registry_checks_every_registered_database(deployment: Any, api: httpx.Client) -> None:
    # GIVEN two asset databases in the /aios registry: this deployment's api, and an instance that is down
    up = api.post(
        "/aios/asset_registry",
        json={"asset_registry_name": unique("up"), "asset_registry_public_url": deployment.url("api") + "/aios"},
    )
    down = api.post(
        "/aios/asset_registry",
        json={"asset_registry_name": unique("down"), "asset_registry_public_url": "http://127.0.0.1:9/aios"},
    )
    assert up.status_code == 201 and down.status_code == 201, (up.text, down.text)
    up_id, down_id = up.json()["data"]["id"], down.json()["data"]["id"]
    # WHEN Cloud Scheduler calls scheduled with the aios_registry action
    response = httpx.post(deployment.url("scheduled"), json={"action": "aios_registry"}, timeout=120)
    # THEN each entry was checked, and the registry records its health, latency and last_seen
    assert response.status_code == 200, response.text
    report = response.json()["aios_registry"]
    assert up_id in report["healthy"] and down_id in report["unhealthy"]
    healthy = api.get(f"/aios/asset_registry/{up_id}").json()["data"]["health"]
    assert healthy["status"] == "healthy" and healthy["last_seen"] == healthy["checked_at"]
    unhealthy = api.get(f"/aios/asset_registry/{down_id}").json()["data"]["health"]
    assert unhealthy["status"] == "unhealthy" and unhealthy["last_seen"] is None


STABLE = (
    "id",
    "collection_id",
    "item_id",
    "type",
    "roles",
    "title",
    "file:size",
    "file:checksum",
    "status",
    "metadata",
)


def test_duplicate_and_reordered_events_leave_the_same_state(deployment: Any, api: httpx.Client, bucket: Any) -> None:
    # GIVEN the same history in two catalogs: upload, overwrite (GCS also reports the replaced
    # generation as deleted), then a metadata change
    histories = {}
    for catalog in (unique("ordered"), unique("shuffled")):
        key = f"{catalog}/s2/scene-1/B04.tif"
        first = upload(bucket, key, b"II*\x00first")
        second = upload(bucket, key, b"II*\x00second-version", roles="data")
        blob = bucket.blob(key)
        blob.reload()
        blob.metadata = {"roles": "data", "title": "Red"}
        blob.patch()
        third = dict(blob._properties)
        histories[catalog] = (first, second, third)

    def deliver(catalog: str, order: list[int]) -> None:
        first, second, third = histories[catalog]
        events = [
            lambda: notification_cloudevent(deployment, "OBJECT_FINALIZE", first, f"{catalog}-1"),
            lambda: notification_cloudevent(
                deployment, "OBJECT_DELETE", first, f"{catalog}-2", overwrittenByGeneration=str(second["generation"])
            ),
            lambda: notification_cloudevent(deployment, "OBJECT_FINALIZE", second, f"{catalog}-3"),
            lambda: notification_cloudevent(deployment, "OBJECT_METADATA_UPDATE", third, f"{catalog}-4"),
        ]
        for index in order:
            events[index]()

    ordered, shuffled = list(histories)
    # WHEN one catalog gets them once and in order, the other shuffled and duplicated
    deliver(ordered, [0, 1, 2, 3])
    deliver(shuffled, [3, 2, 2, 1, 0, 3, 1, 0])

    def asset(catalog: str) -> dict[str, Any] | None:
        found = search(api, q="b04", catalog_id=catalog)
        return found[0] if found else None

    # THEN both end in the same state: the newest bytes, with the latest metadata
    a, b = eventually(lambda: asset(ordered)), eventually(lambda: asset(shuffled))
    assert {k: a.get(k) for k in STABLE} == {k: b.get(k) for k in STABLE}
    assert a["status"] == "active" and a["title"] == "Red" and a["file:size"] == len(b"II*\x00second-version")
    assert b["storage"]["generation"] == str(histories[shuffled][1]["generation"])
    # AND replaying everything again changes nothing
    revision = b["rev"]
    deliver(shuffled, [0, 1, 2, 3])
    replayed = asset(shuffled)
    assert replayed is not None and replayed["rev"] == revision
