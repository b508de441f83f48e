"""The STAC API use cases: collections/items CRUD (Transaction), item search, asset search, per-item assets.

Stored shapes: a collection or item is its STAC JSON (validated with pystac against the bundled
STAC core schemas of ``STAC_VERSION`` on every write) plus ``catalog_id`` and ``rev``; ``links``
hold only the client's own links (the managed ones — self, root, parent, collection, items, assets —
are rendered per request). Item datetimes are stored in the one text form of ``domain.time`` so that
text order is time order in every backend.

Item assets are first-class asset records (``store.search_assets``): an item document embeds a
bounded selection of them (``StacService.embedded_assets``) and links (rel ``assets``, with the
total) to the paginated per-item assets endpoint. Assets posted inline with an item become asset
records of that item; their key is their asset id (unique in the catalog), so a key another item
of the catalog already uses is stored as ``<item>.<key>``.

``StacService`` is assembled from its parts: ``landing`` (landing pages, conformance, queryables),
``collections``, ``items`` (Transaction), ``inline_assets`` (an item body's assets as records),
``embedding`` (rendering an item with its bounded assets), ``search``; ``rendering`` (links, media
types, asset objects), ``fields`` (the Fields extension) and ``validation`` (STAC schemas) are shared.
Request parameters are parsed in the API (``dynastore.api.stac_params``), never here.
"""

from __future__ import annotations

from dynastore.domain.stac_version import STAC_VERSION
from dynastore.services.stac.fields import Fields, apply_asset_fields, apply_fields
from dynastore.services.stac.items import ITEM_DATETIME_FIELDS
from dynastore.services.stac.landing import CATALOG_CONFORMANCE, SEARCH_CONFORMANCE, LandingMixin
from dynastore.services.stac.rendering import GEOJSON, JSON, OPENAPI, SCHEMA_JSON, Links, link, render_asset
from dynastore.services.stac.search import SearchMixin
from dynastore.services.stac.validation import check_geometry, validate_stac


class StacService(LandingMixin, SearchMixin):
    """The STAC API over one ``MetadataStore`` (see the package docstring for its parts)."""


__all__ = [
    "CATALOG_CONFORMANCE",
    "GEOJSON",
    "ITEM_DATETIME_FIELDS",
    "JSON",
    "OPENAPI",
    "SCHEMA_JSON",
    "SEARCH_CONFORMANCE",
    "STAC_VERSION",
    "Fields",
    "Links",
    "StacService",
    "apply_asset_fields",
    "apply_fields",
    "check_geometry",
    "link",
    "render_asset",
    "validate_stac",
]
