"""UTC timestamps and RFC 3339 intervals."""

from __future__ import annotations

from datetime import UTC, datetime

from dynastore.errors import Invalid


def utcnow() -> datetime:
    return datetime.now(UTC)


def isoformat(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix; the one text form we store, so strings sort by time."""
    utc = value.astimezone(UTC)
    if utc.year >= 1000:  # the same text as strftime below, a few times faster (hot in bulk indexing)
        return utc.isoformat(timespec="microseconds")[:-6] + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_iso() -> str:
    return isoformat(utcnow())


def parse_datetime(value: str, what: str = "datetime") -> datetime:
    text = value.strip()
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(f"{what} {value!r} is not an RFC 3339 date-time (e.g. 2024-01-01T00:00:00Z)") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def normalize(value: str | datetime | None, what: str = "datetime") -> str | None:
    """Any accepted date-time input → the stored text form (or None)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return isoformat(value if value.tzinfo else value.replace(tzinfo=UTC))
    return isoformat(parse_datetime(value, what))


def parse_interval(value: str | None) -> tuple[str | None, str | None] | None:
    """A STAC ``datetime`` parameter (instant, ``a/b``, ``../b``, ``a/..``) → stored-form bounds."""
    if value is None or value.strip() == "":
        return None
    if "/" not in value:
        instant = normalize(value)
        return instant, instant
    start, _, end = value.partition("/")
    lo = None if start in ("", "..") else normalize(start)
    hi = None if end in ("", "..") else normalize(end)
    if lo is None and hi is None:
        raise Invalid("datetime interval needs at least one closed end, e.g. 2024-01-01T00:00:00Z/..")
    if lo and hi and lo > hi:
        raise Invalid(f"datetime interval {value!r} starts after it ends")
    return lo, hi
