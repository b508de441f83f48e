"""The object-key rules every blob store applies (one set, so a key valid on one backend is valid on all)."""

from __future__ import annotations

import re
from typing import cast

from dynastore.errors import Invalid

RESERVED_PREFIX = ".dynastore"
MAX_KEY_BYTES = 1024
_FORBIDDEN_KEY_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")  # control characters, DEL, backslash


def check_key(key: str, *, max_segment_bytes: int | None = None) -> str:
    """Return ``key`` if it is a safe object key, else raise ``Invalid`` saying why.

    A key is ``/``-separated, relative, UTF-8, at most ``MAX_KEY_BYTES`` long, with no empty,
    ``.`` or ``..`` segment, no backslash, NUL or control character, and no segment starting with
    ``.dynastore`` (reserved). ``max_segment_bytes``: a store whose names are file names (the
    local folder) also bounds each segment.
    """
    if not isinstance(key, str) or not key:
        raise Invalid("an object key must be a non-empty string")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise Invalid(f"object key {key!r} is not valid UTF-8") from exc
    if size > MAX_KEY_BYTES:
        raise Invalid(f"object key is {size} bytes long; at most {MAX_KEY_BYTES} are allowed")
    if _FORBIDDEN_KEY_CHARS.search(key):
        raise Invalid(f"object key {key!r} contains a backslash, NUL or control character")
    if key.startswith("/"):
        raise Invalid(f"object key {key!r} must be relative (no leading /)")
    long_key = max_segment_bytes is not None and size > max_segment_bytes  # else no segment can be too long
    for segment in key.split("/"):
        if not segment:
            raise Invalid(f"object key {key!r} has an empty path segment")
        if segment in (".", ".."):
            raise Invalid(f"object key {key!r} contains a '.' or '..' segment")
        if segment.startswith(RESERVED_PREFIX):
            raise Invalid(f"object key {key!r} uses the reserved prefix {RESERVED_PREFIX!r}")
        if long_key and len(segment.encode()) > cast(int, max_segment_bytes):
            raise Invalid(f"a segment of object key {key!r} is longer than {max_segment_bytes} bytes")
    return key
