"""What the STAC route modules (``stac*.py``) share: the service and URL helpers, page documents with
their ``self``/``next`` links, the caller's visible catalogs, and the item and asset collections
they answer. (A ``_`` module: ``api/app.py`` includes no router from it.)

Item collections answer ``application/geo+json``; GET next links carry every parameter plus
``token``, POST next links repeat the body with ``token`` (``method: POST``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import orjson
from fastapi import Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from dynastore.api.deps import (
    Editor,
    JSONResponse,
    base_url,
    get_services,
    if_rev,
    read_json,
    url_for_path,
    visible_catalogs,
)
from dynastore.api.encoding import json_page_response
from dynastore.api.params import multi_params
from dynastore.domain.gc_pause import gc_paused
from dynastore.domain.search import AssetQuery, ItemQuery, Page
from dynastore.errors import Invalid
from dynastore.services.auth import Principal
from dynastore.services.stac import GEOJSON, JSON, Fields, Links, StacService, apply_fields, link
from dynastore.services.stac.fields import asset_fields_shaper

T = TypeVar("T")


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON


NO_FIELDS = Fields()


def _stac(request: Request) -> StacService:
    stac: StacService = get_services(request).stac
    return stac


def _links(request: Request) -> Links:
    return Links(base_url(request))


def _url(request: Request, params: dict[str, Any] | None = None) -> str:
    return url_for_path(request, request.url.path, params)


def _page_links(
    request: Request, page: Page[Any], body: dict[str, Any] | None, media_type: str
) -> list[dict[str, Any]]:
    """``self`` and, when there is one, ``next``: a GET URL with ``token`` or a POST with the body."""
    if body is None:  # the request's own query (routes have refused any parameter they do not read)
        params = multi_params(request.query_params.multi_items())
        out = [link("self", _url(request, params), media_type)]
        if page.next_token:
            params = {k: v for k, v in params.items() if k != "token"}
            params["token"] = page.next_token
            out.append(link("next", _url(request, params), media_type))
        return out
    out = [link("self", _url(request), media_type, method="POST", body=body)]
    if page.next_token:
        out.append(
            link("next", _url(request), media_type, method="POST", body={**body, "token": page.next_token}, merge=False)
        )
    return out


def _page_document(
    request: Request,
    page: Page[Any],
    body: dict[str, Any] | None,
    media_type: str,
    members: dict[str, Any],
    extra_links: list[dict[str, Any]],
) -> dict[str, Any]:
    """A STAC/OGC page: ``members``, the page links and ``extra_links``, numberReturned and (when known)
    numberMatched."""
    out = {
        **members,
        "links": [*_page_links(request, page, body, media_type), *extra_links],
        "numberReturned": len(page.items),
    }
    if page.matched is not None:
        out["numberMatched"] = page.matched
    return out


def _scope(catalog_id: str | None) -> tuple[str, ...]:
    """The catalogs a search endpoint covers: its own, or (the root's) all."""
    return (catalog_id,) if catalog_id else ()


def _empty(count: bool = False) -> Page[Any]:
    return Page(items=[], next_token=None, matched=0 if count else None)


Q = TypeVar("Q", ItemQuery, AssetQuery)


def _visible(request: Request, principal: Principal, query: Q) -> Q | None:
    """``query`` narrowed to the caller's catalogs (a named foreign one: 403); None: it sees none."""
    visible = visible_catalogs(request, principal, query.catalog_ids)
    return None if visible is None else replace(query, catalog_ids=visible or query.catalog_ids)


async def _call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await run_in_threadpool(fn, *args, **kwargs)


SEARCH_DESCRIPTION = (
    "STAC item search: `collections`, `ids`, `bbox` or `intersects`, `datetime` (instant or interval, open ends), "
    "`q` (free text over id, title, description, keywords; comma-separated terms, any of), `filter` + `filter-lang` "
    "(CQL2 text or JSON: basic-cql2, like, between, in, casei, s_intersects), `query` (STAC Query extension), "
    "`sortby` (`-datetime,+id`), `fields` (`id,properties.datetime,-assets`), `limit`, `token`, `count=true` (also "
    "answer `numberMatched`; GET, a POST body or a POST's query string)."
)


def _item_collection(
    request: Request, page: Page[Any], fields: Fields, body: dict[str, Any] | None, extra_links: list[dict[str, Any]]
) -> GeoJSONResponse:
    stac, links = _stac(request), _links(request)
    embed = not fields or fields.wants_assets()
    # embedded assets spliced as stored JSON unless ``fields`` reaches into them (it cannot see inside)
    spliced = not any(p.startswith("assets.") for p in (*fields.include, *fields.exclude))
    rendered = stac.render_items(page.items, links, embed=embed, spliced=spliced)
    features = [apply_fields(item, fields) for item in rendered]
    return _feature_collection(request, replace(page, items=features), body, extra_links)


def _feature_collection(
    request: Request, page: Page[Any], body: dict[str, Any] | None, extra_links: list[dict[str, Any]]
) -> GeoJSONResponse:
    """The item collection of a page of rendered items."""
    members = {"type": "FeatureCollection", "features": page.items}
    return GeoJSONResponse(_page_document(request, page, body, GEOJSON, members, extra_links))


def _asset_collection(
    request: Request,
    page: Page[Any],
    body: dict[str, Any] | None,
    extra_links: list[dict[str, Any]],
    fields: Fields = NO_FIELDS,
) -> JSONResponse:
    """An asset page of records with their scope references (one item's page: ``_item_asset_collection``);
    gzipped for clients that accept it (``api.encoding``)."""
    stac, links = _stac(request), _links(request)
    shape = asset_fields_shaper(fields)
    records = [shape(r) for r in stac.render_asset_records(page.items, links)]
    members: dict[str, Any] = {"type": "AssetCollection", "assets": records}
    return json_page_response(request, orjson.dumps(_page_document(request, page, body, JSON, members, extra_links)))


def _item_asset_collection(
    request: Request,
    page: Page[Any],
    extra_links: list[dict[str, Any]],
    item: tuple[str, str, str],
    fields: Fields = NO_FIELDS,
) -> JSONResponse:
    """``_asset_collection`` of one item's assets, its records spliced as JSON text into the page
    (``StacService.item_asset_records_json``): same members, same order; with ``fields`` each record is
    shaped (the slower path: the records are parsed), and ``-id`` may drop ids (the page names its item)."""
    stac, links = _stac(request), _links(request)
    head = {"type": "AssetCollection", **dict(zip(("catalog", "collection", "item"), item, strict=True))}
    tail = _page_document(request, page, None, JSON, {}, extra_links)
    records = stac.item_asset_records_json(page.items, links)
    if fields:
        shape = asset_fields_shaper(fields, in_item=True)
        with gc_paused():
            records = orjson.dumps([shape(r) for r in orjson.loads(records)])
    body = b"".join((orjson.dumps(head)[:-1], b',"assets":', records, b",", orjson.dumps(tail)[1:]))
    return json_page_response(request, body)


@dataclass(frozen=True)
class Write:
    """A transaction's input: the JSON body, the audit actor (the key) and the If-Match revision."""

    body: Any
    actor: str
    if_rev: int | None

    async def apply(self, change: Callable[..., T], *ids: str) -> T:
        """``change(*ids, body, actor=, if_rev=)`` in a worker thread."""
        return await _call(change, *ids, self.body, actor=self.actor, if_rev=self.if_rev)


def _write(*, merge_patch: bool) -> Any:
    """A dependency: the editor's ``Write`` (401/403 first, then the body: 400, then If-Match: 412)."""

    async def dependency(
        request: Request,
        principal: Principal = Editor,
        if_match: str | None = Header(default=None, alias="If-Match"),
    ) -> Write:
        if merge_patch:
            _check_merge_patch(request)
        body = await read_json(request)
        return Write(body, principal.key_id, if_rev(if_match))

    return Depends(dependency)


Replacement = _write(merge_patch=False)  # PUT
MergePatch = _write(merge_patch=True)  # PATCH


def _check_merge_patch(request: Request) -> None:
    content_type = (request.headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if content_type == "application/json-patch+json":
        raise Invalid(
            "PATCH takes a JSON merge patch (application/merge-patch+json or application/json), not JSON Patch"
        )
