"""AWS Lambda entry points of Dynastore: thin hand-overs to the services (one bundle, five functions).

Handlers (``handlers.<name>``, one Lambda function each, all from this file):

- ``api``: API Gateway HTTP API (payload 2.0) -> the one FastAPI app through Mangum;
- ``on_object_event``: S3 event notifications delivered through SQS. Each SQS record holds one S3
  notification (``{"Records": [...]}``); every S3 record becomes a ``StorageEvent``
  (``dynastore.backends.aws.events``) for ``IndexingService.handle``. Partial batch failures: only
  the SQS records that raised are retried (then go to the dead-letter queue);
- ``run_task``: the task worker on the SQS task queue (message body = job message, partial batch failures;
  a message before its ``not_before`` goes back to the queue for the remaining delay);
- ``maintenance``: EventBridge Scheduler -> ``{"action": "all" | "cleanup" | "reconcile"}``;
- ``on_stac_event``: seed 003 publish envelopes from the SQS envelope queue (one envelope per message
  body; message attribute ``catalog_id``, else ``DYNASTORE_ESGF_CATALOG_ID``), applied by
  ``StacEventService.handle_message``: an envelope that can never apply is logged and dropped (not a
  batch failure), a lost race is a partial batch failure, so SQS redelivers it (then the DLQ).

Idempotency of object events: the metadata store's ``claim_event`` (as on gcp), keyed on the S3
event's key and sequencer (``dynastore.backends.aws.events.s3_event_id``). S3 orders the events of one key by
sequencer, so a redelivered record (SQS is at-least-once, S3 may notify twice) claims the same id
and is a no-op; no extra table (powertools idempotency would need its own DynamoDB table and would
duplicate what the store already does, with the same TTL setting ``processed_event_ttl_hours``).

Services are built once per execution environment, on the first invocation (``bootstrap``);
nothing heavier than powertools is imported before that, and the cold start logs how long the
module import and the app build took. API keys: when ``DYNASTORE_AWS_API_KEYS_SECRET_ARN`` is set,
the secret's value (same format as ``DYNASTORE_API_KEYS``) is read once per cold start through
powertools parameters and passed to ``Settings`` (so key material is never in the Lambda configuration).
"""

from __future__ import annotations

import time

_IMPORT_STARTED = time.perf_counter()

import functools  # noqa: E402
import json  # noqa: E402
from typing import Any  # noqa: E402

from aws_lambda_powertools import Logger  # noqa: E402
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response  # noqa: E402
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord  # noqa: E402

logger = Logger(service="dynastore")
MAINTENANCE_ACTIONS = ("all", "cleanup", "reconcile", "aios_registry")
_IMPORT_SECONDS = time.perf_counter() - _IMPORT_STARTED


def load_settings() -> Any:
    """``Settings`` from the environment, with the API keys from Secrets Manager when configured."""
    from dynastore.config import Settings

    settings = Settings()
    if settings.aws_api_keys_secret_arn:
        from aws_lambda_powertools.utilities import parameters

        secret = parameters.get_secret(settings.aws_api_keys_secret_arn, max_age=3600)
        settings = Settings(api_keys=str(secret).strip())
    return settings


