"""RFC 9457 problem details: the one mapping from errors to HTTP answers.

``dynastore.errors`` map through ``errors.http_status``; request validation, malformed JSON, unknown
routes and wrong methods get the same shape; anything unexpected is logged and answered with a
problem+json 500 that reveals nothing internal.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from dynastore.errors import DynastoreError, http_status

log = logging.getLogger("dynastore.api")
PROBLEM_JSON = "application/problem+json"
_TITLES = {
    400: "Invalid request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    411: "Length required",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal error",
    503: "Service unavailable",
}


def status_title(status: int) -> str:
    """The problem ``title`` of an HTTP status."""
    return _TITLES.get(status, "Error")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


class ProblemResponse(Response):
    media_type = PROBLEM_JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def problem(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> ProblemResponse:
    title = title or _TITLES.get(status, "Error")
    body: dict[str, Any] = {
        "type": f"urn:dynastore:problem:{_slug(title)}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return ProblemResponse(body, status_code=status, headers=headers)


def _instance(request: Request) -> str:
    return request.url.path


def _field_message(error: dict[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", ())]
    where = loc[0] if loc else "request"
    path = ".".join(loc[1:])
    kind = error.get("type", "")
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if kind == "json_invalid":
        ctx = error.get("ctx") or {}
        return f"request body is not valid JSON: {ctx.get('error', message)}"
    label = {"query": "query parameter", "path": "path parameter", "header": "header", "body": "body field"}.get(
        where, where
    )
    return f"{label} {path!r}: {message}" if path else f"{label}: {message}"


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DynastoreError)
    async def _dynastore_error(request: Request, exc: DynastoreError) -> Response:
        status = http_status(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if status >= 500:
            log.error("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc.detail)
        return problem(
            status,
            exc.detail,
            instance=_instance(request),
            title=exc.title,
            headers=headers,
            **{k: v for k, v in exc.extra.items() if isinstance(v, str | int | float | bool | list | dict)},
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = list(exc.errors())
        detail = "; ".join(_field_message(e) for e in errors) or "invalid request"
        return problem(
            400,
            detail,
            instance=_instance(request),
            title="Invalid request",
            errors=[{"loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in errors],
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}; see /api for the paths this service serves"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        return problem(exc.status_code, detail, instance=_instance(request), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(500, "an unexpected error occurred; it has been logged", instance=_instance(request))
