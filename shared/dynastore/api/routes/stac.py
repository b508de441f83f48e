"""The STAC API (DESIGN §4.2): the ``/stac`` root and one STAC API landing page per catalog, with their
conformance classes and queryables. The rest of the STAC API lives beside it: ``stac_search.py``
(item and asset search), ``stac_collections.py``, ``stac_items.py`` (items and per-item assets);
what they share is in ``_stac_common.py``.

Handlers are thin: parse with ``dynastore.api.stac_params``, call ``services.stac``, render.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from dynastore.api.deps import JSONResponse, Reader
from dynastore.api.routes._stac_common import _links, _stac
from dynastore.services.auth import Principal
from dynastore.services.stac import OPENAPI

router = APIRouter(tags=["stac"])


@router.get("/stac", summary="STAC root: every active catalog, search, asset-search", response_class=JSONResponse)
def stac_root(request: Request, principal: Principal = Reader) -> JSONResponse:
    links = _links(request)
    doc = _stac(request).root(links)
    if principal.catalogs is not None:  # a scoped key sees links to its catalogs only
        mine = {links.catalog(c) for c in principal.catalogs}
        doc["links"] = [x for x in doc["links"] if x.get("rel") != "child" or x.get("href") in mine]
    return JSONResponse(doc)


@router.get("/stac/api", include_in_schema=False, response_class=JSONResponse)
def stac_service_desc(request: Request, principal: Principal = Reader) -> JSONResponse:
    """The OpenAPI document (as ``/api``) with the OpenAPI media type STAC clients ask for."""
    return JSONResponse(request.app.openapi(), media_type=OPENAPI)


@router.get("/stac/conformance", summary="Conformance classes of the root", response_class=JSONResponse)
def stac_conformance(request: Request, principal: Principal = Reader) -> JSONResponse:
    return JSONResponse(_stac(request).conformance())


@router.get("/stac/queryables", summary="Queryables of item search across catalogs", response_class=JSONResponse)
def stac_root_queryables(request: Request, principal: Principal = Reader) -> JSONResponse:
    doc = _stac(request).queryables(_links(request), None)
    return JSONResponse(doc, media_type="application/schema+json")


@router.get("/stac/catalogs/{catalog_id}", summary="A catalog's STAC API landing page", response_class=JSONResponse)
def catalog_landing(catalog_id: str, request: Request, principal: Principal = Reader) -> JSONResponse:
    return JSONResponse(_stac(request).landing(catalog_id, _links(request)))


@router.get("/stac/catalogs/{catalog_id}/conformance", summary="Conformance classes", response_class=JSONResponse)
def catalog_conformance(catalog_id: str, request: Request, principal: Principal = Reader) -> JSONResponse:
    return JSONResponse(_stac(request).conformance(catalog_id))


@router.get("/stac/catalogs/{catalog_id}/queryables", summary="Queryables (JSON Schema)", response_class=JSONResponse)
def catalog_queryables(catalog_id: str, request: Request, principal: Principal = Reader) -> JSONResponse:
    doc = _stac(request).queryables(_links(request), catalog_id)
    return JSONResponse(doc, media_type="application/schema+json")
