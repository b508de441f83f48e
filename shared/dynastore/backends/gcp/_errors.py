"""Google SDK errors → ``dynastore.errors`` (imported lazily with the SDK)."""

from __future__ import annotations

from dynastore.backends.sdk_errors import error_block
from dynastore.errors import Conflict, DynastoreError, Invalid, NotFound, PreconditionFailed, Unavailable


class MissingIndex(Invalid):
    """Firestore has no composite index for a query (FAILED_PRECONDITION); the store retries
    with the indexed filters only."""


def translate(exc: BaseException, what: str) -> DynastoreError:
    """The dynastore error for an SDK error raised while doing ``what``."""
    from google.api_core import exceptions as gexc

    detail = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, gexc.NotFound):
        return NotFound(f"{what}: not found")
    if isinstance(exc, gexc.Aborted):  # a subclass of gexc.Conflict: contention, not a stale revision
        return Unavailable(f"{what}: the database aborted it under contention with other writers; retry")
    if isinstance(exc, gexc.AlreadyExists | gexc.Conflict):
        return Conflict(f"{what}: already exists")
    if isinstance(exc, gexc.PreconditionFailed):
        return PreconditionFailed(f"{what}: precondition failed")
    if isinstance(exc, gexc.FailedPrecondition):
        # Firestore answers FAILED_PRECONDITION when a query needs a composite index.
        if "index" in detail.lower():
            return MissingIndex(f"{what}: the database has no index for this query ({detail})")
        return Invalid(f"{what}: the database cannot answer this query ({detail})")
    if isinstance(exc, gexc.InvalidArgument | gexc.BadRequest | gexc.OutOfRange):
        return Invalid(f"{what}: {detail}")
    if isinstance(exc, gexc.GoogleAPIError | ConnectionError | TimeoutError):
        return Unavailable(f"{what}: {type(exc).__name__}: {detail}")
    try:
        from google.auth import exceptions as auth_exc

        if isinstance(exc, auth_exc.GoogleAuthError):
            return Unavailable(f"{what}: Google credentials problem: {exc}")
    except ImportError:  # pragma: no cover
        pass
    try:
        import requests

        if isinstance(exc, requests.RequestException):
            return Unavailable(f"{what}: {exc}")
    except ImportError:  # pragma: no cover
        pass
    raise exc


# Re-raise SDK errors inside the block as dynastore errors (ours pass through).
sdk_errors = error_block(translate)
