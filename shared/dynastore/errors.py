"""The one backend-neutral error tree.

Backends translate their SDK errors into these (``raise Conflict(...) from exc``); the API turns
them into RFC 9457 problem+json through ``HTTP_STATUS`` (see ``dynastore.api.problems``).
"""

from __future__ import annotations

from typing import Any


class DynastoreError(Exception):
    """Base of every error the services raise on purpose."""

    title = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class Invalid(DynastoreError):
    """The request is malformed or breaks a domain rule (400/422)."""

    title = "Invalid request"


class Unprocessable(Invalid):
    """Well-formed, but the work it asks for could not be done on this input (422): a task that failed."""

    title = "Unprocessable"


class Unauthorized(DynastoreError):
    """No or unknown credentials (401)."""

    title = "Unauthorized"


class Forbidden(DynastoreError):
    """Credentials are valid but the role is too low (403)."""

    title = "Forbidden"


class NotFound(DynastoreError):
    """The record does not exist or is hidden (soft-deleted, retired) (404)."""

    title = "Not found"


class Conflict(DynastoreError):
    """The write would overwrite something it must not: exists already, stale revision (409)."""

    title = "Conflict"


class PreconditionFailed(Conflict):
    """An If-Match/generation precondition did not hold (412)."""

    title = "Precondition failed"


class PayloadTooLarge(Invalid):
    """The body or upload exceeds a configured limit (413)."""

    title = "Payload too large"


class Unavailable(DynastoreError):
    """A backend dependency cannot be reached; retrying may help (503)."""

    title = "Service unavailable"


HTTP_STATUS: dict[type[DynastoreError], int] = {
    Invalid: 400,
    PayloadTooLarge: 413,
    Unprocessable: 422,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PreconditionFailed: 412,
    Unavailable: 503,
    DynastoreError: 500,
}


def http_status(error: DynastoreError) -> int:
    """The HTTP status for an error: the entry of its nearest class in ``HTTP_STATUS``."""
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]  # type: ignore[index]
    return 500
