"""FastAPI dependencies and small helpers every router shares.

- ``get_services(request)``: the process's ``Services`` (``app.state.services``).
- ``require_role("reader"|"editor"|"admin")``: a dependency that authenticates the request and
  returns its ``Principal(key_id, role, catalogs)``; its ``key_id`` is the audit ``actor``. On a path
  with ``{catalog_id}`` it also checks the key's catalog scope (403 outside it). List it BEFORE any
  dependency that validates the path, so a write without a key answers 401, not 400.
- ``visible_catalogs``: the catalogs a search by the caller covers (scoped keys: theirs only).
- ``read_json(request)``: the request body parsed with orjson (malformed → 400 problem+json).
- ``JSONResponse``: orjson-rendered responses for hot paths.
- ``IfMatch``: the revision of an ``If-Match`` header (None without one); ``etag_header(doc)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import Depends, Header, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from dynastore.bootstrap import Services
from dynastore.domain.asset import asset_path
from dynastore.domain.ids import check_id
from dynastore.domain.limits import check_json_depth
from dynastore.domain.search import Page
from dynastore.errors import Invalid, PayloadTooLarge, PreconditionFailed
from dynastore.services.assets import Scope
from dynastore.services.auth import Principal
from dynastore.services.revisions import etag

MAX_JSON_BODY = 64 * 1024 * 1024  # 10,000 assets of a few KiB each fit comfortably


class JSONResponse(Response):
    """JSON rendered with orjson (documents pass straight through)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def require_role(role: str) -> Callable[..., Principal]:
    """A dependency: the caller's principal, after checking it holds ``role`` (401/403 otherwise)."""

    def dependency(
        request: Request,
        authorization: str | None = Header(default=None, include_in_schema=False),
        x_api_key: str | None = Header(default=None, alias="X-API-Key", include_in_schema=False),
    ) -> Principal:
        auth = get_services(request).auth
        principal = auth.authenticate(auth.credential(authorization, x_api_key))
        return auth.authorize_in(principal, role, request.path_params.get("catalog_id"))

    dependency.__name__ = f"require_{role}"
    return dependency


def visible_catalogs(request: Request, principal: Principal, named: tuple[str, ...]) -> tuple[str, ...] | None:
    """The catalogs a cross-catalog search or list by ``principal`` covers.

    ``named`` catalogs must all be in the key's scope (403 otherwise, whatever exists); with none named
    an unscoped key covers every active catalog (``()``, as before) and a scoped key its active ones.
    None: the caller sees no catalog at all (answer an empty page)."""
    if named:
        principal.require_catalogs(named)
        return named
    if not principal.scoped:
        return ()
    mine = principal.visible(get_services(request).catalogs.active_ids())
    return mine or None


def if_rev(if_match: str | None) -> int | None:
    """The revision an If-Match names (``"<rev>"``, weak ``W/"<rev>"`` accepted); None for none or ``*``."""
    if not if_match or if_match.strip() == "*":
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise PreconditionFailed(f'If-Match {if_match!r} is not an ETag this service issued ("<revision>")')
    return int(value)


def _if_match(
    if_match: str | None = Header(
        default=None,
        alias="If-Match",
        description='the ETag you read ("<revision>"): the write is refused with 412 if the record changed since',
    ),
) -> int | None:
    return if_rev(if_match)


IfMatch = Depends(_if_match)


def etag_header(doc: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, str]:
    """``headers`` plus the record's ``ETag``."""
    return {**(headers or {}), "ETag": etag(doc)}


Reader = Depends(require_role("reader"))
Editor = Depends(require_role("editor"))
Admin = Depends(require_role("admin"))


def catalog_scope(catalog_id: str) -> Scope:
    return Scope(check_id(catalog_id, "catalog_id"))


def collection_scope(catalog_id: str, collection_id: str) -> Scope:
    return Scope(check_id(catalog_id, "catalog_id"), check_id(collection_id, "collection_id"))


