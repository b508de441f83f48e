"""An item as rendered: its managed links, the bounded selection of its assets it embeds, and the
``rel=assets`` link to all of them (with their total)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson

from dynastore.domain.asset import METADATA_ROLES, file_name
from dynastore.domain.filters import And, Exists, Expr, In, Like, Not, Or
from dynastore.domain.gc_pause import gc_paused
from dynastore.domain.stac_version import STAC_VERSION
from dynastore.domain.versions import parse_stamp, parse_versioned
from dynastore.ports import Doc, ItemText
from dynastore.services.stac.base import StacBase
from dynastore.services.stac.rendering import (
    GEOJSON,
    ITEM_PRIVATE,
    JSON,
    Links,
    client_links,
    may_be_versioned_file,
    render_asset,
    version_of,
)

# Item document bounds (DESIGN §4.2): metadata-like assets and version history are embedded up to
# these caps; versioned assets are read newest first up to VERSION_SCAN_MAX to pick the history.
METADATA_EMBED_MAX = 100
VERSIONED_EMBED_MAX = 100
VERSION_SCAN_MAX = 1000
VERSIONED_FILTER: Expr = Or((Exists("version"), Like("href", "%@%")))
Rendered = tuple[str, Any]  # (key in the item's assets, the rendered asset)
Embedded = list[Rendered] | str  # rendered pairs, or the members text of the item's ``assets`` object
ItemKey = tuple[str, str, str]  # (catalog, collection, item)


def asset_key(doc: Doc) -> str:
    """The key of an asset in its item document: a published version's file name (``name@stamp.ext``,
    VERSIONS.md), else the asset id."""
    if not may_be_versioned_file(doc):
        return str(doc["id"])
    name = file_name(doc)
    return name if parse_versioned(name) is not None else str(doc["id"])


def _version_order(pair: tuple[str, Doc]) -> tuple[datetime, str]:
    when = parse_stamp(pair[0])
    return (when or datetime.min.replace(tzinfo=UTC), pair[0])


class EmbeddingMixin(StacBase):
    def embedded_assets(
        self, catalog_id: str, collection_id: str, item_id: str, *, over_max: bool = False
    ) -> tuple[list[Doc], int]:
        """The bounded selection of an item's assets to embed, and how many it has in all.

        Metadata-like assets (roles thumbnail/overview/metadata, up to ``METADATA_EMBED_MAX``), the
        latest ``stac_asset_history_max`` versions of each versioned asset (``version`` set, or a
        ``name@<timestamp>.<ext>`` id), and at most ``item_embed_max`` others. ``over_max``: the item
        is known to have more than ``item_embed_max`` assets.
        """
        embed_max = self.settings.item_embed_max
        if embed_max > 0 and not over_max:
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
            # by time, not text: 2025-08-11T11:12:05Z (a second publish in that minute) is after 11:12Z
            dated = sorted(((v, d) for v, d in versions if v != "latest"), key=_version_order, reverse=True)
            history.extend(aliases)
            history.extend(d for _, d in dated[:keep])
        return [*metadata[:METADATA_EMBED_MAX], *history[:VERSIONED_EMBED_MAX], *others[:others_cap]]

    def render_items(self, docs: list[Doc], links: Links, *, embed: bool = True, spliced: bool = False) -> list[Doc]:
        """``render_item`` for a page of items, their embedded assets read in one batch per catalog.

        ``spliced``: an item whose embedded assets can all be cut from their stored page records (no
        time fields, not a version, no metadata role, no local file: ``item_asset_members``) gets its
        ``assets`` as one JSON text (``orjson.Fragment``), not parsed and rendered: the same document
        once serialized, for a page nothing reshapes inside ``assets`` afterwards."""
        with gc_paused():
            if not embed:
                return [self._render_item(d, links, None, self._asset_total(d)) for d in docs]
            keys = [_item_key(d) for d in docs]
            if spliced:
                texts = self._page_texts(keys, links)
                return [self._render_item(d, links, *texts[key]) for d, key in zip(docs, keys, strict=True)]
            heads = self._page_embeds(keys)
            return [self.render_item(d, links, embeds=heads.get(key)) for d, key in zip(docs, keys, strict=True)]

    def render_item_texts(self, items: list[ItemText], links: Links) -> list[Any]:
        """``render_items(..., spliced=True)`` of stored item texts: an item in the service's stored form
        (``stored_item``: ``type``, ``stac_version``, ``stac_extensions`` first, ``catalog_id`` and
        ``rev`` last, ``links`` empty, no inline assets) whose assets splice is rendered as text
        (``orjson.Fragment``: its text with the managed links and the members spliced in, nothing
        parsed); any other is parsed and rendered. The same bytes once serialized."""
        with gc_paused():
            keys = [(i.catalog_id, i.collection_id, i.item_id) for i in items]
            texts = self._page_texts(keys, links)
            scopes: dict[tuple[str, str], _Scope] = {}
            out: list[Any] = []
            for item, key in zip(items, keys, strict=True):
                embedded, count = texts[key]
                text = None
                if isinstance(embedded, str):
                    scope = scopes.get(key[:2]) or scopes.setdefault(key[:2], _scope(links, *key[:2]))
                    text = _item_json(item, scope, embedded, count)
                out.append(
                    orjson.Fragment(text)
                    if text is not None
                    else self._render_item(orjson.loads(item.text), links, embedded, count)
                )
            return out

    def _page_embeds(self, keys: list[ItemKey]) -> dict[ItemKey, tuple[list[Doc], int]]:
        """What each item of a page embeds and its asset total: one ``item_asset_heads`` read per
        catalog answers every item whose assets all fit in ``item_embed_max``; the others take
        ``embedded_assets``' own path."""
        embed_max = self.settings.item_embed_max
        out: dict[ItemKey, tuple[list[Doc], int]] = {}
        if embed_max <= 0:
            return out
        for catalog_id, scoped in _by_catalog(keys).items():
            heads = self.store.item_asset_heads(catalog_id, scoped, embed_max + 1)
            for col, item_id in scoped:
                found = heads.get((col, item_id), [])
                if len(found) <= embed_max:
                    out[(catalog_id, col, item_id)] = (self._select(found, others_cap=embed_max), len(found))
                else:
                    out[(catalog_id, col, item_id)] = self.embedded_assets(catalog_id, col, item_id, over_max=True)
        return out

    def _page_texts(self, keys: list[ItemKey], links: Links) -> dict[ItemKey, tuple[Embedded, int]]:
        """``_page_embeds`` from the stores' texts: each item's embedded assets as one members text
        (``item_asset_members``) where every one of its assets allows it and none may render otherwise
        (``domain.asset_members.RECORD_SIGNS``, checked by the store), else as ``(key, rendered asset)``
        pairs of its documents."""
        embed_max = self.settings.item_embed_max
        out: dict[ItemKey, tuple[Embedded, int]] = {}
        if embed_max > 0:  # else only metadata and versions are embedded: ``embedded_assets`` picks them
            for catalog_id, scoped in _by_catalog(keys).items():
                members = self.store.item_asset_members(catalog_id, scoped, embed_max + 1)
                for col, item_id in scoped:
                    count, text = members.get((col, item_id), (0, ""))
                    if text is not None and count <= embed_max:
                        out[(catalog_id, col, item_id)] = text, count
        rest = [key for key in keys if key not in out]
        if rest:
            embeds = self._page_embeds(rest)
            for key in rest:
                embedded, count = embeds.get(key) or self.embedded_assets(*key)
                out[key] = [(asset_key(a), embedded_asset(a, links)) for a in embedded], count
        return out

    def _asset_total(self, doc: Doc) -> int:
        catalog_id, col, item_id = _item_key(doc)
        return self.store.count_assets(self._item_scope(catalog_id, col, item_id))

    def render_item(
        self, doc: Doc, links: Links, *, embed: bool = True, embeds: tuple[list[Doc], int] | None = None
    ) -> Doc:
        """The STAC Item of a stored item: managed links, bounded embedded assets, the rel=assets link.

        Without ``embed`` (``fields`` leaves the assets out) none are read, but they are still counted:
        the rel=assets link always says how many the item has. ``embeds``: the embedded assets and the
        total when the caller read them already (``render_items``)."""
        if not embed:
            return self._render_item(doc, links, None, self._asset_total(doc))
        embedded, count = embeds or self.embedded_assets(*_item_key(doc))
        return self._render_item(doc, links, [(asset_key(a), embedded_asset(a, links)) for a in embedded], count)

    def _render_item(self, doc: Doc, links: Links, embedded: Embedded | None, count: int) -> Doc:
        """``render_item`` of rendered embedded assets (None: none embedded; a text: their members,
        ``item_asset_members``) and the item's asset total."""
        catalog_id = doc.get("catalog_id") or ""
        col, item_id = doc.get("collection") or "", doc["id"]
        out: Doc = {k: v for k, v in doc.items() if k not in ITEM_PRIVATE}
        out["stac_version"] = STAC_VERSION
        out.setdefault("stac_extensions", [])
        assets: Doc = dict(doc.get("assets") or {})
        total = len(assets) + count
        if isinstance(embedded, str):  # the members as they would serialize: spliced, or merged with inline ones
            out["assets"] = assets | orjson.loads(f"{{{embedded}}}") if assets else orjson.Fragment(f"{{{embedded}}}")
        else:
            if embedded:
                assets.update(embedded)
            out["assets"] = assets
        out["links"] = _managed_links(links, catalog_id, col, item_id, total)
        if doc.get("links"):
            out["links"].extend(client_links(doc["links"]))
        return out


