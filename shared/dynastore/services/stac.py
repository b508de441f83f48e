"""The STAC API use cases: collections/items CRUD (Transaction), item search, asset search, per-item assets.

Stored shapes: a collection or item is its STAC JSON (validated with pystac against the bundled
STAC 1.1.0 core schemas on every write) plus ``catalog_id`` and ``rev``; ``links`` hold only the
client's own links (the managed ones — self, root, parent, collection, items, assets — are
rendered per request). Item datetimes are stored in the one text form of ``domain.time`` so that
text order is time order in every backend.

Item assets are first-class asset records (``store.search_assets``): an item document embeds a
bounded selection of them (``StacService.embedded_assets``) and links (rel ``assets``, with the
total) to the paginated per-item assets endpoint. Assets posted inline with an item become asset
records of that item; their key is their asset id (unique in the catalog), so a key another item
of the catalog already uses is stored as ``<item>.<key>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeVar

import pystac
from pydantic import ValidationError

from dynastore.config import Settings
from dynastore.domain import time as dtime
from dynastore.domain.asset import METADATA_ROLES, Asset, AssetFields, asset_path, file_name
from dynastore.domain.audit import AuditEvent
from dynastore.domain.filters import And, Compare, Exists, Expr, In, Like, Not, Or, conjoin, from_mongo
from dynastore.domain.ids import check_id, slug
from dynastore.domain.search import (
    ASSET_SORT_FIELDS,
    ITEM_SORT_FIELDS,
    AssetQuery,
    ItemQuery,
    Page,
    SortKey,
    parse_sortby,
)
from dynastore.errors import Conflict, Invalid, NotFound, PreconditionFailed
from dynastore.ports import AssetWrite, Doc, MetadataStore
from dynastore.services.catalogs import CatalogService
from dynastore.services.params import (
    check_params,
    json_value,
    one_value,
    parse_bbox,
    parse_filter,
    parse_limit,
    str_list,
)
from dynastore.services.patching import merge_patch, validation_detail

STAC_VERSION = pystac.get_stac_version()
GEOJSON = "application/geo+json"
JSON = "application/json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.1"  # what /api answers to this Accept
SCHEMA_JSON = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"

# Our own conformance classes (documented in the README, section "STAC API").
ASSET_SEARCH_CONFORMANCE = "https://dynastore.dev/stac-api/v1.0.0/asset-search"
ITEM_ASSETS_CONFORMANCE = "https://dynastore.dev/stac-api/v1.0.0/item-assets"

_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf"
_FILTER_CONFORMANCE = (
    "https://api.stacspec.org/v1.0.0-rc.2/item-search#filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    f"{_CQL2}/cql2-text",
    f"{_CQL2}/cql2-json",
    f"{_CQL2}/basic-cql2",
    f"{_CQL2}/advanced-comparison-operators",
    f"{_CQL2}/case-insensitive-comparison",
    f"{_CQL2}/basic-spatial-functions",
    f"{_CQL2}/basic-spatial-functions-plus",
)
SEARCH_CONFORMANCE = (
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/item-search#fields",
    "https://api.stacspec.org/v1.0.0/item-search#sort",
    "https://api.stacspec.org/v1.0.0/item-search#query",
    "https://api.stacspec.org/v1.0.0-rc.1/item-search#free-text",
    *_FILTER_CONFORMANCE,
    ASSET_SEARCH_CONFORMANCE,
)
CATALOG_CONFORMANCE = (
    *SEARCH_CONFORMANCE,
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#fields",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#sort",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#query",
    "https://api.stacspec.org/v1.0.0-rc.2/ogcapi-features#filter",
    "https://api.stacspec.org/v1.0.0/ogcapi-features/extensions/transaction",
    "https://api.stacspec.org/v1.0.0/collections/extensions/transaction",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    ITEM_ASSETS_CONFORMANCE,
)

# Links the service renders; client links with these relations are dropped on write.
MANAGED_RELS = frozenset({"self", "root", "parent", "collection", "items", "assets", "child", "item", QUERYABLES_REL})
# Item document bounds (DESIGN §4.2): metadata-like assets and version history are embedded up to
# these caps; versioned assets are read newest first up to VERSION_SCAN_MAX to pick the history.
METADATA_EMBED_MAX = 100
VERSIONED_EMBED_MAX = 100
VERSION_SCAN_MAX = 1000
ITEM_DATETIME_FIELDS = ("datetime", "start_datetime", "end_datetime", "created", "updated")
# ``name@<timestamp>.<ext>`` (seed 004) and the ``name@latest.<ext>`` alias.
VERSIONED_NAME = re.compile(r"^(?P<name>.+)@(?P<version>[0-9][0-9A-Za-z:\-.]*?|latest)(?P<ext>\.[A-Za-z0-9]+)?$")
VERSIONED_FILTER: Expr = Or((Exists("version"), Like("href", "%@%")))
# Asset document fields that stay out of a rendered STAC Asset Object (scope, lifecycle, storage).
_ASSET_INTERNAL = frozenset({"id", "catalog_id", "collection_id", "item_id", "status", "storage", "rev", "deleted_at"})
_ITEM_PRIVATE = ("catalog_id", "rev")
_QUERY_OPS = ("eq", "neq", "lt", "lte", "gt", "gte", "startsWith", "endsWith", "contains", "in")


# ======================================================================================= parsing


@dataclass(frozen=True)
class Fields:
    """The Fields extension: dotted paths to include and exclude."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    # POST ``{"include": [] or null, "exclude": [...]}``: exclude from the default set, not the item
    from_defaults: bool = False

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)


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


# What an item keeps whatever ``include`` says (the Fields extension lets a server add these).
_FIELDS_ALWAYS = ("type", "stac_version", "id", "links")
# The Fields extension's default set.
_FIELDS_DEFAULT = (
    "collection", "geometry", "bbox", "assets",
    "properties.datetime", "properties.start_datetime", "properties.end_datetime",
)


