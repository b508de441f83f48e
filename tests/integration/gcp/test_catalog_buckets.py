"""A bucket per catalog (``gcp_bucket_per_catalog``) end to end on the emulators.

The catalog's storage binding is authoritative: uploads land in its bucket, signed URLs point
there, storage events from it index into the catalog (handed to ``on_object_event`` as the
Pub/Sub CloudEvent a bucket notification becomes: fake-gcs-server has no notification API),
reconcile and cleanup work on it, and cleanup removes the bucket. Events from a bucket no catalog
is bound to are recorded as failed, with nothing else written.
"""

from __future__ import annotations

import base64
import importlib.util
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import orjson
import pytest
from cloudevents.http import CloudEvent

from dynastore.backends.gcp.gcs import GcsBlobStore
from dynastore.backends.gcp.provisioner import catalog_bucket_name
from dynastore.bootstrap import Services, bootstrap
from dynastore.domain.events import StorageEvent
from dynastore.domain.search import AssetQuery
from dynastore.errors import NotFound
from dynastore.services.assets import Scope, UploadBuffer

pytestmark = pytest.mark.gcp

MAIN = Path(__file__).resolve().parents[3] / "functions" / "gcp" / "main.py"
ACTOR = "test"


@pytest.fixture
def gcp_per_catalog() -> Iterator[Any]:
    from infra.testing import gcp_adapters

    with gcp_adapters(
        gcp_bucket_per_catalog=True,
        gcp_notification_topic="projects/dynastore-local/topics/catalog-objects",
        retention_days=0,
        move_window_seconds=0,
    ) as built:
        yield built


@pytest.fixture
def services(gcp_per_catalog: Any) -> Services:
    return bootstrap(gcp_per_catalog.settings, gcp_per_catalog.adapters)


