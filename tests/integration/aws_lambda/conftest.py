"""The Lambda handlers of ``functions/aws/handlers.py`` fed real AWS payloads (tests/events/aws).

The handlers take their services from ``bootstrap`` with the configured backend, so these tests run
them on ``DYNASTORE_BACKEND=local`` (a temporary data folder): what is tested is the Lambda side
(event parsing, batch partial failures, idempotency, Mangum, the scheduler input), not AWS itself.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "tests" / "events" / "aws"
API_KEY = "lambda-test-admin"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def load_event(name: str) -> Any:
    return copy.deepcopy(json.loads((EVENTS / name).read_text(encoding="utf-8")))


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object the handlers (powertools, Mangum) read."""

    function_name: str = "dyn-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:dyn-test"
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"
    log_group_name: str = "/aws/lambda/dyn-test"
    log_stream_name: str = "2024/05/28/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture
def handlers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """``functions.aws.handlers`` on a fresh local backend (one cold start per test)."""
    for key in [key for key in __import__("os").environ if key.startswith("DYNASTORE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("DYNASTORE_BACKEND", "local")
    monkeypatch.setenv("DYNASTORE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DYNASTORE_WATCH_BUCKET", "false")
    monkeypatch.setenv("DYNASTORE_WORKER_THREADS", "0")
    monkeypatch.setenv("DYNASTORE_RETENTION_DAYS", "0")
    monkeypatch.setenv("DYNASTORE_API_KEYS", f"{API_KEY}:admin")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "dynastore-test")
    from functions.aws import handlers as module

    module.services.cache_clear()
    module.asgi_handler.cache_clear()
    try:
        yield module
    finally:
        if module.services.cache_info().currsize:
            module.services().close()
        module.services.cache_clear()
        module.asgi_handler.cache_clear()


def landing_event(name: str, handlers: ModuleType, **object_fields: Any) -> dict[str, Any]:
    """An SQS batch from tests/events/aws whose S3 records name the landing bucket of this backend."""
    event = load_event(name)
    bucket = handlers.services().adapters.blobs.bucket
    for sqs_record in event["Records"]:
        body = json.loads(sqs_record["body"])
        for record in body.get("Records", []):
            record["s3"]["bucket"]["name"] = bucket
            record["s3"]["object"].update(object_fields)
        sqs_record["body"] = json.dumps(body)
    return event
