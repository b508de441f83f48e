"""The one backend-neutral error tree.

Backends translate their SDK errors into these (``raise Conflict(...) from exc``); the API turns
them into RFC 9457 problem+json with each class's ``status`` and ``title`` (see ``dynastore.api.problems``).
"""

from __future__ import annotations

from typing import Any, ClassVar


class DynastoreError(Exception):
    """Base of every error the services raise on purpose. A subclass names its HTTP ``status`` and
    problem ``title`` in its header (``class NotFound(DynastoreError, status=404, title=...)``) or
    inherits them."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init_subclass__(cls, *, status: int | None = None, title: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status
        if title is not None:
            cls.title = title

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class Invalid(DynastoreError, status=400, title="Invalid request"):
    """The request is malformed or breaks a domain rule (400/422)."""


class Unprocessable(Invalid, status=422, title="Unprocessable"):
    """Well-formed, but the work it asks for could not be done on this input (422): a task that failed."""


class Unauthorized(DynastoreError, status=401, title="Unauthorized"):
    """No or unknown credentials."""


class Forbidden(DynastoreError, status=403, title="Forbidden"):
    """Credentials are valid but the role is too low."""


class NotFound(DynastoreError, status=404, title="Not found"):
    """The record does not exist or is hidden (soft-deleted, retired)."""


class Conflict(DynastoreError, status=409, title="Conflict"):
    """The write would overwrite something it must not: exists already, stale revision."""


class PreconditionFailed(Conflict, status=412, title="Precondition failed"):
    """An If-Match/generation precondition did not hold."""


class PayloadTooLarge(Invalid, status=413, title="Payload too large"):
    """The body or upload exceeds a configured limit."""


class Unavailable(DynastoreError, status=503, title="Service unavailable"):
    """A backend dependency cannot be reached; retrying may help."""


def http_status(error: DynastoreError) -> int:
    """The HTTP status for an error: its class's ``status``."""
    return error.status
