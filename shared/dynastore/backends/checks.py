"""Argument checks every backend makes the same way, so each refuses the same input with the same
``Invalid`` message (the contract suite runs one test against all of them)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from dynastore.errors import Invalid

MAX_LIMIT = 10_000  # records on one page of a listing or search


def check_limit(limit: int) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
    return limit


def require_str(doc: Any, field: str, what: str) -> str:
    """``doc[field]`` when it is a non-empty string; ``Invalid`` naming ``what`` otherwise."""
    if type(doc) is dict:  # the common case first (a bulk write checks two fields per record)
        value = doc.get(field)
        if type(value) is str and value:
            return value
    value = doc.get(field) if isinstance(doc, dict) else None
    if not isinstance(value, str) or not value:
        raise Invalid(f"{what} needs a string {field!r}")
    return value


def check_put_options(metadata: Mapping[str, str] | None, if_generation_match: int | None) -> None:
    """The options of ``BlobStore.put``: string metadata, a generation precondition that is not negative."""
    if metadata is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise Invalid("object metadata must map strings to strings")
    if if_generation_match is not None and if_generation_match < 0:
        raise Invalid("if_generation_match must be 0 (create only) or a generation")


def key_under(path: Any, head: str, check_key: Callable[[str], str]) -> str | None:
    """The object key ``path`` names below ``head`` (``gs://bucket/``, a folder), or None when it is
    not below it or what follows is not a valid key (``BlobStore.key_for_href``)."""
    if not isinstance(path, str) or not path.startswith(head):
        return None
    try:
        return check_key(path[len(head) :])
    except Invalid:
        return None


_seq_lock = threading.Lock()
_last_seq = 0


def next_seq() -> int:
    """A number that grows with every call in this process and with the clock across processes
    (orders audit events written in the same microsecond)."""
    global _last_seq
    with _seq_lock:
        _last_seq = max(_last_seq + 1, time.time_ns())
        return _last_seq


def check_signed_url_request(method: str, expires_seconds: int, max_seconds: int, lifetime: str) -> None:
    """The arguments of ``BlobStore.signed_url`` every backend refuses alike; ``lifetime`` says the range."""
    if method not in ("GET", "PUT"):
        raise Invalid("signed URLs are for GET or PUT")
    if not 1 <= expires_seconds <= max_seconds:
        raise Invalid(lifetime)


def binding_location(catalog_id: str, binding: Mapping[str, Any], landing_bucket: str) -> tuple[str, str]:
    """(bucket, prefix ending in ``/``) of a catalog's storage binding; defaults: the landing bucket and
    ``{catalog}/`` (what every provisioner binds)."""
    bucket = binding.get("bucket") or landing_bucket
    prefix = binding.get("prefix") or f"{catalog_id}/"
    return str(bucket), prefix if prefix.endswith("/") else prefix + "/"


_RECORD_KIND = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def check_record_kind(kind: str) -> str:
    """A service-record kind (``MetadataStore.get_record`` ...): a short lower-case name."""
    if not isinstance(kind, str) or not _RECORD_KIND.match(kind):
        raise Invalid(f"record kind {kind!r} must match [a-z][a-z0-9_]{{0,39}}")
    return kind
