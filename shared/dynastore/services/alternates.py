"""Other locations of an asset's bytes (``alternate``, seed 003): which one stands in for the primary.

An asset keeps its primary location in ``href`` (named by ``alternate:name``) and mirrors under
``alternate`` (``{name: {href, priority?, ...}}``). The order of mirrors is decided here, once:
``priority`` ascending (a number; mirrors without one come after every numbered one), then name.
Listing order is not used: Firestore and DynamoDB do not keep the key order of a map.

- ``promoted``: when the primary is gone (its object was deleted, or the reconciler found it
  missing) the first usable mirror becomes ``href``; the old primary stays under ``alternate``
  with ``unavailable: true`` (and when/why), so the asset keeps its id, history and search hit and
  stays ``active``. Mirrors marked unavailable are never promoted.
- ``download_source``: a download tries the primary, then each usable mirror in the same order,
  and skips a location in the catalog's storage whose object is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dynastore.domain import time as dtime
from dynastore.errors import NotFound
from dynastore.ports import BlobStore, Doc

PRIMARY_NAME = "primary"  # the name an old primary gets when it had no ``alternate:name``
_NO_PRIORITY = float("inf")


def mirrors(doc: Doc) -> list[tuple[str, Doc]]:
    """The usable mirrors of an asset (an href, not marked unavailable), best first."""
    alternate = doc.get("alternate") or {}
    usable = [
        (name, entry)
        for name, entry in alternate.items()
        if isinstance(entry, dict) and isinstance(entry.get("href"), str) and not entry.get("unavailable")
    ]
    return sorted(usable, key=lambda pair: (_priority(pair[1]), pair[0]))


def _priority(entry: Doc) -> float:
    value = entry.get("priority")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else _NO_PRIORITY


def promoted(doc: Doc, reason: str) -> tuple[Doc, Doc] | None:
    """(the asset with its best mirror as primary, audit details) or None when it has no usable mirror.

    The storage coordinates of the old primary are dropped (they named the gone object); size and
    checksum stay (a mirror holds the same bytes)."""
    candidates = mirrors(doc)
    if not candidates:
        return None
    name, entry = candidates[0]
    now = dtime.now_iso()
    old_name = doc.get("alternate:name") or PRIMARY_NAME
    alternate = {k: v for k, v in (doc.get("alternate") or {}).items() if k != name}
    old = {k: v for k, v in (alternate.get(old_name) or {}).items()}
    old.update({"href": doc["href"], "alternate:name": old_name, "unavailable": True, "unavailable_since": now})
    old["unavailable_reason"] = reason
    alternate[old_name] = old
    new = {
        **doc,
        "href": entry["href"],
        "alternate:name": name,
        "alternate": alternate,
        "storage": None,
        "status": "active",
        "deleted_at": None,
        "updated": now,
    }
    details = {"from_href": doc["href"], "from_name": old_name, "to_href": entry["href"], "to_name": name}
    return new, {**details, "reason": reason}


def download_source(
    doc: Doc,
    located: Callable[[str], tuple[BlobStore, str] | None],
    may_redirect: Callable[[str], bool],
) -> tuple[str, BlobStore | None, str | None]:
    """(href used, store, key) of the first location a download can serve: a stored object that
    exists (store and key), or an https URL ``may_redirect`` allows (store and key None).

    ``located``: the (store, key) of an href in the asset's catalog storage, else None.
    ``NotFound`` naming every location tried when none is usable."""
    tried: list[str] = []
    for href in [doc.get("href") or "", *(entry["href"] for _, entry in mirrors(doc))]:
        location = located(href)
        if location is not None:
            blobs, key = location
            try:
                blobs.stat(key)
            except NotFound:
                tried.append(f"{href} (object missing)")
                continue
            return href, blobs, key
        if href.startswith(("http://", "https://")) and may_redirect(href):
            return href, None, None
        tried.append(f"{href} (not served: only https URLs of public hosts and DYNASTORE_DOWNLOAD_ALLOWED_HOSTS)")
    raise NotFound(f"asset {doc.get('id')!r} has no location /download can serve; tried {'; '.join(tried)}")


def with_href(doc: Doc, href: str) -> dict[str, Any]:
    """``doc`` read at another of its locations (what ``stored_location`` takes)."""
    return {**doc, "href": href}
