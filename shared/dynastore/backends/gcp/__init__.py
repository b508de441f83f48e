"""The ``gcp`` backend: Cloud Storage, Firestore (native mode), Cloud Tasks, Pub/Sub notifications.

The only package that imports the Google SDKs, and only inside ``build_adapters`` and the adapter
modules, so ``import dynastore`` stays cheap on a cold start.

Settings (``dynastore.config``): ``gcp_project``, ``gcp_region``, ``gcp_bucket``,
``gcp_firestore_database``, ``gcp_collection_prefix``, ``gcp_tasks_queue_prefix``,
``gcp_run_task_url``, ``gcp_tasks_service_account``, ``gcp_bucket_per_catalog``,
``gcp_notification_topic``, ``gcp_signer_email``, ``gcp_tasks_emulator_host``. The SDKs read
``FIRESTORE_EMULATOR_HOST``, ``STORAGE_EMULATOR_HOST`` and ``PUBSUB_EMULATOR_HOST`` themselves;
``infra/emulators.py`` starts the emulators and prints them.

Modules: ``gcs`` (GcsBlobStore), ``firestore_store`` (FirestoreMetadataStore, layout in its
docstring, composed of ``firestore_base``, ``firestore_common``, ``firestore_catalogs``,
``firestore_assets`` and ``firestore_records``), ``firestore_scan`` (paging and post-filtering),
``grams`` (substring index), ``tasks_queue`` (CloudTasksQueue), ``provisioner`` (GcpProvisioner),
``events`` (CloudEvent → StorageEvent), ``indexes`` (the composite indexes, written to
``firestore_indexes.json``).
"""

from __future__ import annotations

import os
from typing import Any

from dynastore.adapters import Adapters
from dynastore.config import Settings
from dynastore.errors import Invalid


def _project(settings: Settings) -> str:
    project = settings.gcp_project or os.environ.get("GOOGLE_CLOUD_PROJECT") or os.environ.get("GCP_PROJECT")
    if not project:
        raise Invalid("the gcp backend needs a project: set DYNASTORE_GCP_PROJECT")
    return project


def firestore_client(settings: Settings) -> Any:
    from google.cloud import firestore

    return firestore.Client(project=_project(settings), database=settings.gcp_firestore_database)


def storage_client(settings: Settings) -> Any:
    from google.cloud import storage  # type: ignore[attr-defined]

    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(project=_project(settings), credentials=AnonymousCredentials())
    return storage.Client(project=_project(settings))


def tasks_client(settings: Settings) -> Any:
    from google.cloud import tasks_v2

    if settings.gcp_tasks_emulator_host:
        import grpc
        from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

        channel = grpc.insecure_channel(settings.gcp_tasks_emulator_host)
        return tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
    return tasks_v2.CloudTasksClient()


def build_adapters(settings: Settings) -> Adapters:
    from dynastore.backends.gcp.firestore_health import RestProbe
    from dynastore.backends.gcp.firestore_store import FirestoreMetadataStore
    from dynastore.backends.gcp.gcs import GcsBlobStore
    from dynastore.backends.gcp.provisioner import GcpProvisioner
    from dynastore.backends.gcp.tasks_queue import CloudTasksQueue

    if not settings.gcp_bucket:
        raise Invalid("the gcp backend needs its landing bucket: set DYNASTORE_GCP_BUCKET")
    project = _project(settings)
    # The clients are made on first use: a cold start imports only the SDKs its first requests need.
    blobs = GcsBlobStore(lambda: storage_client(settings), settings.gcp_bucket, signer_email=settings.gcp_signer_email)
    store = FirestoreMetadataStore(
        lambda: firestore_client(settings),
        prefix=settings.gcp_collection_prefix,
        rest_probe=RestProbe(project, settings.gcp_firestore_database),
    )
    queue = CloudTasksQueue(
        lambda: tasks_client(settings),
        project=project,
        location=settings.gcp_region,
        target_url=settings.gcp_run_task_url,
        service_account=settings.gcp_tasks_service_account,
        queue_prefix=settings.gcp_tasks_queue_prefix,
        max_attempts=settings.task_max_attempts,
    )
    provisioner = GcpProvisioner(
        blobs,
        queue,
        bucket_per_catalog=settings.gcp_bucket_per_catalog,
        location=settings.gcp_region,
        notification_topic=settings.gcp_notification_topic,
        project=project,
    )
    return Adapters(blobs=blobs, store=store, queue=queue, provisioner=provisioner)
