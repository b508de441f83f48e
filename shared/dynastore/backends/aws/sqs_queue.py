"""``ports.TaskQueue`` on Amazon SQS (boto3).

- Queues: a logical queue name (a catalog id, ``jobs``, ...) maps to the standard queue
  ``{prefix}-{name}`` (characters outside ``[A-Za-z0-9_-]`` replaced, a hash added when that
  changed the name or it is over 80 characters), created on first use with a redrive policy to the
  dead-letter queue ``{prefix}-dlq`` after ``max_attempts`` receives.
- Dedup: standard queues (FIFO queues cannot delay single messages and dedupe only for 5
  minutes), so a ``dedup_key`` is claimed store-side first: a conditional put in a DynamoDB
  table (``claims``: ``DynamoClaims``) keyed by queue and key, kept ``dedup_ttl_seconds``. A
  second enqueue with the key sends nothing and answers the same task name. A send that fails
  releases its claim, so a retry can send.
- Delays: SQS delays a message at most 900 s. A longer delay is sent with 900 s and a
  ``not_before`` attribute (epoch seconds); a consumer handed a message before that time returns it
  to the queue (``defer_early``: sent again for the rest, ``remaining_delay`` says how long).
- Messages are JSON bodies up to 256 KB (pass references, not payloads). The task name is the
  SQS message id, or ``dedup-<sha256>`` when a dedup key names it.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping
from typing import Any, Protocol

import orjson

from dynastore.backends.aws._errors import sdk_errors
from dynastore.backends.gcp.lazy_client import LazyClient
from dynastore.errors import Invalid, NotFound, PayloadTooLarge
from dynastore.ports import Doc, TaskQueueBase

MAX_BODY_BYTES = 250_000  # SQS takes 256 KiB per message, attributes included
MAX_DELAY_SECONDS = 900
NOT_BEFORE = "not_before"
QUEUE_ATTRIBUTE = "dynastore_queue"
_INVALID = re.compile(r"[^A-Za-z0-9_-]+")


class Claims(Protocol):
    def claim(self, key: str, ttl_seconds: float) -> bool: ...

    def release(self, key: str) -> None: ...


def queue_name(prefix: str, name: str) -> str:
    """The SQS queue name of a logical queue name (``[A-Za-z0-9_-]{1,80}``)."""
    if not isinstance(name, str) or not name:
        raise Invalid("a queue name must be a non-empty string")
    raw = f"{prefix}-{name}" if prefix else name
    cleaned = _INVALID.sub("-", raw).strip("-") or "q"
    if cleaned == raw and len(cleaned) <= 80:
        return cleaned
    return f"{cleaned[:69]}-{hashlib.sha256(raw.encode()).hexdigest()[:10]}"


def dedup_task_name(queue: str, dedup_key: str) -> str:
    return "dedup-" + hashlib.sha256(f"{queue}\n{dedup_key}".encode()).hexdigest()


def remaining_delay(attributes: Mapping[str, Any], now: float | None = None) -> float:
    """Seconds until a received message is due (0: due now), from its ``not_before`` attribute
    (``MessageAttributes`` of ``receive_message`` or ``messageAttributes`` of a Lambda record)."""
    attr = attributes.get(NOT_BEFORE) or {}
    value = attr.get("StringValue", attr.get("stringValue")) if isinstance(attr, Mapping) else None
    if not value:
        return 0.0
    return max(0.0, float(value) - (time.time() if now is None else now))


class SqsTaskQueue(TaskQueueBase):
    def __init__(
        self,
        client: Any,
        *,
        queue_prefix: str = "dynastore",
        max_attempts: int = 3,
        claims: Claims | None = None,
        dedup_ttl_seconds: float = 3600.0,
        visibility_timeout: int = 900,
    ) -> None:
        """``client``: a boto3 SQS client, or a function that makes one on first use."""
        self._client = LazyClient(client)
        self.queue_prefix = queue_prefix
        self.max_attempts = max_attempts
        self.claims = claims
        self.dedup_ttl_seconds = dedup_ttl_seconds
        self.visibility_timeout = visibility_timeout
        self._urls: dict[str, str] = {}

    @property
    def client(self) -> Any:
        return self._client.get()

    # ------------------------------------------------------------------ queues
    def _create(self, name: str, attributes: dict[str, str]) -> str:
        with sdk_errors(f"queue {name!r}"):
            url = str(self.client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
        self._urls[name] = url
        return url

    def dlq_url(self) -> str:
        return self.queue_url("dlq") or self._create(
            queue_name(self.queue_prefix, "dlq"), {"MessageRetentionPeriod": "1209600"}
        )

    def ensure_queue(self, queue: str) -> str:
        """The URL of ``queue``'s SQS queue, created (with its redrive policy) when missing.

        An existing queue is used as it is: Terraform creates the deployment's queues with its own
        attributes (KMS key, visibility), and CreateQueue with other attributes would fail."""
        name = queue_name(self.queue_prefix, queue)
        existing = self.queue_url(queue)
        if existing is not None:
            return existing
        with sdk_errors("the dead-letter queue"):
            dlq_arn = self.client.get_queue_attributes(QueueUrl=self.dlq_url(), AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
        redrive = orjson.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(self.max_attempts)}).decode()
        return self._create(name, {"RedrivePolicy": redrive, "VisibilityTimeout": str(self.visibility_timeout)})

    def queue_url(self, queue: str) -> str | None:
        """The URL of an existing queue, else None."""
        name = queue_name(self.queue_prefix, queue)
        if name in self._urls:
            return self._urls[name]
        try:
            with sdk_errors(f"queue {queue!r}"):
                url = str(self.client.get_queue_url(QueueName=name)["QueueUrl"])
        except NotFound:
            return None
        self._urls[name] = url
        return url

    def delete_queue(self, queue: str) -> None:
        url = self.queue_url(queue)
        self._urls.pop(queue_name(self.queue_prefix, queue), None)
        if url is None:
            return
        try:
            with sdk_errors(f"delete of queue {queue!r}"):
                self.client.delete_queue(QueueUrl=url)
        except NotFound:
            pass

    # ------------------------------------------------------------------ messages
    def enqueue(self, queue: str, message: Doc, *, dedup_key: str | None = None, delay_seconds: float = 0) -> str:
        body = orjson.dumps(message)
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(
                f"a task message is {len(body)} bytes; SQS takes under {MAX_BODY_BYTES}: pass references"
            )
        if delay_seconds < 0:
            raise Invalid("delay_seconds must not be negative")
        attributes: dict[str, Any] = {QUEUE_ATTRIBUTE: {"DataType": "String", "StringValue": queue}}
        if delay_seconds > MAX_DELAY_SECONDS:
            attributes[NOT_BEFORE] = {"DataType": "Number", "StringValue": f"{time.time() + delay_seconds:.3f}"}
        url = self.ensure_queue(queue)
        claim = None
        if dedup_key is not None:
            claim = dedup_task_name(queue, dedup_key)
            if self.claims is None:
                raise Invalid("this SQS queue has no claims table, so it cannot deduplicate")
            if not self.claims.claim(f"task:{claim}", self.dedup_ttl_seconds + delay_seconds):
                return claim
        try:
            with sdk_errors(f"enqueue on {queue!r}"):
                sent = self.client.send_message(
                    QueueUrl=url,
                    MessageBody=body.decode(),
                    DelaySeconds=int(min(delay_seconds, MAX_DELAY_SECONDS)),
                    MessageAttributes=attributes,
                )
        except BaseException:
            if claim is not None and self.claims is not None:
                self.claims.release(f"task:{claim}")
            raise
        return claim or str(sent["MessageId"])

    def defer_early(self, queue_arn: str, attributes: Mapping[str, Any], body: str) -> bool:
        """Put a message handed over before its ``not_before`` back on its queue (the one of
        ``queue_arn``) for the remaining delay, at most 900 s a time; True when it was not due.

        A new message (not a visibility change), so waiting does not count as a failed receive
        towards the dead-letter redrive. The caller then acknowledges the early one."""
        left = remaining_delay(attributes)
        if left <= 0:
            return False
        name = queue_arn.rsplit(":", 1)[-1]
        url = self._urls.get(name)
        if url is None:
            with sdk_errors(f"queue {name!r}"):
                url = self._urls[name] = str(self.client.get_queue_url(QueueName=name)["QueueUrl"])
        kept = {
            key: {"DataType": value.get("dataType", "String"), "StringValue": value["stringValue"]}
            for key, value in attributes.items()
            if isinstance(value, Mapping) and value.get("stringValue") is not None
        }
        with sdk_errors(f"re-queue on {name!r}"):
            self.client.send_message(
                QueueUrl=url, MessageBody=body, DelaySeconds=int(min(left, MAX_DELAY_SECONDS)), MessageAttributes=kept
            )
        return True

    def health(self) -> None:
        with sdk_errors("SQS"):
            self.client.list_queues(QueueNamePrefix=self.queue_prefix, MaxResults=1)
