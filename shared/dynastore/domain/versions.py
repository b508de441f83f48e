"""Immutable timestamped versions (seed 004, VERSIONS.md): the ``<name>@<stamp><ext>`` file-name
convention, the server stamp (compact in file names, display form in ``version``), the provenance
bundle id and the defaults of the mirrored ``sys:*`` fields. Pure: no I/O, no clock but ``now``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from dynastore.errors import Invalid

# ``name@<timestamp>.<ext>`` (seed 004) and the ``name@latest.<ext>`` alias.
VERSIONED_NAME = re.compile(r"^(?P<name>.+)@(?P<version>[0-9][0-9A-Za-z:\-.]*?|latest)(?P<ext>\.[A-Za-z0-9]+)?$")
LATEST = "latest"
# Compact stamp of a file name (``2025-08-11T1112Z``, ``2025-08-11T111205Z``, ``2025-08-11T111205.123Z``)
# and its display form (``2025-08-11T11:12Z``, ``2025-08-11T11:12:05Z``, ``2025-08-11T11:12:05.123Z``),
# the ``version`` of the asset record.
_COMPACT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})(?:(\d{2})(?:\.(\d{3}))?)?Z$")
_DISPLAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{3}))?)?Z$")
Precision = Literal["minutes", "seconds", "millis"]
_PRECISIONS: tuple[Precision, ...] = ("minutes", "seconds", "millis")
# What a published ``<name>`` may be (the part before ``@``): a plain, URL-safe word.
SERIES_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_~-]{0,99}$")
_EXT = re.compile(r"^\.[A-Za-z0-9]{1,16}$")

# The item properties a publish mirrors, with the value used when the publish does not say.
SYS_FIELDS: dict[str, str | float] = {
    "sys:state": "published",
    "sys:quality:completeness": "unknown",
    "sys:security:classification": "unclassified",
}
PROV_BUNDLE = "prov:bundle"
MAX_PUBLISH_FILES = 20  # files in one publish


@dataclass(frozen=True, order=True)
class VersionedFile:
    """One published version of a file: ``name@stamp ext``; orders by time."""

    when: datetime
    name: str
    stamp: str
    ext: str

    @property
    def file_name(self) -> str:
        return f"{self.name}@{self.stamp}{self.ext}"

    @property
    def precision(self) -> Precision:
        return "millis" if "." in self.stamp else "seconds" if len(self.stamp) > len("2025-08-11T1112Z") else "minutes"

    @property
    def display(self) -> str:
        return display_version(self.when, precision=self.precision)


def now() -> datetime:
    return datetime.now(UTC)


def stamp(when: datetime, *, seconds: bool = False, precision: Precision | None = None) -> str:
    """The compact UTC stamp of ``when``: minutes; seconds for a second publish within the minute;
    milliseconds for one within the second (``precision`` wins over ``seconds``)."""
    when = when.astimezone(UTC)
    precision = precision or ("seconds" if seconds else "minutes")
    if precision == "millis":
        return when.strftime("%Y-%m-%dT%H%M%S.") + f"{when.microsecond // 1000:03d}Z"
    return when.strftime("%Y-%m-%dT%H%M%SZ" if precision == "seconds" else "%Y-%m-%dT%H%MZ")


def display_version(when: datetime, *, seconds: bool = False, precision: Precision | None = None) -> str:
    when = when.astimezone(UTC)
    precision = precision or ("seconds" if seconds else "minutes")
    if precision == "millis":
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    return when.strftime("%Y-%m-%dT%H:%M:%SZ" if precision == "seconds" else "%Y-%m-%dT%H:%MZ")


def stamp_candidates(when: datetime, attempts: int) -> list[str]:
    """The stamps a publish at ``when`` tries, in order: minutes, seconds, milliseconds, then the
    following milliseconds (each later than the one before, so versions keep publish order)."""
    when = when.astimezone(UTC)
    out = [stamp(when, precision=p) for p in _PRECISIONS]
    millis = when.replace(microsecond=when.microsecond // 1000 * 1000)
    out.extend(stamp(millis + timedelta(milliseconds=n), precision="millis") for n in range(1, attempts))
    return out


def parse_stamp(text: str) -> datetime | None:
    """The time of a compact or display stamp, None if ``text`` is neither (or not a real time)."""
    match = _COMPACT.match(text) or _DISPLAY.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, millis = (int(g) if g else 0 for g in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, millis * 1000, tzinfo=UTC)
    except ValueError:
        return None


def parse_versioned(file_name: str) -> VersionedFile | None:
    """The version a file name carries (``track@2025-08-11T1112Z.geojson``), None for any other name
    (including the ``@latest`` alias and a text after ``@`` that is not a stamp)."""
    match = VERSIONED_NAME.match(file_name)
    if match is None or match.group("version") == LATEST:
        return None
    text, ext = match.group("version"), match.group("ext") or ""
    if not _COMPACT.match(text) and _COMPACT.match(text + ext):
        text, ext = text + ext, ""  # a milliseconds stamp without an extension: ``x@...05.123Z``
    when = parse_stamp(text)
    if when is None or not _COMPACT.match(text):
        return None
    return VersionedFile(when, match.group("name"), text, ext)


def split_file_name(file_name: str) -> tuple[str, str]:
    """``(name, ext)`` of a file to publish (``track.geojson`` → ``("track", ".geojson")``); ``Invalid``
    naming the fix when it already carries a version or is not a plain name."""
    if "@" in file_name:
        raise Invalid(
            f"file name {file_name!r} contains '@': the server stamps each version itself; "
            "send the plain name, e.g. track.geojson"
        )
    base, dot, ext = file_name.rpartition(".")
    name, suffix = (base, f".{ext}") if dot and base else (file_name, "")
    if not SERIES_NAME.match(name) or (suffix and not _EXT.match(suffix)):
        raise Invalid(
            f"file name {file_name!r} is not publishable: use <name>[.<ext>] with a name of 1-100 characters "
            "from A-Z a-z 0-9 _ ~ - (starting with a letter or digit) and an extension of letters and digits"
        )
    return name, suffix


def check_series_name(name: str) -> str:
    if not isinstance(name, str) or not SERIES_NAME.match(name):
        raise Invalid(
            f"name {name!r} is not a version name: give the part before '@' (e.g. name=track), "
            "1-100 characters from A-Z a-z 0-9 _ ~ -"
        )
    return name


def bundle_id(item_id: str, stamp_text: str) -> str:
    """The PROV bundle of one publish of an item: ``prov://<item-id>@<stamp>``."""
    return f"prov://{item_id}@{stamp_text}"


def alias_name(ref: str) -> str | None:
    """The ``<name>`` of an ``@latest`` alias (``track@latest``, ``track@latest.geojson``), else None."""
    match = VERSIONED_NAME.match(ref)
    if match is None or match.group("version") != LATEST:
        return None
    return match.group("name")