def embedded_asset(doc: Doc, links: Links) -> Doc:
    """An asset as its item embeds it: ``render_asset``, stating ``updated`` only when it differs from
    ``created`` (the asset changed after it was written), as asset records do (``domain.asset_record``)."""
    out = render_asset(doc, links)
    if "updated" in out and out["updated"] == out.get("created"):
        del out["updated"]
    return out


def _managed_links(links: Links, catalog_id: str, col: str, item_id: str, total: int) -> list[Doc]:
    """An item's managed links: self, root, parent, collection, and assets (all ``total`` of them)."""
    catalog_url, collection_url = links.catalog(catalog_id), links.collection(catalog_id, col)
    item_url = links.item(catalog_id, col, item_id)
    return [  # link(...) spelled out: a page renders thousands
        {"rel": "self", "href": item_url, "type": GEOJSON},
        {"rel": "root", "href": catalog_url, "type": JSON},
        {"rel": "parent", "href": collection_url, "type": JSON},
        {"rel": "collection", "href": collection_url, "type": JSON},
        {
            "rel": "assets",
            "href": links.item_assets(catalog_id, col, item_id),
            "type": JSON,
            "title": f"All {total} assets of this item (paginated)",
            "count": total,
        },
    ]


_STORED_HEAD = f'{{"type":"Feature","stac_version":"{STAC_VERSION}","stac_extensions":'
_EMPTY_LINKS = '"links":[]'


