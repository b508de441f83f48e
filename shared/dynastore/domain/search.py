"""Search requests and result pages: the search contract every MetadataStore implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from dynastore.domain.filters import Expr
from dynastore.errors import Invalid

T = TypeVar("T")

# Fields an asset search may sort by; every backend can order by these (Firestore: declared indexes).
ASSET_SORT_FIELDS = ("id", "title", "created", "updated", "datetime", "file:size", "catalog_id", "collection_id", "item_id")
SortDirection = Literal["asc", "desc"]


@dataclass(frozen=True)
class SortKey:
    field: str
    direction: SortDirection = "asc"


def parse_sortby(value: str | list[Any] | None, allowed: tuple[str, ...] = ASSET_SORT_FIELDS) -> tuple[SortKey, ...]:
    """``-updated,+id`` / ``["-updated"]`` / ``[{"field": "updated", "direction": "desc"}]``."""
    if not value:
        return ()
    entries = value.split(",") if isinstance(value, str) else value
    keys: list[SortKey] = []
    for entry in entries:
        if isinstance(entry, dict):
            name, direction = str(entry.get("field", "")), str(entry.get("direction", "asc")).lower()
        else:
            text = str(entry).strip()
            direction = "desc" if text.startswith("-") else "asc"
            name = text.lstrip("+-").strip()
        name = name.removeprefix("properties.")
        if name not in allowed:
            raise Invalid(f"cannot sort by {name!r}; sortable fields: {', '.join(allowed)}")
        if direction not in ("asc", "desc"):
            raise Invalid(f"sort direction {direction!r} must be asc or desc")
        keys.append(SortKey(name, direction))  # type: ignore[arg-type]
    return tuple(keys)


@dataclass(frozen=True)
class AssetQuery:
    """What an asset search asks for. Empty fields do not filter.

    - ``catalog_ids``: the catalogs to search (the service resolves "all active" before asking).
    - ``roles``: any of; ``tags``: all of; ``types``: any of (media types, exact).
    - ``datetime``: stored-form bounds; an asset matches if its [start, end] meets the interval.
    - ``bbox``: item-linked assets whose item geometry intersects it.
    - ``q``: case-insensitive substring of ``domain.asset.search_text``.
    - ``status``: any of, default active only.
    - ``filter``: the compiled ``query`` and/or CQL2 ``filter``.
    - ``sortby``: then ``catalog_id, id`` as tie-breakers, so keyset paging is exact.
    """

    catalog_ids: tuple[str, ...]
    collection_id: str | None = None
    item_id: str | None = None
    level: Literal["catalog", "collection", "item"] | None = None
    ids: tuple[str, ...] = ()
    q: str | None = None
    roles: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    datetime: tuple[str | None, str | None] | None = None
    bbox: tuple[float, ...] | None = None
    status: tuple[str, ...] = ("active",)
    filter: Expr | None = None
    sortby: tuple[SortKey, ...] = ()
    limit: int = 100
    token: str | None = None


@dataclass
class Page(Generic[T]):
    """One page of results; ``next_token`` is opaque and None on the last page."""

    items: list[T]
    next_token: str | None = None
    matched: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