def apply_fields(doc: Doc, fields: Fields) -> Doc:
    """Shape a rendered item per the Fields extension.

    With ``include``: the always-kept members plus the included paths; else the whole item. Then
    ``exclude`` removes paths, except that an included path wins over an exclusion of itself or of
    a parent (``-properties,+properties.eo:cloud_cover`` keeps that one property).
    """
    if not fields:
        return doc
    if fields.include or fields.from_defaults:
        out: Doc = {k: doc[k] for k in _FIELDS_ALWAYS if k in doc}
        for path in fields.include or _FIELDS_DEFAULT:
            _copy_path(doc, out, path.split("."))
    else:
        out = _deep_copy_dicts(doc)
    for path in fields.exclude:
        if path.split(".")[0] in ("id", "type", "links") or path in fields.include:
            continue
        _drop_path(out, path.split("."))
    for path in fields.include:
        if any(path == ex or path.startswith(f"{ex}.") for ex in fields.exclude):
            _copy_path(doc, out, path.split("."))
    return out


def _deep_copy_dicts(value: Any) -> Any:
    return {k: _deep_copy_dicts(v) for k, v in value.items()} if isinstance(value, dict) else value


def _copy_path(src: Any, dest: Doc, parts: list[str]) -> None:
    if not isinstance(src, dict) or parts[0] not in src:
        return
    if len(parts) == 1:
        dest[parts[0]] = src[parts[0]]
        return
    child = dest.setdefault(parts[0], {})
    if isinstance(child, dict):
        _copy_path(src[parts[0]], child, parts[1:])


def _drop_path(doc: Any, parts: list[str]) -> None:
    if not isinstance(doc, dict):
        return
    if len(parts) == 1:
        doc.pop(parts[0], None)
    elif parts[0] in doc:
        _drop_path(doc[parts[0]], parts[1:])


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


def check_geometry(value: Any, what: str) -> None:
    from shapely.geometry import shape

    if not isinstance(value, dict) or "type" not in value:
        raise Invalid(f"{what} must be a GeoJSON geometry")
    try:
        shape(value)
    except Exception as exc:  # shapely raises several types for bad GeoJSON
        raise Invalid(f"{what} is not a valid GeoJSON geometry: {exc}") from None


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
    }
)
ASSET_SEARCH_PARAMS = ITEM_SEARCH_PARAMS | {"items", "roles", "type", "types", "catalog_id", "catalog_ids"}


def _sort_keys(value: Any, allowed: tuple[str, ...]) -> tuple[SortKey, ...]:
    """GET ``sortby=-datetime,+id`` (maybe repeated) or POST ``[{"field", "direction"}]``."""
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        value = ",".join(value)
    if value is not None and not isinstance(value, str | list):
        raise Invalid('sortby is "-datetime,+id" or [{"field": "datetime", "direction": "desc"}]')
    return parse_sortby(value or None, allowed)


