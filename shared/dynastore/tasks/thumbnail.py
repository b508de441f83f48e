"""``thumbnail``: a small PNG preview of a raster asset (the web page's version comparison shows it).

The preview is a derived file at ``<dir>/.previews/<file name>.png`` (see ``tasks/preview.py``: not
indexed, no asset of its own) and the source asset records it in ``metadata.preview`` with the
checksum of the bytes it was rendered from. A second run on the same bytes and size does no work.
Readers fetch it with ``GET <asset path>/preview.png``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from dynastore.domain import time as dtime
from dynastore.domain.previews import PREVIEW_MEDIA_TYPE, preview_key
from dynastore.errors import Invalid, NotFound
from dynastore.tasks import preview, raster
from dynastore.tasks.base import Task, TaskInputs
from dynastore.tasks.context import TaskContext

MIN_SIZE, MAX_SIZE = 16, 1024


class ThumbnailInputs(TaskInputs):
    max_size: int = Field(
        default=preview.DEFAULT_MAX_SIZE, ge=MIN_SIZE, le=MAX_SIZE, description="long side of the preview in pixels"
    )
    force: bool = Field(default=False, description="render again even when a preview of the same bytes exists")


class ThumbnailOutputs(BaseModel):
    key: str
    type: str
    width: int
    height: int
    source_checksum: str | None
    reused: bool = Field(description="True when an existing preview of the same bytes was kept (no rendering)")
    overview_level: int | None = None


class ThumbnailTask(Task):
    id = "thumbnail"
    title = "Raster preview (PNG thumbnail)"
    description = (
        "Render a small PNG preview of a raster asset (GeoTIFF/COG, PNG or JPEG): at most max_size pixels on the "
        "long side, read from the file's own overviews when it has them, 1 or 3 bands stretched to 8 bits between "
        "the 2nd and 98th percentile, nodata transparent. Stored next to the asset as <dir>/.previews/<file>.png "
        "(not indexed) and recorded in the asset's metadata.preview; GET <asset path>/preview.png serves it. "
        "Idempotent: the same bytes are not rendered twice."
    )
    Inputs = ThumbnailInputs
    Outputs = ThumbnailOutputs
    keywords = ("preview", "thumbnail", "raster", "cog", "png")

    def run(self, ctx: TaskContext, inputs: ThumbnailInputs) -> dict[str, Any]:
        source_key = ctx.blob_key() if ctx.blobs is not None else ctx.local_copy().name
        key = preview_key(source_key)
        checksum = ctx.asset.get("file:checksum")
        existing = (ctx.asset.get("metadata") or {}).get("preview") or {}
        if not inputs.force and _current(ctx, existing, key, checksum, inputs.max_size):
            ctx.progress(100, "the preview of these bytes exists already")
            return _outputs(existing, key, reused=True)
        ctx.progress(5, "fetching the file")
        source = ctx.local_copy()
        if not raster.is_raster(source):  # an XML/VRT document raises its own Invalid here
            raise Invalid(
                f"{source.name} ({ctx.asset.get('type') or 'unknown type'}) is not a raster: the thumbnail task "
                f"previews {raster.READABLE} files"
            )
        ctx.progress(30, "rendering the preview")
        target = ctx.temp_path("preview.png")
        rendered = preview.render_preview(source, target, max_size=inputs.max_size)
        ctx.check_cancelled()
        record = {
            "key": key,
            "type": PREVIEW_MEDIA_TYPE,
            "source_checksum": checksum,
            "max_size": inputs.max_size,
            **rendered,
            "created": dtime.now_iso(),
            "job_id": ctx.job_id,
        }
        ctx.stage_file(key, target, PREVIEW_MEDIA_TYPE, {"source_checksum": str(checksum or "")})
        ctx.update_asset({"metadata": {"preview": record}})
        ctx.progress(100, "preview ready")
        return _outputs(record, key, reused=False)


def _current(ctx: TaskContext, existing: dict[str, Any], key: str, checksum: Any, max_size: int) -> bool:
    """Is the recorded preview one of these very bytes, at this size, still stored?"""
    if not checksum or existing.get("key") != key or existing.get("source_checksum") != checksum:
        return False
    if existing.get("max_size") != max_size or ctx.blobs is None:
        return False
    try:
        ctx.blobs.stat(key)
    except NotFound:
        return False
    return True


def _outputs(record: dict[str, Any], key: str, *, reused: bool) -> dict[str, Any]:
    return {
        "key": key,
        "type": PREVIEW_MEDIA_TYPE,
        "width": record.get("width"),
        "height": record.get("height"),
        "source_checksum": record.get("source_checksum"),
        "reused": reused,
        "overview_level": record.get("overview_level"),
    }
