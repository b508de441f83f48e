"""Cloud Functions (gen2) entry points of Dynastore on Google Cloud: thin hand-overs to the services.

functions-framework targets (one deployment each, all from this file):

- ``api``: HTTP, the whole FastAPI app (``dynastore.api.app.create_app``) served through
  ``functions_framework.aio``;
- ``on_object_event``: CloudEvents from Cloud Storage (Eventarc ``google.cloud.storage.object.v1.*``)
  or Pub/Sub (``messagePublished`` wrapping a storage notification; a raw Pub/Sub push works too),
  handed to ``IndexingService.handle`` (idempotent on the event id);
- ``on_stac_event``: CloudEvents from the ESGF envelope topic (Eventarc Pub/Sub trigger,
  ``messagePublished``): the message data is a seed 003 publish envelope, applied to the catalog of
  the message attribute ``catalog_id`` (else ``DYNASTORE_ESGF_CATALOG_ID``) by
  ``StacEventService.handle_message``. An envelope that can never apply is logged and acked; a lost
  race raises, so Pub/Sub redelivers it (redelivery is idempotent: the envelope's event id);
- ``run_task``: HTTP, the Cloud Tasks target: the task body is a job message for ``TaskService``;
- ``scheduled``: HTTP, the Cloud Scheduler target: ``{"action": "all" | "cleanup" | "reconcile" |
  "aios_registry"}`` (the last: the health check of the /aios registry; ``all`` includes it).

``run_task`` and ``scheduled`` are private: Cloud Run checks the OIDC token Cloud Tasks and Cloud
Scheduler send (invoker IAM), so no code here does. The services are built once per process, on
the first call (``dynastore.bootstrap``), and nothing heavier than functions-framework is imported
before that.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import functions_framework
from functions_framework import aio

log = logging.getLogger("dynastore.functions")


@functools.cache
def services() -> Any:
    from dynastore.bootstrap import bootstrap
    from dynastore.config import Settings

    return bootstrap(Settings())


@functools.cache
def asgi_app() -> Any:
    from dynastore.api.app import create_app

    return create_app(services())


class _Asgi:
    """A Starlette "response" that hands the request's ASGI scope to the FastAPI app."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@aio.http
async def api(request: Any) -> Any:
    return _Asgi(asgi_app())


@functions_framework.cloud_event
def on_object_event(event: Any) -> None:
    from dynastore.backends.gcp.events import from_cloudevent

    storage_event = from_cloudevent(event)
    if storage_event is not None:
        outcome = services().indexing.handle(storage_event)
        log.info("%s %s: %s %s", storage_event.kind, storage_event.key, outcome.status, outcome.detail or "")


@functions_framework.cloud_event
def on_stac_event(event: Any) -> None:
    from dynastore.backends.gcp.events import pubsub_message
    from dynastore.errors import Invalid

    try:
        body, attributes = pubsub_message(event)
    except Invalid as exc:
        log.error("dropping a Pub/Sub delivery that holds no envelope: %s", exc.detail)
        return
    result = services().stac_events.handle_message(body, catalog_id=attributes.get("catalog_id") or None)
    if result is not None:
        log.info("esgf envelope %s: %s %s of %s", result.event_id, result.outcome, result.action, result.item_id)


@functions_framework.http
def run_task(request: Any) -> tuple[str, int]:
    services().tasks.handle_message(request.get_data())
    return "", 204


@functions_framework.http
def scheduled(request: Any) -> tuple[dict[str, Any], int]:
    body = request.get_json(silent=True) or {}
    action = body.get("action", "all") if isinstance(body, dict) else "all"
    lifecycle = services().lifecycle
    if action == "cleanup":
        return {"cleanup": lifecycle.cleanup().to_doc()}, 200
    if action == "reconcile":
        return {"reconcile": lifecycle.reconcile().to_doc()}, 200
    if action == "aios_registry":
        return {"aios_registry": services().registry.check_all()}, 200
    if action == "all":
        return {**lifecycle.scheduled(), "aios_registry": services().registry.check_all()}, 200
    return {"detail": f"unknown action {action!r}: use all, cleanup, reconcile or aios_registry"}, 400
