"""Rendering shared by the STAC documents: media types, the URLs of the STAC API (``Links``), link
objects, STAC Asset Objects of stored assets, and the client's own part of a stored document
(``links`` without the managed relations, no private members)."""

from __future__ import annotations

from typing import Any

from dynastore.domain.asset import asset_path, file_name
from dynastore.domain.asset_record import ASSET_INTERNAL as ASSET_INTERNAL  # re-exported (asset fields kept out)
from dynastore.domain.versions import VERSIONED_NAME as VERSIONED_NAME  # re-exported
from dynastore.errors import Invalid
from dynastore.ports import Doc

GEOJSON = "application/geo+json"
JSON = "application/json"
OPENAPI = "application/vnd.oai.openapi+json;version=3.1"  # what /api answers to this Accept
SCHEMA_JSON = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"

# Links the service renders; client links with these relations are dropped on write.
MANAGED_RELS = frozenset({"self", "root", "parent", "collection", "items", "assets", "child", "item", QUERYABLES_REL})
ITEM_PRIVATE = ("catalog_id", "rev")


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


def search_links(base: str, scope: str = "") -> list[Doc]:
    """A landing page's links to item search and asset search (GET and POST) and to its queryables."""
    methods = ("GET", "POST")
    return [
        *(link("search", f"{base}/search", GEOJSON, f"Item search{scope}", method=m) for m in methods),
        *(link("asset-search", f"{base}/asset-search", JSON, f"Asset search{scope}", method=m) for m in methods),
        link(QUERYABLES_REL, f"{base}/queryables", SCHEMA_JSON, "Queryables"),
    ]


def render_asset(doc: Doc, links: Links) -> Doc:
    """A stored asset → a valid STAC Asset Object (extra fields kept in the asset dict).

    Bytes the local backend stores (``file://``) are served through the asset API's download URL;
    the file URL stays under ``alternate.file``.
    """
    out: Doc = {
        k: v for k, v in doc.items() if v is not None and k not in ASSET_INTERNAL and (v or (v != [] and v != {}))
    }
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
    match = VERSIONED_NAME.match(file_name(doc)) if may_be_versioned_file(doc) else None
    if match:
        version = doc.get("version") or match.group("version")
        return (match.group("name"), match.group("ext") or ""), str(version)
    version = doc.get("version")
    if version:
        text = str(version)
        series = doc["id"].replace(text, "") if text in doc["id"] else (doc.get("title") or doc["id"])
        return (series, ""), text
    return None


def may_be_versioned_file(doc: Doc) -> bool:
    """Can the file name of ``doc`` carry a version? (``@`` in its storage key or href: a cheap test
    that spares item pages the file name parsing of every asset.)"""
    storage = doc.get("storage")
    path = (storage.get("key") if isinstance(storage, dict) else None) or doc.get("href") or ""
    return isinstance(path, str) and "@" in path


def client_links(value: Any) -> list[Doc]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) and "rel" in v and "href" in v for v in value):
        raise Invalid("links is an array of objects with rel and href")
    return [dict(v) for v in value if v.get("rel") not in MANAGED_RELS]


def client_view(doc: Doc) -> Doc:
    return {k: v for k, v in doc.items() if k not in ITEM_PRIVATE}