class _Scope(NamedTuple):
    """What the texts of a collection's items share: the start of their stored tail (``catalog_id``,
    then ``rev``) and their catalog's, collection's and items' URLs (``Links``) as JSON string characters."""

    tail: str
    catalog_url: str
    collection_url: str
    items_url: str


def _scope(links: Links, catalog_id: str, collection_id: str) -> _Scope:
    return _Scope(
        f',"catalog_id":{orjson.dumps(catalog_id).decode()},"rev":',
        _json_chars(links.catalog(catalog_id)),
        _json_chars(links.collection(catalog_id, collection_id)),
        _json_chars(links.items(catalog_id, collection_id)),
    )


def _item_json(item: ItemText, scope: _Scope, members: str, count: int) -> str | None:
    """``_render_item`` of an item's stored text and its members text, serialized, done on the text:
    ``stac_version`` and ``stac_extensions`` already as rendered (the head), ``catalog_id`` and ``rev``
    the last members (cut off), top-level ``links`` empty (the one ``"links":[]`` of the text: the
    managed links go there) and no ``assets`` (appended last, as ``_render_item`` adds it); None when
    the text is not in that form."""
    text = item.text
    tail = f"{scope.tail}{item.rev}}}"
    if not (item.plain and text.startswith(_STORED_HEAD) and text.endswith(tail) and text.count(_EMPTY_LINKS) == 1):
        return None
    body = text[: -len(tail)].replace(_EMPTY_LINKS, _managed_links_json(scope, item.item_id, count), 1)
    return f'{body},"assets":{{{members}}}}}'


def _managed_links_json(scope: _Scope, item_id: str, total: int) -> str:
    """``"links":`` and the JSON of ``_managed_links`` (what orjson writes: strings escaped, no spaces),
    written out: a page writes thousands."""
    catalog_url, collection_url = scope.catalog_url, scope.collection_url
    item_url = f"{scope.items_url}/{_json_chars(item_id)}"  # ``Links.item``
    return (
        f'"links":[{{"rel":"self","href":"{item_url}","type":"{GEOJSON}"}},'
        f'{{"rel":"root","href":"{catalog_url}","type":"{JSON}"}},'
        f'{{"rel":"parent","href":"{collection_url}","type":"{JSON}"}},'
        f'{{"rel":"collection","href":"{collection_url}","type":"{JSON}"}},'
        f'{{"rel":"assets","href":"{item_url}/assets","type":"{JSON}",'
        f'"title":"All {total} assets of this item (paginated)","count":{total}}}]'
    )


def _json_chars(text: str) -> str:
    """``text`` as the characters of a JSON string (escaped as orjson escapes it, no quotes): as it is
    when it has nothing to escape (orjson escapes only ``"``, ``\\`` and control characters; printable
    ASCII is the common case of ids, checked without a call into orjson per item of a page)."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return text
    return orjson.dumps(text).decode()[1:-1]


def _item_key(doc: Doc) -> ItemKey:
    return doc.get("catalog_id") or "", doc.get("collection") or "", doc["id"]


def _by_catalog(keys: list[ItemKey]) -> dict[str, list[tuple[str, str]]]:
    """The (collection, item) keys of a page's items, by catalog."""
    by_catalog: dict[str, list[tuple[str, str]]] = {}
    for catalog_id, col, item_id in keys:
        by_catalog.setdefault(catalog_id, []).append((col, item_id))
    return by_catalog
