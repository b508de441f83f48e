"""STAC request parameters (GET query parameters or a POST JSON body) → typed values for the STAC
service: ``ItemQuery`` and the ``Fields`` to render for item search, ``AssetQuery`` for asset search
and per-item assets. Bad input raises ``Invalid`` naming the parameter and what to send instead.
The asset-search terms ``/assets/search`` also takes are read by ``api.search_params``, once.

GET routes build the parsers' input from declared query parameters only (``item_search_query`` and
``item_list_query``, ``asset_search_query`` and ``asset_list_query``: FastAPI dependencies, so the
OpenAPI document lists each one); ``check_query_names`` first refuses names a route does not take and
repeats of ``*_ONE_VALUED`` parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from fastapi import Depends, Query

from dynastore.api.params import (
    CRS84,
    check_params,
    declared_input,
    json_value,
    one_value,
    parse_bbox,
    parse_filter,
    parse_limit,
    parse_sort,
    str_list,
)
from dynastore.api.search_params import free_text, media_types, named_catalogs, parse_count
from dynastore.config import Settings
from dynastore.domain import time as dtime
from dynastore.domain.filters import And, Compare, Expr, In, Like, Or, conjoin, from_mongo
from dynastore.domain.search import ASSET_SORT_FIELDS, ITEM_SORT_FIELDS, AssetQuery, ItemQuery
from dynastore.errors import Invalid
from dynastore.services.stac import ITEM_DATETIME_FIELDS, Fields, check_geometry

_QUERY_OPS = ("eq", "neq", "lt", "lte", "gt", "gte", "startsWith", "endsWith", "contains", "in")

ITEM_SEARCH_PARAMS = frozenset(
    {
        "collections",
        "ids",
        "bbox",
        "intersects",
        "datetime",
        "limit",
        "token",
        "filter",
        "filter-lang",
        "filter_lang",
        "filter-crs",
        "filter_crs",
        "sortby",
        "fields",
        "query",
        "q",
        "count",
    }
)
ASSET_SEARCH_PARAMS = ITEM_SEARCH_PARAMS | {"items", "roles", "type", "types", "catalog_id", "catalog_ids"}
# Repeating these in GET is refused; the others are lists (``filter``: the last one counts).
ITEM_ONE_VALUED = frozenset(
    {
        "q",
        "count",
        "limit",
        "token",
        "datetime",
        "query",
        "intersects",
        "filter-lang",
        "filter_lang",
        "filter-crs",
        "filter_crs",
    }
)
ASSET_ONE_VALUED = ITEM_ONE_VALUED - {"intersects"}


def parse_fields(value: Any) -> Fields:
    """``fields=id,-properties.x`` (GET) or ``{"include": [...], "exclude": [...]}`` (POST)."""
    if value in (None, "", {}, []):
        return Fields()
    if isinstance(value, dict):
        include, exclude = value.get("include") or [], value.get("exclude") or []
        if not isinstance(include, list) or not isinstance(exclude, list):
            raise Invalid("fields.include and fields.exclude are arrays of property paths")
        from_defaults = "include" in value and not include and bool(exclude)
        return Fields(tuple(str(v) for v in include), tuple(str(v) for v in exclude), from_defaults)
    parts: list[str] = []
    for entry in value if isinstance(value, list) else [value]:
        if not isinstance(entry, str):
            raise Invalid("fields is a comma-separated list such as id,properties.datetime,-assets")
        parts.extend(p.strip() for p in entry.split(",") if p.strip())
    include = tuple(p.lstrip("+") for p in parts if not p.startswith("-"))
    exclude = tuple(p[1:] for p in parts if p.startswith("-"))
    return Fields(include, exclude)


def compile_stac_query(value: Any) -> Expr | None:
    """The STAC Query extension (``{"eo:cloud_cover": {"lt": 10}}``) → the shared filter tree."""
    if value in (None, "", {}):
        return None
    value = json_value(value, "query")
    if not isinstance(value, dict):
        raise Invalid('query is a JSON object such as {"eo:cloud_cover": {"lt": 10}}')
    parts: list[Expr] = []
    for name, ops in value.items():
        path = name if name in ("id", "collection") or name.startswith("properties.") else f"properties.{name}"
        if not isinstance(ops, dict) or not ops:
            raise Invalid(f"query on {name!r} takes an object of operators: {', '.join(_QUERY_OPS)}")
        for op, operand in ops.items():
            if op in ("eq", "neq", "lt", "lte", "gt", "gte"):
                operand = _maybe_datetime(path, operand)
                compare_op: Any = "ne" if op == "neq" else op
                number = _as_number(operand)
                if number is None:
                    parts.append(Compare(compare_op, path, operand))
                else:  # "5" also compares as the number 5 (clients send query values as text)
                    both = (Compare(compare_op, path, operand), Compare(compare_op, path, number))
                    parts.append(And(both) if op == "neq" else Or(both))
            elif op in ("startsWith", "endsWith", "contains"):
                if not isinstance(operand, str):
                    raise Invalid(f"query {op} on {name!r} takes a string")
                escaped = operand.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                pattern = {"startsWith": f"{escaped}%", "endsWith": f"%{escaped}", "contains": f"%{escaped}%"}[op]
                parts.append(Like(path, pattern))
            elif op == "in":
                if not isinstance(operand, list):
                    raise Invalid(f"query in on {name!r} takes an array")
                values = [_maybe_datetime(path, v) for v in operand]
                numbers = [n for n in (_as_number(v) for v in values) if n is not None]
                parts.append(In(path, tuple(values + numbers)))
            else:
                raise Invalid(f"unknown query operator {op!r} on {name!r}; supported: {', '.join(_QUERY_OPS)}")
    return conjoin(*parts)


def _as_number(value: Any) -> float | None:
    """The number a text operand spells (``"5"``, ``"3.14"``), else None."""
    if not isinstance(value, str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


def _maybe_datetime(path: str, value: Any) -> Any:
    if isinstance(value, str) and path.rsplit(".", 1)[-1] in ITEM_DATETIME_FIELDS:
        try:
            return dtime.normalize(value)
        except Invalid:
            return value
    return value


def parse_intersects(value: Any) -> dict[str, Any] | None:
    if value in (None, "", {}):
        return None
    value = json_value(value, "intersects", "GeoJSON")
    check_geometry(value, "intersects")
    return dict(value)


_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def parse_datetime_param(value: Any) -> tuple[str | None, str | None] | None:
    """A STAC ``datetime``: an RFC 3339 date-time (with its offset) or an interval ``a/b`` (``..`` open)."""
    text = one_value(value, "datetime")
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise Invalid("datetime must be an RFC 3339 date-time or interval string")
    for end in text.split("/") if "/" in text else [text]:
        if end not in ("", "..") and not _RFC3339.match(end):
            raise Invalid(
                f"datetime {end!r} is not an RFC 3339 date-time such as 2024-01-01T00:00:00Z "
                "(date and time, with Z or an offset like +01:00)"
            )
    if text.count("/") > 1:
        raise Invalid("a datetime interval has one `/`: start/end, `..` for an open end")
    return dtime.parse_interval(text)


def parse_item_search(
    params: Mapping[str, Any],
    settings: Settings,
    *,
    catalog_ids: tuple[str, ...] = (),
    json_body: bool = False,
) -> tuple[ItemQuery, Fields]:
    """GET parameters (str or list of str) or a POST body → ``ItemQuery`` and the Fields to render."""
    check_params(params, ITEM_SEARCH_PARAMS)
    parse_count(params)  # checked here; the route reads it
    collections = str_list(params.get("collections"), "collections")
    ids = str_list(params.get("ids"), "ids")
    bbox = parse_bbox(params.get("bbox"), json_body=json_body)
    intersects = parse_intersects(one_value(params.get("intersects"), "intersects"))
    if bbox is not None and intersects is not None:
        raise Invalid("bbox and intersects cannot be used together")
    q = one_value(params.get("q"), "q")
    if isinstance(q, list):
        q = ",".join(str(v) for v in q)
    if q is not None and not isinstance(q, str):
        raise Invalid("q must be a string of comma-separated terms")
    token = one_value(params.get("token"), "token")
    query = ItemQuery(
        catalog_ids=catalog_ids,
        collections=collections,
        ids=ids,
        bbox=bbox,
        intersects=intersects,
        datetime=parse_datetime_param(params.get("datetime")),
        q=q.strip() if q and q.strip() else None,
        filter=conjoin(compile_stac_query(one_value(params.get("query"), "query")), parse_filter(params, "item")),
        sortby=parse_sort(params.get("sortby"), ITEM_SORT_FIELDS),
        limit=parse_limit(params.get("limit"), settings, default=min(settings.default_page_limit, 100), clamp=True),
        token=str(token) if token else None,
    )
    if json_body and "fields" in params and params["fields"] is None:
        raise Invalid('fields is an object {"include": [...], "exclude": [...]}, not null')
    return query, parse_fields(params.get("fields"))


def parse_asset_search(
    params: Mapping[str, Any],
    settings: Settings,
    *,
    catalog_ids: tuple[str, ...] = (),
    json_body: bool = False,
) -> AssetQuery:
    """STAC asset-search parameters → ``AssetQuery`` (item-search parameters on asset records)."""
    check_params(params, ASSET_SEARCH_PARAMS)
    parse_count(params)  # checked here; the route reads it
    if params.get("intersects") not in (None, "", {}):
        raise Invalid("asset-search filters space with bbox (matched against the asset's item geometry)")
    named = named_catalogs(params)
    if catalog_ids and named and set(named) - set(catalog_ids):
        raise Invalid("catalog_id names another catalog than this endpoint's")
    collections = str_list(params.get("collections"), "collections")
    items = str_list(params.get("items"), "items")
    extra: list[Expr | None] = []
    collection_id = item_id = None
    if len(collections) == 1:
        collection_id = collections[0]
    elif collections:
        extra.append(In("collection_id", collections))
    if len(items) == 1:
        item_id = items[0]
    elif items:
        extra.append(In("item_id", items))
    token = one_value(params.get("token"), "token")
    query_expr = _asset_query(one_value(params.get("query"), "query"))
    return AssetQuery(
        catalog_ids=named or catalog_ids,
        collection_id=collection_id,
        item_id=item_id,
        ids=str_list(params.get("ids"), "ids"),
        q=free_text(params),
        roles=str_list(params.get("roles"), "roles"),
        types=media_types(params),
        datetime=parse_datetime_param(params.get("datetime")),
        bbox=parse_bbox(params.get("bbox"), json_body=json_body),
        filter=conjoin(*extra, query_expr, parse_filter(params, "asset")),
        sortby=parse_sort(params.get("sortby"), ASSET_SORT_FIELDS),
        limit=parse_limit(params.get("limit"), settings, default=min(settings.default_page_limit, 100)),
        token=str(token) if token else None,
    )


def _asset_query(value: Any) -> Expr | None:
    """``query`` on asset-search: MongoDB-style (``$lt``) like ``/assets/search``, or STAC-style (``lt``)."""
    if value in (None, "", {}):
        return None
    value = json_value(value, "query")
    if isinstance(value, dict) and all(
        isinstance(ops, dict) and ops and all(not str(op).startswith("$") for op in ops) for ops in value.values()
    ):
        stac = compile_stac_query(value)
        return _strip_properties(stac)
    return from_mongo(value)


def _strip_properties(expr: Expr | None) -> Expr | None:
    """STAC query paths (``properties.x``) → asset document paths (``x``)."""
    if expr is None:
        return None
    if isinstance(expr, And):
        return And(tuple(_strip_properties(a) for a in expr.args))  # type: ignore[misc]
    if isinstance(expr, Compare | In | Like):
        return replace(expr, field=expr.field.removeprefix("properties."))
    return expr


# ----------------------------------------------------------------------------- declared GET parameters
# Lists are ``list[str]`` (repeated or comma-separated), the others ``str``; ``limit`` too, so the parser
# names the problem. Each dependency returns its parser's input shaped as ``multi_params`` shapes it.


_LIMIT_DOC = "page size; above the maximum, item searches cap it and asset searches refuse it"


def _paging_query(
    datetime: str | None = Query(default=None, description="instant or interval, `..` for an open end"),
    filter: str | None = Query(default=None, description="CQL2 text or JSON (repeated: the last one counts)"),
    filter_lang: str | None = Query(default=None, alias="filter-lang", description="cql2-text or cql2-json"),
    filter_lang_alias: str | None = Query(default=None, alias="filter_lang", include_in_schema=False),
    filter_crs: str | None = Query(default=None, alias="filter-crs", description=f"only {CRS84}"),
    filter_crs_alias: str | None = Query(default=None, alias="filter_crs", include_in_schema=False),
    sortby: list[str] | None = Query(default=None, description="`-datetime,+id` (comma-separated or repeated)"),
    limit: str | None = Query(
        default=None, description="page size; above the maximum item searches cap it, asset searches refuse it"
    ),
    token: str | None = Query(default=None, description="cursor from the `next` link"),
    count: str | None = Query(default=None, description="true: also answer numberMatched (counts every match)"),
) -> dict[str, Any]:
    """What item and asset searches share: time, CQL2 filter, sort, paging and the opt-in count."""
    return declared_input(
        {
            "datetime": datetime,
            "filter": filter,
            "filter-lang": filter_lang,
            "filter_lang": filter_lang_alias,
            "filter-crs": filter_crs,
            "filter_crs": filter_crs_alias,
            "sortby": sortby,
            "limit": limit,
            "token": token,
            "count": count,
        }
    )


def item_list_query(
    ids: list[str] | None = Query(default=None, description="item ids, any of"),
    bbox: list[str] | None = Query(default=None, description="west,south,east,north"),
    intersects: str | None = Query(default=None, description="GeoJSON geometry as JSON text (not with bbox)"),
    q: str | None = Query(default=None, description="free text over id, title, description, keywords; any term"),
    query: str | None = Query(default=None, description='STAC Query extension, e.g. {"eo:cloud_cover":{"lt":10}}'),
    fields: list[str] | None = Query(default=None, description="id,properties.datetime,-assets"),
    paging: dict[str, Any] = Depends(_paging_query),
) -> dict[str, Any]:
    """The GET parameters of the items of one collection → ``parse_item_search``'s input."""
    values = {"ids": ids, "bbox": bbox, "intersects": intersects, "q": q, "query": query, "fields": fields}
    return {**declared_input(values), **paging}


