"""The one ASGI app every host serves (uvicorn locally, functions-framework on GCP, Mangum on AWS).

``create_app(services)`` builds it around an already bootstrapped ``Services``. Routers live in
``dynastore.api.routes``: every module there that defines ``router`` (a FastAPI ``APIRouter``)
is included, in the order of ``ROUTER_ORDER`` first and then by module name. So another issue
plugs its endpoints in by adding ``api/routes/<name>.py`` (``stac*.py``, ``tasks*.py``,
``ingest*.py``, ...) without editing this file. Paths are absolute in each router (``/assets/...``,
``/stac/...``). They are included on first use (``api/lazy_routes.py``): a cold process answers
``/health`` or ``/stac`` without importing the other route modules.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from starlette.middleware.cors import CORSMiddleware

from dynastore import __version__
from dynastore.api.lazy_routes import install_lazy_routers
from dynastore.api.openapi import install_openapi
from dynastore.api.problems import install_problem_handlers
from dynastore.bootstrap import Services

log = logging.getLogger("dynastore.api")

# Routers included first, in this order; the rest follow sorted by module name.
ROUTER_ORDER = ("health", "catalogs", "assets", "search")

OPENAPI_TAGS = [
    {"name": "service", "description": "health and API description"},
    {"name": "catalogs", "description": "catalogs (projects): create provisions storage, delete retires"},
    {"name": "assets", "description": "assets at catalog, collection and item level"},
    {"name": "search", "description": "asset search, bulk upsert, bulk get and export"},
]


def discover_routers(wanted: Callable[[str], bool] = lambda name: True) -> list[tuple[str, APIRouter]]:
    """Every ``router`` in the modules of ``dynastore.api.routes`` (those whose name is ``wanted``),
    in inclusion order."""
    from dynastore.api import routes

    names = [m.name for m in pkgutil.iter_modules(routes.__path__) if not m.name.startswith("_") and wanted(m.name)]
    ordered = [n for n in ROUTER_ORDER if n in names] + sorted(n for n in names if n not in ROUTER_ORDER)
    found: list[tuple[str, APIRouter]] = []
    for name in ordered:
        module = importlib.import_module(f"dynastore.api.routes.{name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            found.append((name, router))
    return found


def create_app(services: Services, *, run_background: bool = False) -> FastAPI:
    """The FastAPI app over ``services``.

    With ``run_background`` the app starts ``services.background`` workers on startup and stops
    them on shutdown (what ``dynastore dev`` does); serverless hosts leave it off.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if run_background:
            services.start_background()
        try:
            yield
        finally:
            if run_background:
                services.close()

    app = FastAPI(
        title="Dynastore Assets",
        version=__version__,
        description=(
            "Files in buckets become a searchable, versioned, STAC-compliant asset catalog. "
            "Errors are RFC 9457 `application/problem+json`. Authenticate with "
            "`Authorization: Bearer <key>` or `X-API-Key: <key>`."
        ),
        openapi_url=None,  # served by install_openapi: /api (negotiated), /api.html, /api/redoc.html
        docs_url=None,
        redoc_url=None,
        openapi_tags=OPENAPI_TAGS,
        lifespan=lifespan,
    )
    app.state.services = services
    install_problem_handlers(app)
    install_openapi(app)
    # CORS: browser clients (STAC Browser) read the API from other origins; auth is a header, not a cookie.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=["ETag", "Location", "Link"],
    )
    install_lazy_routers(app, discover_routers)
    return app