def item_scope(catalog_id: str, collection_id: str, item_id: str) -> Scope:
    return Scope(
        check_id(catalog_id, "catalog_id"), check_id(collection_id, "collection_id"), check_id(item_id, "item_id")
    )


# The three places assets hang: (base path of their assets, the path's ``Scope`` as a dependency, label).
ASSET_LEVELS: tuple[tuple[str, Callable[..., Scope], str], ...] = (
    ("/assets/catalogs/{catalog_id}/assets", catalog_scope, "catalog-level"),
    ("/assets/catalogs/{catalog_id}/collections/{collection_id}/assets", collection_scope, "collection-level"),
    ("/assets/catalogs/{catalog_id}/collections/{collection_id}/items/{item_id}/assets", item_scope, "feature-linked"),
)


def page_document(
    page: Page[Any], key: str, links: list[dict[str, Any]], items: list[Any] | None = None
) -> dict[str, Any]:
    """One page of a list: ``{key: items, next, numberReturned, links}`` and ``numberMatched`` when known.

    ``items``: the page's records as rendered (default: as stored)."""
    records = page.items if items is None else items
    body: dict[str, Any] = {key: records, "next": page.next_token, "numberReturned": len(records), "links": links}
    if page.matched is not None:
        body["numberMatched"] = page.matched
    return body


async def read_json_object(request: Request, detail: str) -> dict[str, Any]:
    """A JSON body that must be an object; ``detail`` says what it should look like otherwise."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise Invalid(detail)
    return body


async def read_json(request: Request, *, max_bytes: int = MAX_JSON_BODY, required: bool = True) -> Any:
    """The JSON body (any JSON value); ``Invalid`` when it is malformed, or missing and ``required``
    (else None)."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise PayloadTooLarge(f"the JSON body is larger than {max_bytes} bytes")
    body = await request.body()
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"the JSON body is larger than {max_bytes} bytes")
    if not body.strip():
        if not required:
            return None
        raise Invalid("the request needs a JSON body")
    if len(body) > _INLINE_PARSE_BYTES:  # a large body is parsed off the event loop
        return await run_in_threadpool(_parse_json, body)
    return _parse_json(body)


_INLINE_PARSE_BYTES = 1024 * 1024


def _parse_json(body: bytes) -> Any:
    """Parse a body and check its depth (``MAX_JSON_DEPTH``): recursive code further on must not
    meet a document nested hundreds of levels deep."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"request body is not valid JSON: {exc}") from None
    check_json_depth(value, "the JSON body")
    return value


def base_url(request: Request) -> str:
    configured = get_services(request).settings.base_url
    return (configured or str(request.base_url)).rstrip("/")


def asset_url(request: Request, doc: dict[str, Any]) -> str:
    """The URL of an asset document in the asset API."""
    return f"{base_url(request)}{asset_path(doc)}"


def url_for_path(request: Request, path: str, params: dict[str, Any] | None = None) -> str:
    query = urlencode({k: v for k, v in (params or {}).items() if v is not None}, doseq=True)
    return f"{base_url(request)}{path}" + (f"?{query}" if query else "")


def next_link(request: Request, token: str | None) -> list[dict[str, Any]]:
    """``self`` and (when there is a next page) ``next`` links for a GET list."""
    self_href = url_for_path(request, request.url.path, _items_without(request, ()))
    links: list[dict[str, Any]] = [{"rel": "self", "href": self_href, "type": "application/json"}]
    if token:
        params = _items_without(request, ("token",))
        params["token"] = token
        links.append(
            {"rel": "next", "href": url_for_path(request, request.url.path, params), "type": "application/json"}
        )
    return links


def _items_without(request: Request, names: tuple[str, ...]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in request.query_params.multi_items():
        if key in names:
            continue
        params.setdefault(key, []).append(value)
    return params