def item_search_query(
    collections: list[str] | None = Query(default=None, description="collection ids, any of"),
    rest: dict[str, Any] = Depends(item_list_query),
) -> dict[str, Any]:
    """The GET parameters of an item search → ``parse_item_search``'s input."""
    return {**declared_input({"collections": collections}), **rest}


def asset_list_query(
    ids: list[str] | None = Query(default=None, description="asset ids, any of"),
    roles: list[str] | None = Query(default=None, description="any of"),
    type: list[str] | None = Query(default=None, description="media types, any of"),
    types: list[str] | None = Query(default=None, include_in_schema=False),
    q: str | None = Query(default=None, description="case-insensitive substring of id, code, title, file name"),
    query: str | None = Query(
        default=None, description='JSON: MongoDB-style ({"file:size":{"$lt":10}}) or STAC-style ({"x":{"lt":10}})'
    ),
    fields: list[str] | None = Query(
        default=None, description="asset record members to keep or drop: title,roles or -created,-updated"
    ),
    paging: dict[str, Any] = Depends(_paging_query),
) -> dict[str, Any]:
    """The GET parameters of one item's assets → ``parse_asset_search``'s input. ``types`` aliases ``type``."""
    values = {"ids": ids, "roles": roles, "type": type, "types": types, "q": q, "query": query, "fields": fields}
    return {**declared_input(values), **paging}


def asset_search_query(
    catalog: list[str] | None = Query(default=None, alias="catalog_id", description="catalog ids, any of"),
    catalog_ids: list[str] | None = Query(default=None, include_in_schema=False),
    collections: list[str] | None = Query(default=None, description="collection ids, any of"),
    items: list[str] | None = Query(default=None, description="item ids, any of"),
    bbox: list[str] | None = Query(default=None, description="west,south,east,north (the asset's item geometry)"),
    intersects: list[str] | None = Query(default=None, include_in_schema=False),
    rest: dict[str, Any] = Depends(asset_list_query),
) -> dict[str, Any]:
    """The GET parameters of an asset search → ``parse_asset_search``'s input (``intersects`` is read to
    refuse it with the fix; ``catalog_ids`` aliases ``catalog_id``)."""
    values = {
        "catalog_id": catalog,
        "catalog_ids": catalog_ids,
        "collections": collections,
        "items": items,
        "bbox": bbox,
        "intersects": intersects,
    }
    return {**declared_input(values), **rest}
