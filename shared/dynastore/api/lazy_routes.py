"""Routers included on first use, so a cold process answers its first request sooner.

Importing a route module builds its FastAPI routes (a pydantic field per parameter): the largest
part of the app's start. ``LazyRouters`` is an ASGI middleware that includes, before a request
is routed, only the route modules that can answer it:

- a path under a prefix of ``LAZY_GROUPS`` (``/health``, ``/stac``): the modules whose name starts
  with that group's name (``health``, ``stac*``);
- any other path (``/assets/...``, ``/api``, an unknown path): every module.

A group whose routes leave its prefix (a future ``stac_x.py`` serving ``/assets/...``) makes the
first request load everything, so laziness never changes an answer. ``app.openapi()`` loads
everything first. Modules load once, under a lock, in ``app.discover_routers`` order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

# path prefix -> module-name prefix of the route modules that serve it (and nothing else)
LAZY_GROUPS = {"/health": "health", "/stac": "stac"}

Discover = Callable[[Callable[[str], bool]], list[tuple[str, APIRouter]]]


class RouterLoader:
    """Includes the routers of ``dynastore.api.routes`` into ``app`` on demand."""

    def __init__(self, app: FastAPI, discover: Discover) -> None:
        self.app = app
        self.discover = discover
        self.loaded: set[str] = set()
        self.everything = False
        self._lock = threading.Lock()

    def load_for(self, path: str) -> None:
        if self.everything:
            return
        for prefix, module_prefix in LAZY_GROUPS.items():
            if path == prefix or path.startswith(prefix + "/"):
                if self._load(lambda name, m=module_prefix: name.startswith(m), prefix):  # type: ignore[misc]
                    return
                break
        self.load_all()

    def load_all(self) -> None:
        if not self.everything:
            self._load(lambda name: True, None)
            self.everything = True

    def _load(self, wanted: Callable[[str], bool], prefix: str | None) -> bool:
        """Include the wanted modules not yet included; False if one serves a path outside ``prefix``."""
        with self._lock:
            for name, router in self.discover(lambda n: wanted(n) and n not in self.loaded):
                if prefix is not None and any(not _under(getattr(r, "path", ""), prefix) for r in router.routes):
                    return False
                self.app.include_router(router)
                self.loaded.add(name)
            return True


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


class LazyRouters:
    """ASGI middleware: ``loader.load_for(path)`` before the app routes a request."""

    def __init__(self, app: ASGIApp, loader: RouterLoader) -> None:
        self.app = app
        self.loader = loader

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self.loader.everything:
            self.loader.load_for(scope.get("path", ""))
        await self.app(scope, receive, send)


def install_lazy_routers(app: FastAPI, discover: Discover) -> RouterLoader:
    """Route modules load on first use; ``app.openapi()`` loads them all first."""
    loader = RouterLoader(app, discover)
    app.state.router_loader = loader
    app.add_middleware(LazyRouters, loader=loader)
    build_document = app.openapi

    def openapi() -> dict[str, Any]:
        loader.load_all()
        return build_document()

    app.openapi = openapi  # type: ignore[method-assign]
    return loader