@functools.cache
def services() -> Any:
    from dynastore.bootstrap import bootstrap

    started = time.perf_counter()
    built = bootstrap(load_settings())
    logger.info(
        "cold start",
        extra={
            "import_ms": round(_IMPORT_SECONDS * 1000, 1),
            "bootstrap_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return built


@functools.cache
def asgi_handler() -> Any:
    """Mangum around the FastAPI app, built once per cold start."""
    from mangum import Mangum

    from dynastore.api.app import create_app

    started = time.perf_counter()
    handler = Mangum(create_app(services()), lifespan="off")
    logger.info("api app built", extra={"create_app_ms": round((time.perf_counter() - started) * 1000, 1)})
    return handler


@logger.inject_lambda_context
def api(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response: dict[str, Any] = asgi_handler()(event, context)
    return response


# ------------------------------------------------------------------------------------ object events


def storage_events(record: SQSRecord) -> list[Any]:
    """The ``StorageEvent`` s of one SQS record (an S3 notification), each with its idempotency key.

    S3's ``s3:TestEvent`` (sent when a notification is configured) holds no records: nothing to do.
    """
    from dynastore.backends.aws.events import s3_record_event

    body = json.loads(record.body)
    return [s3_record_event(s3_record) for s3_record in (body.get("Records", []) if isinstance(body, dict) else [])]


def _index_record(record: SQSRecord) -> None:
    from dynastore.errors import Invalid

    try:
        events = storage_events(record)
    except (ValueError, Invalid) as exc:
        # Not an S3 notification we can read: retrying cannot help, so it is logged and dropped.
        logger.error("dropping an unreadable object event", extra={"message_id": record.message_id, "error": str(exc)})
        return
    indexing = services().indexing
    for event in events:
        outcome = indexing.handle(event)
        logger.info(
            "object event",
            extra={"kind": event.kind, "key": event.key, "status": outcome.status, "detail": outcome.detail or ""},
        )


@logger.inject_lambda_context
def on_object_event(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(
        event=event, record_handler=_index_record, processor=BatchProcessor(EventType.SQS), context=context
    )


# ------------------------------------------------------------------------------------ tasks


def _run_task_record(record: SQSRecord) -> None:
    """Runs the job, unless the message came early: SQS delays at most 900 s, so a longer delay
    carries ``not_before`` and the message goes back to the queue for the rest of it."""
    defer = getattr(services().adapters.queue, "defer_early", None)  # SqsTaskQueue (aws backend)
    attributes = record.raw_event.get("messageAttributes") or {}
    if defer is not None and defer(record.event_source_arn, attributes, record.body):
        logger.info("task message not due yet: re-queued", extra={"message_id": record.message_id})
        return
    services().tasks.handle_message(record.body)


@logger.inject_lambda_context
def run_task(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(
        event=event, record_handler=_run_task_record, processor=BatchProcessor(EventType.SQS), context=context
    )


# ------------------------------------------------------------------------------------ publish envelopes


def _stac_event_record(record: SQSRecord) -> None:
    attributes = record.raw_event.get("messageAttributes") or {}
    catalog_id = (attributes.get("catalog_id") or {}).get("stringValue") or None
    result = services().stac_events.handle_message(record.body, catalog_id=catalog_id)
    if result is not None:
        logger.info(
            "esgf envelope",
            extra={"event_id": result.event_id, "outcome": result.outcome, "action": result.action},
        )


@logger.inject_lambda_context
def on_stac_event(event: dict[str, Any], context: Any) -> Any:
    return process_partial_response(
        event=event, record_handler=_stac_event_record, processor=BatchProcessor(EventType.SQS), context=context
    )


# ------------------------------------------------------------------------------------ maintenance


@logger.inject_lambda_context
def maintenance(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """EventBridge Scheduler target: the schedule's input is ``{"action": ...}`` (default ``all``)."""
    action = event.get("action", "all") if isinstance(event, dict) else "all"
    if action not in MAINTENANCE_ACTIONS:
        # A misconfigured schedule: fail the invocation so it shows (and the scheduler's DLQ gets it).
        raise ValueError(f"unknown maintenance action {action!r}: use all, cleanup, reconcile or aios_registry")
    lifecycle = services().lifecycle
    if action == "aios_registry":
        result = {"aios_registry": services().registry.check_all()}
    elif action == "cleanup":
        result = {"cleanup": lifecycle.cleanup().to_doc()}
    elif action == "reconcile":
        result = {"reconcile": lifecycle.reconcile().to_doc()}
    else:
        result = {**lifecycle.scheduled(), "aios_registry": services().registry.check_all()}
    logger.info("maintenance", extra={"action": action, "result": result})
    return dict(result)
