"""``GET /health``: the service and each backend dependency."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from fastapi import APIRouter, Request

from dynastore import __version__
from dynastore.api.deps import JSONResponse, get_services
from dynastore.errors import DynastoreError
from dynastore.ports import HealthCheck

router = APIRouter(tags=["service"])
HEALTH_THREADS = 30  # 10 probes' checks at once


@router.get("/health", summary="Service and backend health", response_class=JSONResponse)
def health(request: Request) -> JSONResponse:
    services = get_services(request)
    adapters = services.adapters
    dependencies: list[tuple[str, HealthCheck]] = [
        ("blobs", adapters.blobs), ("store", adapters.store), ("queue", adapters.queue)
    ]
    results = list(_checker().map(_check, [adapter for _, adapter in dependencies]))
    checks = {name: result for (name, _), result in zip(dependencies, results, strict=True)}
    healthy = all(result["status"] == "ok" for result in results)
    body = {
        "status": "ok" if healthy else "unavailable",
        "service": "dynastore-assets",
        "version": __version__,
        "backend": services.settings.backend,
        "checks": checks,
    }
    return JSONResponse(body, status_code=200 if healthy else 503)


@cache
def _checker() -> ThreadPoolExecutor:
    """The checks run side by side: each waits on its own service (and, on a cold start, imports its
    SDK), so the answer takes the slowest one, not their sum. Kept threads: a local store's per-thread
    connection is opened once, not per probe. Idle threads are reused, so a few exist in practice; the
    bound is for probes that arrive while a dependency hangs (each waits only for its own checks, not
    queued behind the hung ones of earlier probes)."""
    return ThreadPoolExecutor(max_workers=HEALTH_THREADS, thread_name_prefix="health")


def _check(adapter: HealthCheck) -> dict[str, Any]:
    """One dependency's check: ok, or unavailable with what it said; how long it took."""
    started = time.perf_counter()
    try:
        adapter.health()
        check: dict[str, Any] = {"status": "ok", "adapter": type(adapter).__name__}
    except DynastoreError as exc:
        check = {"status": "unavailable", "adapter": type(adapter).__name__, "detail": exc.detail}
    except Exception as exc:  # a health probe must answer, whatever the adapter raised
        check = {"status": "unavailable", "adapter": type(adapter).__name__, "detail": type(exc).__name__}
    check["ms"] = round((time.perf_counter() - started) * 1000, 2)
    return check
