"""Identifier rules shared by every record: URL-safe, stable, bounded."""

from __future__ import annotations

import hashlib
import re

from dynastore.errors import Invalid

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,254}$"
_ID_RE = re.compile(ID_PATTERN)
_UNSAFE = re.compile(r"[^A-Za-z0-9._~-]+")


def check_id(value: str, what: str = "id") -> str:
    """Return ``value`` if it is a URL-safe id, else raise ``Invalid`` saying what to fix."""
    if not isinstance(value, str) or not _ID_RE.match(value) or value in {".", ".."}:
        raise Invalid(
            f"{what} {value!r} is not URL-safe: use 1-255 characters from A-Z a-z 0-9 . _ ~ -, "
            "starting with a letter or digit"
        )
    return value


def slug(value: str, max_length: int = 200) -> str:
    """A deterministic URL-safe id derived from any string (e.g. an object key).

    Readable where it can be; a short hash suffix keeps distinct inputs distinct when characters
    had to be replaced or the string was truncated.
    """
    cleaned = _UNSAFE.sub("-", value).strip("-.~_") or "x"
    if cleaned == value and len(cleaned) <= max_length and _ID_RE.match(cleaned):
        return cleaned
    digest = hashlib.sha1(value.encode()).hexdigest()[:10]
    return f"{cleaned[: max_length - 11]}-{digest}"
