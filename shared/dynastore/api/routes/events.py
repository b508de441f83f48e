"""``POST /events/stac``: the ESGF publish envelopes of seed 003 (``services.stac_events``).

The catalog is ``?catalog_id=`` or, without one, ``DYNASTORE_ESGF_CATALOG_ID``. An editor of that
catalog may POST (replace) and PUT (merge patch, hide, restore); payload method DELETE (hard delete)
needs an admin. Every applied, duplicate or stale envelope answers 200 with its outcome.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from dynastore.api.deps import Editor, JSONResponse, get_services, read_json
from dynastore.api.routes._stac_common import _links
from dynastore.domain.ids import check_id
from dynastore.services.auth import Principal
from dynastore.services.stac_events import parse_envelope

router = APIRouter(tags=["events"])

ENVELOPE_EXAMPLE = {
    "metadata": {
        "auth": {"client_id": "<client_id>", "server": "esgf-login.ceda.ac.uk"},
        "publisher": {"package": "esgf_publisher", "version": "1.1.1"},
        "time": "2024-07-04T14:17:35Z",
        "schema_version": "1.0.0",
    },
    "data": {
        "type": "STAC",
        "version": "1.0.0",
        "payload": {"method": "PUT", "collection_id": "cmip6", "item_id": "CMIP6.x.v1", "item": {"hidden": True}},
    },
}


@router.post(
    "/events/stac",
    summary="Apply an ESGF publish envelope (POST replace, PUT merge patch / hidden, DELETE hard delete)",
    response_class=JSONResponse,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"example": ENVELOPE_EXAMPLE}}}},
    responses={
        403: {"description": "the key is not an editor of the catalog (admin for method DELETE)"},
        404: {"description": "the catalog or collection does not exist; PUT/DELETE of an unknown item"},
        400: {"description": "the envelope is invalid; the detail names each bad field"},
    },
)
async def post_stac_event(
    request: Request,
    principal: Principal = Editor,
    catalog_id: str | None = Query(default=None, description="the catalog (default DYNASTORE_ESGF_CATALOG_ID)"),
) -> JSONResponse:
    services = get_services(request)
    catalog = check_id(catalog_id or services.settings.esgf_catalog_id, "catalog_id")
    envelope = parse_envelope(await read_json(request))
    role = "admin" if envelope.payload.method == "DELETE" else "editor"
    principal = services.auth.authorize_in(principal, role, catalog)
    result = await run_in_threadpool(services.stac_events.apply, envelope, catalog_id=catalog, actor=principal.key_id)
    body = result.to_doc()
    if result.item is not None:
        body["item"] = await run_in_threadpool(services.stac.render_item, result.item, _links(request))
    return JSONResponse(body)
