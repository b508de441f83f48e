"""AWS SDK (botocore) errors → ``dynastore.errors``, in one place for S3, DynamoDB and SQS."""

from __future__ import annotations

from typing import Any

from dynastore.backends.sdk_errors import error_block
from dynastore.errors import Conflict, DynastoreError, Invalid, NotFound, PreconditionFailed, Unavailable

NOT_FOUND = frozenset(
    {
        "404",
        "NoSuchKey",
        "NoSuchBucket",
        "NotFound",
        "ResourceNotFoundException",
        "QueueDoesNotExist",
        "AWS.SimpleQueueService.NonExistentQueue",
    }
)
CONFLICT = frozenset(
    {
        "409",
        "BucketAlreadyOwnedByYou",
        "BucketAlreadyExists",
        "ConditionalRequestConflict",  # S3: a concurrent conditional write to the same key
        "ConditionalCheckFailedException",
        "TransactionConflictException",
        "ResourceInUseException",
        "QueueAlreadyExists",
        "QueueNameExists",
    }
)
INVALID = frozenset(
    {
        "400",
        "ValidationException",
        "InvalidArgument",
        "InvalidRequest",
        "InvalidBucketName",
        "KeyTooLongError",
        "MetadataTooLarge",
        "EntityTooLarge",
        "InvalidParameterValue",
        "AWS.SimpleQueueService.InvalidParameterValue",
        "InvalidAttributeValue",
    }
)


def error_code(exc: BaseException) -> str:
    """The service's error code of a ``ClientError`` (``""`` for anything else)."""
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str((response.get("Error") or {}).get("Code") or "")
    return ""


def translate(exc: BaseException, what: str) -> DynastoreError:
    """The dynastore error for an SDK error raised while doing ``what`` (re-raises what it does not know)."""
    from botocore import exceptions as bexc

    if isinstance(exc, bexc.ClientError):
        code = error_code(exc)
        detail = str((exc.response.get("Error") or {}).get("Message") or code)
        if code in NOT_FOUND:
            return NotFound(f"{what}: not found")
        if code in ("PreconditionFailed", "412"):
            return PreconditionFailed(f"{what}: precondition failed")
        if code == "TransactionCanceledException":
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons") or []]
            if "ValidationError" in reasons:
                return Invalid(f"{what}: {detail}")
            return Conflict(f"{what}: changed concurrently or precondition failed ({detail}); read it again and retry")
        if code in CONFLICT:
            return Conflict(f"{what}: {detail}")
        if code in INVALID:
            return Invalid(f"{what}: {detail}")
        return Unavailable(f"{what}: {code}: {detail}")
    if isinstance(exc, bexc.ParamValidationError):
        return Invalid(f"{what}: {exc}")
    if isinstance(exc, bexc.BotoCoreError | ConnectionError | TimeoutError):
        return Unavailable(f"{what}: {type(exc).__name__}: {exc}")
    raise exc


# Re-raise SDK errors inside the block as dynastore errors (ours pass through).
sdk_errors = error_block(translate)
