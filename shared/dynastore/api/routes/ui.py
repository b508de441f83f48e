"""The web page at ``/ui/`` (static files of ``dynastore.ui``) and ``GET /auth/whoami``, which the page
asks once to hide the write buttons from a reader.

Files are served only from inside the package's ``ui`` folder (a path that leaves it is a 404), with
their media type and a short cache lifetime; ``/ui`` redirects to ``/ui/``.
"""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse

from dynastore.api.deps import JSONResponse, Reader
from dynastore.errors import NotFound
from dynastore.services.auth import Principal
from dynastore.ui import STATIC_DIR, UI_PREFIX

router = APIRouter(tags=["service"])

# Python's table misses or misnames a few of ours on some hosts.
_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".json": "application/json"}


@router.get(UI_PREFIX, include_in_schema=False)
def ui_root(request: Request) -> RedirectResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    return RedirectResponse(f"{root}{UI_PREFIX}/", status_code=307)


@router.get(UI_PREFIX + "/{path:path}", include_in_schema=False)
def ui_file(path: str) -> FileResponse:
    target = (STATIC_DIR / (path or "index.html")).resolve()
    if target.is_dir():
        target = target / "index.html"
    if not target.is_relative_to(STATIC_DIR) or not target.is_file() or target.suffix == ".py":
        raise NotFound(f"no file {path!r} in the web page; start at {UI_PREFIX}/")
    media_type = _TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(target, media_type=media_type, headers={"Cache-Control": "public, max-age=300"})


@router.get("/auth/whoami", summary="The calling key's id, role and catalog scope", response_class=JSONResponse)
def whoami(principal: Principal = Reader) -> JSONResponse:
    catalogs = None if principal.catalogs is None else sorted(principal.catalogs)
    return JSONResponse({"key_id": principal.key_id, "role": principal.role, "catalogs": catalogs})