@pytest.fixture
def on_object_event(services: Services, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The ``on_object_event`` function target, on these services."""
    spec = importlib.util.spec_from_file_location(f"gcp_main_{uuid.uuid4().hex[:8]}", MAIN)
    assert spec is not None and spec.loader is not None
    main: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main)
    monkeypatch.setattr(main, "services", lambda: services)
    return main.on_object_event


def notification(bucket: str, key: str, *, event_type: str = "OBJECT_FINALIZE", message_id: str | None = None) -> Any:
    """The CloudEvent Eventarc delivers for a Cloud Storage notification of ``bucket`` (Pub/Sub)."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage  # type: ignore[attr-defined]

    client = storage.Client(project="dynastore-local", credentials=AnonymousCredentials())
    blob = client.bucket(bucket).get_blob(key)
    resource = dict(blob._properties) if blob is not None else {"bucket": bucket, "name": key, "generation": "1"}
    message_id = message_id or uuid.uuid4().hex
    attributes = {
        "bucketId": bucket,
        "objectId": key,
        "objectGeneration": str(resource.get("generation")),
        "eventType": event_type,
        "payloadFormat": "JSON_API_V1",
    }
    data = {
        "message": {
            "attributes": attributes,
            "data": base64.b64encode(orjson.dumps(resource)).decode(),
            "messageId": message_id,
            "publishTime": "2024-05-20T16:00:00.789Z",
        },
        "subscription": "projects/dynastore-local/subscriptions/on-object-event",
    }
    return CloudEvent(
        {
            "type": "google.cloud.pubsub.topic.v1.messagePublished",
            "source": "//pubsub.googleapis.com/projects/dynastore-local/topics/catalog-objects",
            "id": message_id,
        },
        data,
    )


def upload(services: Services, scope: Scope, name: str, data: bytes) -> dict[str, Any]:
    buffer = UploadBuffer(1024 * 1024)
    buffer.write(data)
    try:
        return services.assets.upload(
            scope, filename=name, data=buffer, content_type="text/plain", metadata=None, actor=ACTOR
        )
    finally:
        buffer.close()


def assets_of(services: Services, catalog_id: str) -> list[dict[str, Any]]:
    query = AssetQuery(catalog_ids=(catalog_id,), status=("active", "missing", "deleted"), limit=1000)
    return list(services.adapters.store.search_assets(query).items)


def test_a_catalog_with_its_own_bucket_works_end_to_end(services: Services, on_object_event: Any) -> None:
    landing = services.adapters.blobs
    catalog_id = f"cat{uuid.uuid4().hex[:6]}"
    # GIVEN a catalog created in bucket-per-catalog mode
    catalog = services.catalogs.create({"id": catalog_id}, actor=ACTOR)
    bucket = catalog_bucket_name(landing.bucket, catalog_id)
    # THEN its binding names its dedicated bucket, which exists, and the key prefix `{catalog}/`
    assert catalog["storage"]["bucket"] == bucket != landing.bucket
    assert catalog["storage"]["prefix"] == f"{catalog_id}/"
    dedicated = services.catalogs.blobs_for(catalog)
    assert isinstance(dedicated, GcsBlobStore) and dedicated.bucket == bucket
    dedicated.health()
    services.stac.create_collection(catalog_id, {"id": "s2", "description": "S2", "license": "other"}, actor=ACTOR)
    scope = Scope(catalog_id, "s2")

    # WHEN a file is uploaded through the service  THEN it lands in the dedicated bucket, not the landing one
    doc = upload(services, scope, "readme.txt", b"hello bucket")
    key = f"{catalog_id}/s2/readme.txt"
    assert doc["href"] == f"gs://{bucket}/{key}"
    assert doc["storage"]["bucket"] == bucket
    assert dedicated.get(key) == b"hello bucket"
    with pytest.raises(NotFound):
        landing.stat(key)
    # AND its storage event (the bucket's notification) finds that very record: nothing new
    on_object_event(notification(bucket, key))
    assert [a["id"] for a in assets_of(services, catalog_id)] == [doc["id"]]
    assert services.indexing.ingest_status(key).status == "indexed"

    # WHEN a client uploads directly through the signed URL the service hands out
    target = services.assets.upload_target(catalog_id, {"collection_id": "s2", "filename": "scene.txt"})
    direct_key = f"{catalog_id}/s2/scene.txt"
    assert target["signed"] and target["key"] == direct_key and target["href"] == f"gs://{bucket}/{direct_key}"
    put = httpx.put(target["url"], content=b"direct bytes", headers=target["headers"])
    assert put.status_code == 200, put.text
    assert dedicated.get(direct_key) == b"direct bytes"
    # AND the bucket's notification reaches on_object_event
    on_object_event(notification(bucket, direct_key))
    # THEN the object is indexed into the catalog, with coordinates in its bucket
    record = services.indexing.ingest_status(direct_key)
    assert record.status == "indexed", record.error
    assert record.bucket == bucket and record.catalog_id == catalog_id
    indexed = services.adapters.store.get_asset(catalog_id, record.asset_id or "")
    assert indexed["href"] == f"gs://{bucket}/{direct_key}"
    assert (indexed["storage"]["bucket"], indexed["storage"]["key"]) == (bucket, direct_key)
    assert indexed["file:size"] == len(b"direct bytes")

    # WHEN the asset is downloaded  THEN the signed URL serves its bytes from the dedicated bucket
    _, download_key, url = services.assets.download_target(scope, indexed["id"])
    assert download_key == direct_key and url is not None and bucket in url
    assert httpx.get(url).content == b"direct bytes"

    # WHEN an object disappears without an event  THEN reconcile (which lists the catalog's bucket) marks it missing
    dedicated.delete(direct_key)
    report = services.lifecycle.reconcile(catalog_id)
    assert report.missing == 1 and report.failed == 0, report.to_doc()
    assert services.adapters.store.get_asset(catalog_id, indexed["id"])["status"] == "missing"
    # AND a full reconcile leaves the uploaded asset alone and reports no failure
    full = services.lifecycle.reconcile()
    assert catalog_id in full.catalogs and full.failed == 0, full.to_doc()
    assert services.adapters.store.get_asset(catalog_id, doc["id"])["status"] == "active"

    # WHEN an asset is hard-deleted  THEN its file in the dedicated bucket goes too
    other = upload(services, scope, "other.txt", b"other")
    services.assets.hard_delete(scope, other["id"], actor=ACTOR)
    with pytest.raises(NotFound):
        dedicated.stat(f"{catalog_id}/s2/other.txt")

    # WHEN the catalog is retired and the cleanup runs (retention 0)
    services.catalogs.retire(catalog_id, actor=ACTOR)
    cleanup = services.lifecycle.cleanup()
    # THEN its objects, its bucket and its records are gone
    assert cleanup.catalogs_purged == [catalog_id] and not cleanup.errors, cleanup.to_doc()
    assert cleanup.blobs_deleted >= 1
    assert not dedicated.client.bucket(bucket).exists()
    with pytest.raises(NotFound):
        services.adapters.store.get_catalog(catalog_id)
    assert assets_of(services, catalog_id) == []
    # AND the deletes the cleanup caused, arriving late from the removed bucket, write nothing
    outcome = services.indexing.handle(StorageEvent(kind="deleted", bucket=bucket, key=key, generation="1"))
    assert outcome.status == "skipped"
    with pytest.raises(NotFound):
        services.adapters.store.get_catalog(catalog_id)
    with pytest.raises(NotFound):
        services.adapters.store.get_ingest_record(bucket, key)


def test_events_from_a_bucket_no_catalog_owns_write_nothing(services: Services, on_object_event: Any) -> None:
    landing = services.adapters.blobs
    catalog_id = f"cat{uuid.uuid4().hex[:6]}"
    # GIVEN a bucket that is neither the landing bucket nor any catalog's, holding an object
    stray = landing.for_bucket(f"{landing.bucket}-stray")
    assert isinstance(stray, GcsBlobStore)
    stray.ensure_bucket()
    key = f"{catalog_id}/s2/a.txt"
    stray.put(key, b"stray")
    # WHEN its notification reaches on_object_event
    on_object_event(notification(stray.bucket, key))
    # THEN the object is recorded as failed under that bucket, with a clear error
    record = services.adapters.store.get_ingest_record(stray.bucket, key)
    assert record.status == "failed"
    assert stray.bucket in (record.error or "") and "nothing was indexed" in (record.error or "")
    # AND nothing else was written: no catalog (none is created from a foreign bucket), no asset
    with pytest.raises(NotFound):
        services.adapters.store.get_catalog(catalog_id)
    assert assets_of(services, catalog_id) == []

    # GIVEN a catalog with its own bucket
    catalog = services.catalogs.create({"id": catalog_id}, actor=ACTOR)
    dedicated = services.catalogs.blobs_for(catalog)
    # WHEN its bucket notifies about an object under ANOTHER catalog's prefix  THEN failed, nothing written
    dedicated.put("elsewhere/a.txt", b"x")
    on_object_event(notification(dedicated.bucket, "elsewhere/a.txt"))
    assert services.adapters.store.get_ingest_record(dedicated.bucket, "elsewhere/a.txt").status == "failed"
    with pytest.raises(NotFound):
        services.adapters.store.get_catalog("elsewhere")
    # WHEN the landing bucket gets an object under this catalog's prefix  THEN failed: the catalog lives elsewhere
    landing.put(f"{catalog_id}/s2/b.txt", b"y")
    on_object_event(notification(landing.bucket, f"{catalog_id}/s2/b.txt"))
    misplaced = services.adapters.store.get_ingest_record(landing.bucket, f"{catalog_id}/s2/b.txt")
    assert misplaced.status == "failed"
    assert f"keeps its files in bucket {dedicated.bucket!r}" in (misplaced.error or "")
    assert assets_of(services, catalog_id) == []
    # AND a reconcile reports the misplaced object once, and indexes nothing from it
    first = services.lifecycle.reconcile()
    second = services.lifecycle.reconcile()
    assert assets_of(services, catalog_id) == []
    assert second.failed == 0 and second.skipped >= 1, (first.to_doc(), second.to_doc())
    for name in (stray.bucket, dedicated.bucket):
        services.adapters.provisioner.deprovision_catalog(
            catalog_id, {"bucket": name, "prefix": f"{catalog_id}/", "queue": catalog["storage"]["queue"]}
        )


def test_a_first_file_in_the_landing_bucket_creates_its_catalog_with_its_own_bucket(services: Services) -> None:
    landing = services.adapters.blobs
    catalog_id = f"cat{uuid.uuid4().hex[:6]}"
    # GIVEN a file in the landing bucket under a catalog that does not exist
    info = landing.put(f"{catalog_id}/a.txt", b"first")
    # WHEN it is indexed
    outcome = services.indexing.handle(StorageEvent.from_blob(info))
    # THEN the catalog exists with its dedicated bucket, and the file is recorded as misplaced (not indexed)
    catalog = services.adapters.store.get_catalog(catalog_id)
    assert catalog["storage"]["bucket"] == catalog_bucket_name(landing.bucket, catalog_id)
    assert outcome.status == "failed" and catalog["storage"]["bucket"] in (outcome.detail or "")
    assert assets_of(services, catalog_id) == []
    services.catalogs.retire(catalog_id, actor=ACTOR)
    assert services.lifecycle.cleanup().catalogs_purged == [catalog_id]
    dedicated = services.catalogs.blobs_for(catalog)
    assert isinstance(dedicated, GcsBlobStore)
    assert not dedicated.client.bucket(dedicated.bucket).exists()