def parse_item_search(
    params: Mapping[str, Any],
    settings: Settings,
    *,
    catalog_ids: tuple[str, ...] = (),
    json_body: bool = False,
) -> tuple[ItemQuery, Fields]:
    """GET parameters (str or list of str) or a POST body → ``ItemQuery`` and the Fields to render."""
    check_params(params, ITEM_SEARCH_PARAMS)
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
        sortby=_sort_keys(params.get("sortby"), ITEM_SORT_FIELDS),
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
    if params.get("intersects") not in (None, "", {}):
        raise Invalid("asset-search filters space with bbox (matched against the asset's item geometry)")
    named = str_list(params.get("catalog_id"), "catalog_id") + str_list(params.get("catalog_ids"), "catalog_ids")
    for catalog_id in named:
        check_id(catalog_id, "catalog_id")
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
    q = one_value(params.get("q"), "q")
    if q is not None and not isinstance(q, str):
        raise Invalid("q must be a string")
    token = one_value(params.get("token"), "token")
    query_expr = _asset_query(one_value(params.get("query"), "query"))
    return AssetQuery(
        catalog_ids=named or catalog_ids,
        collection_id=collection_id,
        item_id=item_id,
        ids=str_list(params.get("ids"), "ids"),
        q=q.strip() if q and q.strip() else None,
        roles=str_list(params.get("roles"), "roles"),
        types=str_list(params.get("type"), "type") + str_list(params.get("types"), "types"),
        datetime=parse_datetime_param(params.get("datetime")),
        bbox=parse_bbox(params.get("bbox"), json_body=json_body),
        filter=conjoin(*extra, query_expr, parse_filter(params, "asset")),
        sortby=_sort_keys(params.get("sortby"), ASSET_SORT_FIELDS),
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


# ======================================================================================= links


class Links:
    """URLs of the STAC API below ``{base}/stac``."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.stac = f"{self.base}/stac"

    def catalog(self, c: str) -> str:
        return f"{self.stac}/catalogs/{c}"

    def collections(self, c: str) -> str:
        return f"{self.catalog(c)}/collections"

    def collection(self, c: str, col: str) -> str:
        return f"{self.collections(c)}/{col}"

    def items(self, c: str, col: str) -> str:
        return f"{self.collection(c, col)}/items"

    def item(self, c: str, col: str, item: str) -> str:
        return f"{self.items(c, col)}/{item}"

    def item_assets(self, c: str, col: str, item: str) -> str:
        return f"{self.item(c, col, item)}/assets"

    def asset_api(self, doc: Doc) -> str:
        """The asset's URL in the asset management API (``/assets/...``)."""
        return f"{self.base}{asset_path(doc)}"


def link(rel: str, href: str, media_type: str | None = JSON, title: str | None = None, **extra: Any) -> Doc:
    out: Doc = {"rel": rel, "href": href}
    if media_type:
        out["type"] = media_type
    if title:
        out["title"] = title
    out.update(extra)
    return out


def _search_links(base: str, scope: str = "") -> list[Doc]:
    """A landing page's links to item search and asset search (GET and POST) and to its queryables."""
    methods = ("GET", "POST")
    return [
        *(link("search", f"{base}/search", GEOJSON, f"Item search{scope}", method=m) for m in methods),
        *(link("asset-search", f"{base}/asset-search", JSON, f"Asset search{scope}", method=m) for m in methods),
        link(QUERYABLES_REL, f"{base}/queryables", SCHEMA_JSON, "Queryables"),
    ]


# ======================================================================================= service


def _audit(catalog_id: str, record_type: str, record_id: str, action: str, actor: str, **details: Any) -> Doc:
    return AuditEvent(
        catalog_id=catalog_id,
        record_type=record_type,  # type: ignore[arg-type]
        record_id=record_id,
        action=action,
        actor=actor,
        details=details,
    ).to_doc()


_VALIDATORS: dict[str, Any] = {}


def _validator(kind: str) -> Any:
    """A jsonschema validator of a STAC core schema bundled with pystac, built once per process
    (pystac's own validator re-checks the schema and rebuilds its registry on every call)."""
    if kind not in _VALIDATORS:
        import jsonschema
        from pystac.validation.local_validator import get_local_schema_cache
        from referencing import Registry, Resource

        cache = get_local_schema_cache()
        registry: Any = Registry().with_resources((uri, Resource.from_contents(doc)) for uri, doc in cache.items())
        folder = {"Item": "item", "Collection": "collection", "Catalog": "catalog"}[kind]
        uri = f"https://schemas.stacspec.org/v{STAC_VERSION}/{folder}-spec/json-schema/{folder}.json"
        schema = cache[uri]
        _VALIDATORS[kind] = jsonschema.validators.validator_for(schema)(schema, registry=registry)
    return _VALIDATORS[kind]


def validate_stac(doc: Doc, kind: Literal["Item", "Collection", "Catalog"]) -> None:
    """Validate against the STAC core JSON schema bundled with pystac (offline); ``Invalid`` with the reason."""
    import jsonschema

    best = jsonschema.exceptions.best_match(_validator(kind).iter_errors(doc))
    if best is not None:
        where = "/".join(str(p) for p in best.absolute_path)
        raise Invalid(f"not a valid STAC {kind}{f' at {where}' if where else ''}: {best.message}")


class StacService:
    def __init__(self, settings: Settings, store: MetadataStore, catalogs: CatalogService) -> None:
        self.settings = settings
        self.store = store
        self.catalogs = catalogs

    # ------------------------------------------------------------------------- landing pages

    def root(self, links: Links) -> Doc:
        """``/stac``: a STAC Catalog linking every active catalog, search and asset-search."""
        out_links = [
            link("self", links.stac),
            link("root", links.stac),
            link("conformance", f"{links.stac}/conformance", title="Conformance classes"),
            link("service-desc", f"{links.base}/api", OPENAPI, "OpenAPI definition"),
            link("service-doc", f"{links.base}/api.html", "text/html", "API documentation"),
            *_search_links(links.stac, " across catalogs"),
        ]
        for catalog in self.catalogs.active():
            out_links.append(link("child", links.catalog(catalog["id"]), JSON, catalog.get("title") or catalog["id"]))
        doc = {
            "type": "Catalog",
            "stac_version": STAC_VERSION,
            "id": "dynastore",
            "title": "Dynastore Assets",
            "description": "Every catalog of this deployment; each is a STAC API of its own.",
            "conformsTo": list(SEARCH_CONFORMANCE),
            "links": out_links,
        }
        return self._render_catalog(doc)

    def landing(self, catalog_id: str, links: Links) -> Doc:
        """``/stac/catalogs/{c}``: a full STAC API landing page for one catalog."""
        catalog = self.catalogs.require_active(catalog_id)
        base = links.catalog(catalog_id)
        out_links = [
            link("self", base),
            link("root", base),
            link("parent", links.stac, title="All catalogs"),
            link("conformance", f"{base}/conformance", title="Conformance classes"),
            link("data", links.collections(catalog_id), JSON, "Collections"),
            link("service-desc", f"{links.base}/api", OPENAPI, "OpenAPI definition"),
            link("service-doc", f"{links.base}/api.html", "text/html", "API documentation"),
            *_search_links(base),
        ]
        for collection in self._all_collections(catalog_id):
            out_links.append(
                link("child", links.collection(catalog_id, collection["id"]), JSON, collection.get("title") or None)
            )
        doc = {
            "type": "Catalog",
            "stac_version": STAC_VERSION,
            "id": catalog_id,
            "title": catalog.get("title") or catalog_id,
            "description": catalog.get("description") or f"Catalog {catalog_id}",
            "conformsTo": list(CATALOG_CONFORMANCE),
            "links": out_links,
        }
        if catalog.get("keywords"):
            doc["keywords"] = catalog["keywords"]
        return self._render_catalog(doc)

    def conformance(self, catalog_id: str | None = None) -> Doc:
        if catalog_id is None:
            return {"conformsTo": list(SEARCH_CONFORMANCE)}
        self.catalogs.require_active(catalog_id)
        return {"conformsTo": list(CATALOG_CONFORMANCE)}

    def queryables(self, links: Links, catalog_id: str | None, collection_id: str | None = None) -> Doc:
        """JSON Schema of what a CQL2 filter may name (any property is accepted; these are the known ones)."""
        url = f"{links.stac}/queryables"
        if catalog_id is not None:
            self.catalogs.require_active(catalog_id)
            url = f"{links.catalog(catalog_id)}/queryables"
            if collection_id is not None:
                self.get_collection_doc(catalog_id, collection_id)
                url = f"{links.collection(catalog_id, collection_id)}/queryables"
        dt = {"type": "string", "format": "date-time"}
        return {
            "$schema": "https://json-schema.org/draft/2019-09/schema",
            "$id": url,
            "type": "object",
            "title": "Queryables",
            "properties": {
                "id": {"description": "Item id", "type": "string"},
                "collection": {"description": "Collection id", "type": "string"},
                "geometry": {"description": "Item geometry (s_intersects)", "format": "geometry-any"},
                "datetime": {"description": "Item datetime", **dt},
                "start_datetime": {"description": "Start of the item's time range", **dt},
                "end_datetime": {"description": "End of the item's time range", **dt},
                "created": dt,
                "updated": dt,
                "title": {"type": "string"},
                "description": {"type": "string"},
                "keywords": {"type": "array", "items": {"type": "string"}},
                "platform": {"type": "string"},
                "instruments": {"type": "array", "items": {"type": "string"}},
                "eo:cloud_cover": {"type": "number", "minimum": 0, "maximum": 100},
                "gsd": {"type": "number"},
            },
            "additionalProperties": True,
        }

    @staticmethod
    def _render_catalog(doc: Doc) -> Doc:
        catalog = pystac.Catalog(id=doc["id"], description=doc["description"], title=doc.get("title"))
        out = catalog.to_dict(include_self_link=False, transform_hrefs=False)
        out.update({k: v for k, v in doc.items() if k not in ("stac_version", "type")})
        out["links"] = doc["links"]
        out.pop("stac_extensions", None) if not out.get("stac_extensions") else None
        return out

    def _all_collections(self, catalog_id: str, cap: int = 1000) -> list[Doc]:
        out: list[Doc] = []
        token: str | None = None
        while len(out) < cap:
            page = self.store.list_collections(catalog_id, limit=min(1000, cap - len(out)), token=token)
            out.extend(page.items)
            token = page.next_token
            if not token:
                break
        return out

    # ------------------------------------------------------------------------- collections

    def get_collection_doc(self, catalog_id: str, collection_id: str) -> Doc:
        self.catalogs.require_active(catalog_id)
        try:
            return self.store.get_collection(catalog_id, collection_id)
        except NotFound:
            raise NotFound(f"collection {collection_id!r} does not exist in catalog {catalog_id!r}") from None

    def list_collections(self, catalog_id: str, *, limit: int, token: str | None) -> Page[Doc]:
        self.catalogs.require_active(catalog_id)
        return self.store.list_collections(catalog_id, limit=limit, token=token)

    def create_collection(self, catalog_id: str, body: Any, *, actor: str) -> Doc:
        self.catalogs.require_active(catalog_id)
        doc = self._collection_doc(catalog_id, body, None)
        audit = _audit(catalog_id, "collection", doc["id"], "create", actor)
        try:
            return self.store.put_collection(catalog_id, doc, expect_rev=0, audit=audit)
        except Conflict:
            raise Conflict(
                f"collection {doc['id']!r} exists already in catalog {catalog_id!r}; PUT replaces it"
            ) from None

    def replace_collection(
        self, catalog_id: str, collection_id: str, body: Any, *, actor: str, if_rev: int | None = None
    ) -> tuple[Doc, bool]:
        """PUT: replace (or create). Returns (doc, created)."""
        check_id(collection_id, "collection id")
        self.catalogs.require_active(catalog_id)
        if isinstance(body, dict) and body.get("id") not in (None, collection_id):
            raise Invalid(f"body id {body.get('id')!r} differs from the path id {collection_id!r}")
        try:
            current: Doc | None = self.store.get_collection(catalog_id, collection_id)
        except NotFound:
            current = None
        doc = self._collection_doc(
            catalog_id, {**body, "id": collection_id} if isinstance(body, dict) else body, current
        )
        expect = _expect(current, if_rev)
        action = "create" if current is None else "replace"
        stored = self.store.put_collection(
            catalog_id, doc, expect_rev=expect, audit=_audit(catalog_id, "collection", collection_id, action, actor)
        )
        return stored, current is None

    def patch_collection(
        self, catalog_id: str, collection_id: str, patch: Any, *, actor: str, if_rev: int | None = None
    ) -> Doc:
        current = self.get_collection_doc(catalog_id, collection_id)
        if not isinstance(patch, dict):
            raise Invalid("a PATCH body is a JSON object (RFC 7386 merge patch)")
        if "id" in patch and patch["id"] != collection_id:
            raise Invalid("a collection id cannot be changed")
        merged = merge_patch(_client_view(current), patch)
        doc = self._collection_doc(catalog_id, merged, current)
        audit = _audit(catalog_id, "collection", collection_id, "update", actor, patch=patch)
        return self.store.put_collection(catalog_id, doc, expect_rev=_expect(current, if_rev), audit=audit)

    def delete_collection(self, catalog_id: str, collection_id: str, *, actor: str) -> None:
        self.get_collection_doc(catalog_id, collection_id)
        audit = _audit(catalog_id, "collection", collection_id, "delete", actor)
        self.store.delete_collection(catalog_id, collection_id, audit=audit)

    def _collection_doc(self, catalog_id: str, body: Any, current: Doc | None) -> Doc:
        if not isinstance(body, dict):
            raise Invalid("a collection is a JSON object (a STAC Collection)")
        if body.get("type", "Collection") != "Collection":
            raise Invalid('a STAC Collection has type "Collection"')
        collection_id = body.get("id")
        if not isinstance(collection_id, str):
            raise Invalid("a collection needs an `id` (URL-safe: A-Z a-z 0-9 . _ ~ -)")
        check_id(collection_id, "collection id")
        doc = _with_collection_defaults({**_client_view(body), "type": "Collection"}, collection_id)
        doc["links"] = _client_links(body.get("links"))
        now = dtime.now_iso()
        doc["created"] = (current or {}).get("created") or now
        doc["updated"] = now
        validate_stac({**doc, "links": []}, "Collection")
        try:
            collection = pystac.Collection.from_dict(doc, migrate=False, preserve_dict=True)
            rendered = collection.to_dict(include_self_link=False, transform_hrefs=False)
        except (KeyError, TypeError, ValueError, AttributeError, pystac.STACError) as exc:
            raise Invalid(f"not a valid STAC Collection: {exc!r}") from None
        rendered["links"] = doc["links"]
        rendered["catalog_id"] = catalog_id
        return rendered

    def render_collection(self, doc: Doc, catalog_id: str, links: Links) -> Doc:
        col = doc["id"]
        out = _with_collection_defaults({"type": "Collection", **_client_view(doc)}, col)
        out["links"] = [
            link("self", links.collection(catalog_id, col)),
            link("root", links.catalog(catalog_id)),
            link("parent", links.catalog(catalog_id)),
            link("items", links.items(catalog_id, col), GEOJSON, "Items"),
            link(QUERYABLES_REL, f"{links.collection(catalog_id, col)}/queryables", SCHEMA_JSON, "Queryables"),
            *_client_links(doc.get("links")),
        ]
        return out

    # ------------------------------------------------------------------------- items

    def get_item_doc(self, catalog_id: str, collection_id: str, item_id: str) -> Doc:
        self.get_collection_doc(catalog_id, collection_id)
        try:
            return self.store.get_item(catalog_id, collection_id, item_id)
        except NotFound:
            raise NotFound(
                f"item {item_id!r} does not exist in collection {collection_id!r} of catalog {catalog_id!r}"
            ) from None

    def create_item(self, catalog_id: str, collection_id: str, body: Any, *, actor: str) -> Doc:
        self.get_collection_doc(catalog_id, collection_id)
        doc, inline_assets = self._item_doc(catalog_id, collection_id, body, None)
        writes = self._inline_asset_writes(catalog_id, collection_id, doc["id"], inline_assets, actor)
        audit = _audit(catalog_id, "item", doc["id"], "create", actor, assets=len(writes))
        try:
            stored = self.store.put_item(catalog_id, doc, expect_rev=0, audit=audit)
        except Conflict:
            raise Conflict(
                f"item {doc['id']!r} exists already in collection {collection_id!r}; PUT replaces it"
            ) from None
        self._write_inline_assets(writes)
        return stored

    def create_items(self, catalog_id: str, collection_id: str, features: Any, *, actor: str) -> list[Doc]:
        """POST of a FeatureCollection: every item is validated (and must be new) before any is written."""
        self.get_collection_doc(catalog_id, collection_id)
        if not isinstance(features, list) or not features:
            raise Invalid("a FeatureCollection needs a non-empty features array")
        if len(features) > 10_000:
            raise Invalid("at most 10,000 items in one FeatureCollection")
        planned: list[tuple[Doc, list[tuple[AssetWrite, Doc]]]] = []
        seen: set[str] = set()
        for index, feature in enumerate(features):
            try:
                doc, inline = self._item_doc(catalog_id, collection_id, feature, None)
                if doc["id"] in seen:
                    raise Invalid(f"item id {doc['id']!r} appears twice")
                seen.add(doc["id"])
                try:
                    self.store.get_item(catalog_id, collection_id, doc["id"])
                except NotFound:
                    pass
                else:
                    raise Conflict(
                        f"item {doc['id']!r} exists already in collection {collection_id!r}; PUT replaces it"
                    )
                writes = self._inline_asset_writes(catalog_id, collection_id, doc["id"], inline, actor)
            except (Invalid, Conflict) as exc:
                raise type(exc)(f"features[{index}]: {exc.detail}") from None
            planned.append((doc, writes))
        stored: list[Doc] = []
        for doc, writes in planned:
            audit = _audit(catalog_id, "item", doc["id"], "create", actor, assets=len(writes))
            stored.append(self.store.put_item(catalog_id, doc, expect_rev=0, audit=audit))
            self._write_inline_assets(writes)
        return stored

    def replace_item(
        self, catalog_id: str, collection_id: str, item_id: str, body: Any, *, actor: str, if_rev: int | None = None
    ) -> tuple[Doc, bool]:
        check_id(item_id, "item id")
        self.get_collection_doc(catalog_id, collection_id)
        if isinstance(body, dict) and body.get("id") not in (None, item_id):
            raise Invalid(f"body id {body.get('id')!r} differs from the path id {item_id!r}")
        try:
            current: Doc | None = self.store.get_item(catalog_id, collection_id, item_id)
        except NotFound:
            current = None
        doc, inline_assets = self._item_doc(
            catalog_id, collection_id, {**body, "id": item_id} if isinstance(body, dict) else body, current
        )
        writes = self._inline_asset_writes(catalog_id, collection_id, item_id, inline_assets, actor)
        action = "create" if current is None else "replace"
        audit = _audit(catalog_id, "item", item_id, action, actor, assets=len(writes))
        stored = self.store.put_item(catalog_id, doc, expect_rev=_expect(current, if_rev), audit=audit)
        self._write_inline_assets(writes)
        return stored, current is None

    def patch_item(
        self, catalog_id: str, collection_id: str, item_id: str, patch: Any, *, actor: str, if_rev: int | None = None
    ) -> Doc:
        current = self.get_item_doc(catalog_id, collection_id, item_id)
        if not isinstance(patch, dict):
            raise Invalid("a PATCH body is a JSON object (RFC 7386 merge patch)")
        if "id" in patch and patch["id"] != item_id:
            raise Invalid("an item id cannot be changed")
        if "collection" in patch and patch["collection"] != collection_id:
            raise Invalid("an item cannot move to another collection with PATCH")
        asset_patch = patch.get("assets")
        if asset_patch is not None and not isinstance(asset_patch, dict):
            raise Invalid("assets in a PATCH is an object keyed by asset id")
        merged = merge_patch(_client_view(current), {k: v for k, v in patch.items() if k != "assets"})
        doc, _ = self._item_doc(catalog_id, collection_id, merged, current)
        writes: list[tuple[AssetWrite, Doc]] = []
        if asset_patch:
            writes = self._patched_asset_writes(catalog_id, collection_id, item_id, asset_patch, actor)
        audit = _audit(
            catalog_id, "item", item_id, "update", actor, patch={k: v for k, v in patch.items() if k != "assets"}
        )
        stored = self.store.put_item(catalog_id, doc, expect_rev=_expect(current, if_rev), audit=audit)
        self._write_inline_assets(writes)
        return stored

    def delete_item(self, catalog_id: str, collection_id: str, item_id: str, *, actor: str) -> None:
        self.get_item_doc(catalog_id, collection_id, item_id)
        audit = _audit(catalog_id, "item", item_id, "delete", actor)
        self.store.delete_item(catalog_id, collection_id, item_id, audit=audit)

    def _item_doc(self, catalog_id: str, collection_id: str, body: Any, current: Doc | None) -> tuple[Doc, Doc]:
        """The stored form of an item body and its inline assets (validated, nothing written)."""
        if not isinstance(body, dict):
            raise Invalid("an item is a JSON object (a STAC Item, GeoJSON Feature)")
        if body.get("type", "Feature") != "Feature":
            raise Invalid('a STAC Item has type "Feature"')
        item_id = body.get("id")
        if not isinstance(item_id, str):
            raise Invalid("an item needs an `id` (URL-safe: A-Z a-z 0-9 . _ ~ -)")
        check_id(item_id, "item id")
        if body.get("collection") not in (None, collection_id):
            raise Invalid(f"the item names collection {body.get('collection')!r} but is sent to {collection_id!r}")
        properties = body.get("properties")
        if not isinstance(properties, dict):
            raise Invalid("an item needs `properties` (an object with at least datetime)")
        properties = dict(properties)
        for name in ITEM_DATETIME_FIELDS:
            if properties.get(name) is not None:
                if not isinstance(properties[name], str):
                    raise Invalid(f"properties.{name} must be an RFC 3339 date-time string")
                properties[name] = dtime.normalize(properties[name], f"properties.{name}")
        if "datetime" not in properties:
            raise Invalid("properties.datetime is required (null when start_datetime and end_datetime are given)")
        if properties.get("datetime") is None and not (
            properties.get("start_datetime") and properties.get("end_datetime")
        ):
            raise Invalid("an item with a null datetime needs start_datetime and end_datetime")
        if (
            properties.get("start_datetime")
            and properties.get("end_datetime")
            and properties["start_datetime"] > properties["end_datetime"]
        ):
            raise Invalid("properties.start_datetime is after end_datetime")
        now = dtime.now_iso()
        properties["created"] = (current or {}).get("properties", {}).get("created") or properties.get("created") or now
        properties["updated"] = now
        geometry = body.get("geometry")
        bbox = body.get("bbox")
        if geometry is not None:
            check_geometry(geometry, "geometry")
            if bbox is None:
                from shapely.geometry import shape

                bbox = list(shape(geometry).bounds)
        elif "geometry" not in body:
            raise Invalid("an item needs `geometry` (GeoJSON, or null)")
        inline = body.get("assets") or {}
        if not isinstance(inline, dict):
            raise Invalid("assets is an object keyed by asset key")
        doc: Doc = {
            "type": "Feature",
            "stac_version": STAC_VERSION,
            "stac_extensions": body.get("stac_extensions") or [],
            "id": item_id,
            "collection": collection_id,
            "geometry": geometry,
            "properties": properties,
            "links": _client_links(body.get("links")),
            "assets": {},
        }
        if bbox is not None:
            doc["bbox"] = bbox
        for key, value in body.items():
            if key not in doc and key not in ("assets", *_ITEM_PRIVATE):
                doc[key] = value  # foreign members are kept
        # the managed links are rendered per request; a collection link stands in for them here
        validate_stac({**doc, "links": [{"rel": "collection", "href": "./collection.json"}]}, "Item")
        try:
            item = pystac.Item.from_dict(doc, migrate=False, preserve_dict=True)
            rendered = item.to_dict(include_self_link=False, transform_hrefs=False)
        except (KeyError, TypeError, ValueError, AttributeError, pystac.STACError) as exc:
            raise Invalid(f"not a valid STAC Item: {exc!r}") from None
        rendered.pop("assets", None)
        # keep the one stored text form of timestamps (pystac re-serializes them its own way)
        rendered["properties"].update({k: properties[k] for k in ITEM_DATETIME_FIELDS if properties.get(k)})
        rendered["links"] = doc["links"]
        rendered["catalog_id"] = catalog_id
        return rendered, inline

    # --- inline assets -------------------------------------------------------------------

    def _inline_asset_writes(
        self, catalog_id: str, collection_id: str, item_id: str, inline: Doc, actor: str
    ) -> list[tuple[AssetWrite, Doc]]:
        """Validate an item's inline assets and plan their upserts as asset records of the item."""
        if not inline:
            return []
        if len(inline) > 10_000:
            raise Invalid("an item body carries at most 10,000 assets; add more through the asset API")
        planned: list[tuple[AssetWrite, Doc]] = []
        candidates = {key: _asset_id_candidates(item_id, key) for key in inline}
        existing = {
            d["id"]: d for d in self.store.get_assets(catalog_id, [c for pair in candidates.values() for c in pair])
        }
        for key, body in inline.items():
            if not isinstance(body, dict):
                raise Invalid(f"assets.{key} must be a STAC Asset object")
            asset_id = None
            current = None
            for candidate in candidates[key]:
                found = existing.get(candidate)
                if found is None or (found.get("collection_id") == collection_id and found.get("item_id") == item_id):
                    asset_id, current = candidate, found
                    break
            if asset_id is None:
                raise Conflict(f"asset key {key!r}: ids {', '.join(candidates[key])} are taken by other records")
            fields = _asset_fields(body, f"assets.{key}")
            now = dtime.now_iso()
            base = {
                "catalog_id": catalog_id,
                "collection_id": collection_id,
                "item_id": item_id,
                "created": (current or {}).get("created") or now,
                "updated": now,
                "status": "active",
                "rev": (current or {}).get("rev", 0),
            }
            try:
                asset = Asset(**{**fields.model_dump(by_alias=False), "id": asset_id, **base})
            except ValidationError as exc:
                raise Invalid(f"assets.{key}: {exc.errors(include_url=False)[0].get('msg')}") from None
            new_doc = asset.to_doc()
            if current is not None and current.get("storage"):
                new_doc["storage"] = current["storage"]
            action = "create" if current is None else "replace"
            planned.append(
                (
                    AssetWrite(new_doc, expect_rev=0 if current is None else current.get("rev")),
                    _audit(catalog_id, "asset", asset_id, action, actor, via="stac-item"),
                )
            )
        return planned

    def _patched_asset_writes(
        self, catalog_id: str, collection_id: str, item_id: str, patch: Doc, actor: str
    ) -> list[tuple[AssetWrite, Doc]]:
        """PATCH ``assets``: a key set to null soft-deletes that asset, an object merges into it."""
        planned: list[tuple[AssetWrite, Doc]] = []
        upserts: Doc = {}
        current_docs = {d["id"]: d for d in self.store.get_assets(catalog_id, list(patch))}
        for key, value in patch.items():
            current = current_docs.get(key)
            in_item = (
                current is not None
                and current.get("item_id") == item_id
                and current.get("collection_id") == collection_id
            )
            if value is None:
                if not in_item or current is None:
                    raise NotFound(f"asset {key!r} is not an asset of item {item_id!r}")
                now = dtime.now_iso()
                planned.append(
                    (
                        AssetWrite(
                            {**current, "status": "deleted", "deleted_at": now, "updated": now}, current.get("rev")
                        ),
                        _audit(catalog_id, "asset", key, "delete", actor, via="stac-item"),
                    )
                )
            elif in_item and current is not None:
                view = {
                    k: v for k, v in current.items() if k not in _ASSET_INTERNAL and k not in ("created", "updated")
                }
                upserts[key] = merge_patch({k: v for k, v in view.items() if v is not None}, value)
            else:
                upserts[key] = value
        planned.extend(self._inline_asset_writes(catalog_id, collection_id, item_id, upserts, actor))
        return planned

    def _write_inline_assets(self, writes: list[tuple[AssetWrite, Doc]]) -> None:
        if writes:
            self.store.write_assets([w for w, _ in writes], audits=[a for _, a in writes])

    # ------------------------------------------------------------------------- item rendering

    def _item_scope(self, catalog_id: str, collection_id: str, item_id: str, **kw: Any) -> AssetQuery:
        return AssetQuery(catalog_ids=(catalog_id,), collection_id=collection_id, item_id=item_id, level="item", **kw)

    def embedded_assets(self, catalog_id: str, collection_id: str, item_id: str) -> tuple[list[Doc], int]:
        """The bounded selection of an item's assets to embed, and how many it has in all.

        Metadata-like assets (roles thumbnail/overview/metadata, up to ``METADATA_EMBED_MAX``), the
        latest ``stac_asset_history_max`` versions of each versioned asset (``version`` set, or a
        ``name@<timestamp>.<ext>`` id), and at most ``item_embed_max`` others.
        """
        embed_max = self.settings.item_embed_max
        if embed_max > 0:
            first = self.store.search_assets(self._item_scope(catalog_id, collection_id, item_id, limit=embed_max))
            if first.next_token is None:  # everything fits: one query
                return self._select(first.items, others_cap=embed_max), len(first.items)
        metadata = self.store.search_assets(
            self._item_scope(
                catalog_id, collection_id, item_id, roles=tuple(sorted(METADATA_ROLES)), limit=METADATA_EMBED_MAX
            )
        ).items
        versioned = self.store.search_assets(
            self._item_scope(
                catalog_id,
                collection_id,
                item_id,
                filter=And((VERSIONED_FILTER, Not(In("roles", tuple(sorted(METADATA_ROLES)))))),
                limit=VERSION_SCAN_MAX,
            )
        ).items
        others: list[Doc] = []
        if embed_max > 0:
            others = self.store.search_assets(
                self._item_scope(
                    catalog_id,
                    collection_id,
                    item_id,
                    filter=And((Not(VERSIONED_FILTER), Not(In("roles", tuple(sorted(METADATA_ROLES)))))),
                    limit=embed_max,
                )
            ).items
        total = self.store.count_assets(self._item_scope(catalog_id, collection_id, item_id))
        return self._select([*metadata, *versioned, *others], others_cap=embed_max), total

    def _select(self, docs: Iterable[Doc], *, others_cap: int) -> list[Doc]:
        metadata: list[Doc] = []
        series: dict[tuple[str, str], list[tuple[str, Doc]]] = {}
        others: list[Doc] = []
        seen: set[str] = set()
        for doc in docs:
            if doc["id"] in seen:
                continue
            seen.add(doc["id"])
            if METADATA_ROLES.intersection(doc.get("roles") or ()):
                metadata.append(doc)
                continue
            version = version_of(doc)
            if version is None:
                others.append(doc)
            else:
                series.setdefault(version[0], []).append((version[1], doc))
        history: list[Doc] = []
        keep = self.settings.stac_asset_history_max
        for versions in series.values():
            aliases = [d for v, d in versions if v == "latest"]
            dated = sorted(((v, d) for v, d in versions if v != "latest"), key=lambda p: p[0], reverse=True)
            history.extend(aliases)
            history.extend(d for _, d in dated[:keep])
        return [*metadata[:METADATA_EMBED_MAX], *history[:VERSIONED_EMBED_MAX], *others[:others_cap]]

    def render_item(self, doc: Doc, links: Links, *, embed: bool = True) -> Doc:
        """The STAC Item of a stored item: managed links, bounded embedded assets, the rel=assets link."""
        catalog_id = doc.get("catalog_id") or ""
        col, item_id = doc.get("collection") or "", doc["id"]
        out: Doc = {k: v for k, v in doc.items() if k not in _ITEM_PRIVATE}
        out["stac_version"] = STAC_VERSION
        out.setdefault("stac_extensions", [])
        assets: Doc = dict(doc.get("assets") or {})
        total = len(assets)
        if embed:
            embedded, count = self.embedded_assets(catalog_id, col, item_id)
            for asset in embedded:
                assets[asset["id"]] = render_asset(asset, links)
            total += count
        out["assets"] = assets
        assets_url = links.item_assets(catalog_id, col, item_id)
        out["links"] = [
            link("self", links.item(catalog_id, col, item_id), GEOJSON),
            link("root", links.catalog(catalog_id)),
            link("parent", links.collection(catalog_id, col)),
            link("collection", links.collection(catalog_id, col)),
            link("assets", assets_url, JSON, f"All {total} assets of this item (paginated)", count=total),
            *_client_links(doc.get("links")),
        ]
        return out

    # ------------------------------------------------------------------------- searches

    def search_items(self, query: ItemQuery, *, count: bool = True) -> Page[Doc]:
        """Items of the named catalogs (which must be active), else of every active one."""
        resolved = replace(query, catalog_ids=self.catalogs.resolve_ids(query.catalog_ids))
        return _counted(resolved, self.store.search_items, self.store.count_items, count)

    def list_items(self, catalog_id: str, collection_id: str, query: ItemQuery) -> Page[Doc]:
        """``/collections/{col}/items``: an item search restricted to one collection."""
        self.get_collection_doc(catalog_id, collection_id)
        return self.search_items(replace(query, catalog_ids=(catalog_id,), collections=(collection_id,)))

    def search_assets(self, query: AssetQuery, *, count: bool = True) -> Page[Doc]:
        """Assets of the named catalogs (which must be active), else of every active one."""
        resolved = replace(query, catalog_ids=self.catalogs.resolve_ids(query.catalog_ids))
        return _counted(resolved, self.store.search_assets, self.store.count_assets, count)

    def item_assets(self, catalog_id: str, collection_id: str, item_id: str, query: AssetQuery) -> Page[Doc]:
        """The paginated assets of one item (``datetime``, ``roles``, ``type``, ``q``, ``filter`` narrow it)."""
        self.get_item_doc(catalog_id, collection_id, item_id)
        scoped = replace(query, catalog_ids=(catalog_id,), collection_id=collection_id, item_id=item_id, level="item")
        return self.search_assets(scoped)

    def render_asset_record(self, doc: Doc, links: Links) -> Doc:
        """An asset as a first-class record (CEDA asset spec idea): the STAC Asset Object plus its
        id, scope references and links (``rel=item`` back to its item)."""
        record: Doc = {"id": doc["id"], **render_asset(doc, links)}
        c, col, item = doc["catalog_id"], doc.get("collection_id"), doc.get("item_id")
        record["catalog"] = c
        record["collection"] = col
        record["item"] = item
        props = {k: doc[k] for k in ("datetime", "start_datetime", "end_datetime") if doc.get(k)}
        if props:
            record["properties"] = props
        rec_links = [link("self", links.asset_api(doc), JSON, "This asset in the asset API")]
        if item and col:
            rec_links.append(link("item", links.item(c, col, item), GEOJSON, f"Item {item}"))
            rec_links.append(link("parent", links.item(c, col, item), GEOJSON))
            rec_links.append(link("collection", links.collection(c, col)))
        elif col:
            rec_links.append(link("collection", links.collection(c, col)))
            rec_links.append(link("parent", links.collection(c, col)))
        else:
            rec_links.append(link("parent", links.catalog(c)))
        rec_links.append(link("root", links.catalog(c)))
        record["links"] = rec_links
        return record


# ======================================================================================= helpers


Q = TypeVar("Q", ItemQuery, AssetQuery)


def _counted(query: Q, search: Callable[[Q], Page[Doc]], count: Callable[[Q], int], with_count: bool) -> Page[Doc]:
    """One page of ``query``; with ``with_count`` its ``matched`` is filled (counted only when the page
    does not say it already and there is more than this one page)."""
    if not query.catalog_ids:
        return Page(items=[], next_token=None, matched=0)
    page = search(query)
    if with_count and page.matched is None:
        if query.token is None and page.next_token is None:
            page.matched = len(page.items)
        else:
            page.matched = count(query)
    return page


def render_asset(doc: Doc, links: Links) -> Doc:
    """A stored asset → a valid STAC Asset Object (extra fields kept in the asset dict).

    Bytes the local backend stores (``file://``) are served through the asset API's download URL;
    the file URL stays under ``alternate.file``.
    """
    out: Doc = {}
    for key, value in doc.items():
        if key in _ASSET_INTERNAL or value is None or value == [] or value == {}:
            continue
        out[key] = value
    href = doc.get("href") or ""
    if href.startswith("file://") and doc.get("catalog_id"):
        out["href"] = f"{links.asset_api(doc)}/download"
        out["alternate"] = {**(out.get("alternate") or {}), "file": {"href": href}}
    return out


def version_of(doc: Doc) -> tuple[tuple[str, str], str] | None:
    """``((series, extension), version)`` of a versioned asset, else None.

    Versioned: a ``version`` field, or a file named ``name@<timestamp>.<ext>`` (seed 004; ``@`` is
    not allowed in ids, so the file name, not the id, carries it). The series groups the versions
    of one asset: ``name`` + ``ext`` from the file name, else the id without its version text.
    """
    match = VERSIONED_NAME.match(file_name(doc))
    if match:
        version = doc.get("version") or match.group("version")
        return (match.group("name"), match.group("ext") or ""), str(version)
    version = doc.get("version")
    if version:
        text = str(version)
        series = doc["id"].replace(text, "") if text in doc["id"] else (doc.get("title") or doc["id"])
        return (series, ""), text
    return None


def _asset_id_candidates(item_id: str, key: str) -> tuple[str, ...]:
    try:
        check_id(key)
        return key, slug(f"{item_id}.{key}")
    except Invalid:
        return (slug(f"{item_id}.{key}"),)


def _asset_fields(body: Doc, what: str) -> AssetFields:
    try:
        fields = AssetFields.model_validate({k: v for k, v in body.items() if k not in _ASSET_INTERNAL})
    except ValidationError as exc:
        raise Invalid(validation_detail(exc, what)) from None
    if not fields.href:
        raise Invalid(f"{what} needs an href")
    return fields


def _client_links(value: Any) -> list[Doc]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) and "rel" in v and "href" in v for v in value):
        raise Invalid("links is an array of objects with rel and href")
    return [dict(v) for v in value if v.get("rel") not in MANAGED_RELS]


def _client_view(doc: Doc) -> Doc:
    return {k: v for k, v in doc.items() if k not in _ITEM_PRIVATE}


def _with_collection_defaults(doc: Doc, collection_id: str) -> Doc:
    """The members a STAC Collection needs, where the client left them out (changes ``doc``)."""
    doc["stac_version"] = STAC_VERSION
    doc.setdefault("description", doc.get("title") or f"Collection {collection_id}")
    doc.setdefault("license", "other")
    doc.setdefault("extent", {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [[None, None]]}})
    doc.setdefault("stac_extensions", [])
    return doc


def _expect(current: Doc | None, if_rev: int | None) -> int | None:
    if current is None:
        return 0
    if if_rev is not None and if_rev != current.get("rev"):
        raise PreconditionFailed(f"the record is at revision {current.get('rev')}, not {if_rev}")
    return int(current.get("rev") or 0)


def etag(doc: Doc) -> str:
    return f'"{doc.get("rev", 0)}"'


__all__ = [
    "CATALOG_CONFORMANCE",
    "SEARCH_CONFORMANCE",
    "Fields",
    "Links",
    "StacService",
    "apply_fields",
    "compile_stac_query",
    "parse_asset_search",
    "parse_item_search",
    "render_asset",
]
