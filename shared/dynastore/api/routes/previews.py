"""``GET <asset path>/preview.png``: the PNG preview the ``thumbnail`` task stored (404 when none).

Read-only, so a reader key suffices; the preview is small (≤ 1024 px), so it is streamed, not redirected.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from dynastore.api.deps import ASSET_LEVELS, Reader, get_services
from dynastore.api.routes.assets import _resolved
from dynastore.domain.previews import PREVIEW_MEDIA_TYPE
from dynastore.services.assets import Scope
from dynastore.services.auth import Principal
from dynastore.services.previews import preview_of

router = APIRouter(tags=["assets"])


def register_level(base: str, scope_dependency: Callable[..., Scope], label: str) -> None:
    scope_dep = Depends(scope_dependency)

    @router.get(
        f"{base}/{{asset_id}}/preview.png",
        summary=f"The PNG preview of a {label} raster asset (made by the thumbnail task)",
        description="404 when the asset has no preview (or only one of older bytes): run the `thumbnail` task.",
        response_class=Response,
        responses={200: {"content": {PREVIEW_MEDIA_TYPE: {}}}},
    )
    def asset_preview(
        request: Request, asset_id: str, principal: Principal = Reader, scope: Scope = scope_dep
    ) -> Response:
        services = get_services(request)
        _, blobs, info = preview_of(services.assets, scope, _resolved(request, scope, asset_id))
        headers = {"Cache-Control": "private, max-age=60"}
        if info.etag:
            headers["ETag"] = f'"{info.etag}"'
        return Response(blobs.get(info.key), media_type=PREVIEW_MEDIA_TYPE, headers=headers)


for _base, _scope_dependency, _label in ASSET_LEVELS:
    register_level(_base, _scope_dependency, _label)
