"""Search requests and result pages: the search contract every MetadataStore implements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from dynastore.domain.filters import Expr
from dynastore.domain.limits import check_filter_expr
from dynastore.errors import Invalid

T = TypeVar("T")

# Fields an asset search may sort by; every backend can order by these (Firestore: declared indexes).
ASSET_SORT_FIELDS = (
    "id",
    "title",
    "created",
    "updated",
    "datetime",
    "file:size",
    "catalog_id",
    "collection_id",
    "item_id",
)
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

    def __post_init__(self) -> None:
        check_filter_expr(self.filter)  # however it was built (CQL2, query, both): within limits


@dataclass
class Page(Generic[T]):
    """One page of results; ``next_token`` is opaque and None on the last page."""

    items: list[T]
    next_token: str | None = None
    matched: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# Fields an item search may sort by (bare names; all but ``id``/``collection`` are Item properties).
ITEM_SORT_FIELDS = (
    "id",
    "collection",
    "datetime",
    "start_datetime",
    "end_datetime",
    "created",
    "updated",
    "title",
    "eo:cloud_cover",
)
ITEM_TOP_LEVEL_FIELDS = ("id", "collection")


def item_field_path(name: str) -> str:
    """The dotted document path of an item sort/queryable name: ``datetime`` → ``properties.datetime``."""
    name = name.removeprefix("properties.")
    return name if name in ITEM_TOP_LEVEL_FIELDS else f"properties.{name}"


@dataclass(frozen=True)
class ItemQuery:
    """What a STAC item search asks for. Empty fields do not filter.

    - ``catalog_ids``: the catalogs to search (the service resolves "all active" before asking).
    - ``collections`` / ``ids``: any of.
    - ``bbox`` / ``intersects``: the item geometry intersects it (both given: both must hold).
    - ``datetime``: stored-form bounds; an item matches if its ``datetime`` (or its
      ``start_datetime``/``end_datetime`` range) meets the interval, ends included.
    - ``q``: free text (STAC free-text, basic): comma-separated terms, any of which occurs as a
      case-insensitive substring of the item's id, title, description or keywords
      (``item_search_text``); ``free_text_terms`` splits it.
    - ``filter``: the compiled CQL2 ``filter`` and/or ``query`` (paths as in ``domain.cql2`` items).
    - ``sortby``: bare names from ``ITEM_SORT_FIELDS``; then ``catalog_id, collection, id`` as
      tie-breakers, so keyset paging is exact. Default order: ``catalog_id, collection, id``.
    - ``fields`` (the Fields extension) is applied when rendering, not here.
    """

    catalog_ids: tuple[str, ...]
    collections: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    bbox: tuple[float, ...] | None = None
    intersects: dict[str, Any] | None = None
    datetime: tuple[str | None, str | None] | None = None
    q: str | None = None
    filter: Expr | None = None
    sortby: tuple[SortKey, ...] = ()
    limit: int = 100
    token: str | None = None

    def __post_init__(self) -> None:
        check_filter_expr(self.filter)


def item_search_text(doc: dict[str, Any]) -> str:
    """The text free-text ``q`` matches in an item: id, title, description, keywords (lower case)."""
    props = doc.get("properties") or {}
    keywords = props.get("keywords") or []
    parts = [doc.get("id"), props.get("title"), props.get("description")]
    if isinstance(keywords, list):
        parts.extend(str(k) for k in keywords)
    return "\n".join(str(p) for p in parts if p).lower()


def item_time_bounds(doc: dict[str, Any]) -> tuple[str | None, str | None]:
    """The [start, end] an item covers, from ``datetime`` or ``start_/end_datetime``."""
    props = doc.get("properties") or {}
    if props.get("datetime"):
        return props["datetime"], props["datetime"]
    return props.get("start_datetime"), props.get("end_datetime")


def free_text_terms(q: str | None) -> tuple[str, ...]:
    """The lower-cased terms of a free-text ``q`` (comma-separated; any term may match)."""
    if not q:
        return ()
    return tuple(dict.fromkeys(t.strip().lower() for t in q.split(",") if t.strip()))


def meets_interval(bounds: tuple[str | None, str | None], interval: tuple[str | None, str | None]) -> bool:
    """Does a record covering ``bounds`` (stored-form [start, end], either end open) meet ``interval``
    (open ends None)? Ends are included; a record with no time at all meets nothing."""
    start, end = bounds
    lo, hi = interval
    if start is None and end is None:
        return False
    if hi is not None and start is not None and start > hi:
        return False
    return not (lo is not None and end is not None and end < lo)


def asset_matches(
    query: AssetQuery, doc: dict[str, Any], item_geometry: Callable[[dict[str, Any]], Any] | None = None
) -> bool:
    """Does a stored asset satisfy ``query``? The reference semantics every backend implements
    (the local backend in SQL; Firestore post-filters with this). ``item_geometry`` gives the
    geometry of an item-linked asset's item, for ``bbox``."""
    from dynastore.domain.asset import asset_level, search_text, time_bounds
    from dynastore.domain.filters import bbox_polygon, geometry_intersects, matches

    if doc.get("catalog_id") not in query.catalog_ids:
        return False
    if query.collection_id is not None and doc.get("collection_id") != query.collection_id:
        return False
    if query.item_id is not None and doc.get("item_id") != query.item_id:
        return False
    if query.level is not None and asset_level(doc.get("collection_id"), doc.get("item_id")) != query.level:
        return False
    if query.ids and doc.get("id") not in query.ids:
        return False
    if query.status and (doc.get("status") or "active") not in query.status:
        return False
    if query.types and doc.get("type") not in query.types:
        return False
    roles = doc.get("roles") or []
    if query.roles and not any(r in roles for r in query.roles):
        return False
    tags = doc.get("tags") or []
    if query.tags and not all(t in tags for t in query.tags):
        return False
    if query.datetime is not None and not meets_interval(time_bounds(doc), query.datetime):
        return False
    if query.q and query.q.lower() not in search_text(doc):
        return False
    if query.bbox is not None:
        if not doc.get("item_id") or item_geometry is None:
            return False
        geometry = item_geometry(doc)
        if geometry is None or not geometry_intersects(geometry, bbox_polygon(list(query.bbox))):
            return False
    return matches(query.filter, doc)


def item_matches(query: ItemQuery, doc: dict[str, Any]) -> bool:
    """Does a stored item (``doc`` of a catalog in ``query.catalog_ids``) satisfy every criterion
    of ``query`` but the catalog? The reference semantics every backend implements."""
    from dynastore.domain.filters import bbox_polygon, geometry_intersects, matches

    if query.collections and doc.get("collection") not in query.collections:
        return False
    if query.ids and doc.get("id") not in query.ids:
        return False
    geometry = doc.get("geometry") or doc.get("bbox")
    if query.bbox is not None and not geometry_intersects(geometry, bbox_polygon(list(query.bbox))):
        return False
    if query.intersects is not None and not geometry_intersects(geometry, query.intersects):
        return False
    if query.datetime is not None and not meets_interval(item_time_bounds(doc), query.datetime):
        return False
    terms = free_text_terms(query.q)
    if terms:
        text = item_search_text(doc)
        if not any(term in text for term in terms):
            return False
    return matches(query.filter, doc)
