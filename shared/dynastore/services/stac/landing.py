"""STAC landing pages (the ``/stac`` root and one per catalog), conformance classes and queryables."""

from __future__ import annotations

import pystac

from dynastore.domain.stac_version import STAC_VERSION
from dynastore.ports import Doc
from dynastore.services.stac.collections import CollectionsMixin
from dynastore.services.stac.rendering import JSON, OPENAPI, Links, link, search_links

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


class LandingMixin(CollectionsMixin):
    def root(self, links: Links) -> Doc:
        """``/stac``: a STAC Catalog linking every active catalog, search and asset-search."""
        out_links = [
            link("self", links.stac),
            link("root", links.stac),
            link("conformance", f"{links.stac}/conformance", title="Conformance classes"),
            link("service-desc", f"{links.base}/api", OPENAPI, "OpenAPI definition"),
            link("service-doc", f"{links.base}/api.html", "text/html", "API documentation"),
            *search_links(links.stac, " across catalogs"),
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
            *search_links(base),
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
