"""``GET /health``: the service and each backend dependency."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request

from dynastore import __version__
from dynastore.api.deps import JSONResponse, get_services
from dynastore.errors import DynastoreError
from dynastore.ports import HealthCheck

router = APIRouter(tags=["service"])


@router.get("/health", summary="Service and backend health", response_class=JSONResponse)
def health(request: Request) -> JSONResponse:
    services = get_services(request)
    adapters = services.adapters
    checks: dict[str, Any] = {}
    healthy = True
    dependencies: list[tuple[str, HealthCheck]] = [
        ("blobs", adapters.blobs), ("store", adapters.store), ("queue", adapters.queue)
    ]
    for name, adapter in dependencies:
        started = time.perf_counter()
        try:
            adapter.health()
            checks[name] = {"status": "ok", "adapter": type(adapter).__name__}
        except DynastoreError as exc:
            healthy = False
            checks[name] = {"status": "unavailable", "adapter": type(adapter).__name__, "detail": exc.detail}
        except Exception as exc:  # a health probe must answer, whatever the adapter raised
            healthy = False
            checks[name] = {"status": "unavailable", "adapter": type(adapter).__name__, "detail": type(exc).__name__}
        checks[name]["ms"] = round((time.perf_counter() - started) * 1000, 2)
    body = {
        "status": "ok" if healthy else "unavailable",
        "service": "dynastore-assets",
        "version": __version__,
        "backend": services.settings.backend,
        "checks": checks,
    }
    return JSONResponse(body, status_code=200 if healthy else 503)
