"""A small PNG preview of a raster, rendered inside the GDAL sandbox of ``tasks/raster.py``.

Pure functions on local files, used by the ``thumbnail`` task. The source is opened only through
``raster.open_raster`` (driver allow-list by magic bytes, no sibling files, no network); the
overview read is the smallest of the file's own overviews that still covers the preview size (a
COG's internal overviews; external ``.ovr`` files are never consulted), else a decimated read of
the full image. 1 band → grey, ≥ 3 bands → the first three as RGB, each stretched to 8 bits between
its 2nd and 98th percentile; nodata (or masked) pixels are transparent.

Where the preview lives and how the catalog treats it: ``domain/previews.py``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from dynastore.errors import Invalid
from dynastore.tasks import raster

DEFAULT_MAX_SIZE = 512
STRETCH_PERCENTILES = (2.0, 98.0)


def preview_size(width: int, height: int, max_size: int) -> tuple[int, int]:
    """(width, height) scaled so the long side is at most ``max_size`` (never enlarged, never 0)."""
    scale = min(1.0, max_size / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _overview_level(overviews: list[int], width: int, height: int, size: tuple[int, int]) -> int | None:
    """The index of the coarsest overview still at least ``size``, None when the full image is needed."""
    chosen: int | None = None
    for level, factor in enumerate(overviews):
        if width // factor >= size[0] and height // factor >= size[1]:
            chosen = level
    return chosen


def render_preview(source: Path, target: Path, *, max_size: int = DEFAULT_MAX_SIZE) -> dict[str, Any]:
    """Write a PNG preview of ``source`` at ``target``; returns what was rendered (size, bands, overview)."""
    with raster.open_raster(source, tmp_dir=target.parent) as ds:
        if ds.count == 0:
            raise Invalid(f"{source.name}: the raster has no bands to preview")
        size = preview_size(ds.width, ds.height, max_size)
        level = _overview_level(list(ds.overviews(1)), ds.width, ds.height, size)
        full = (ds.width, ds.height)
    with raster.open_raster(source, overview_level=level, tmp_dir=target.parent) as ds:
        from rasterio.enums import Resampling

        indexes = [1, 2, 3] if ds.count >= 3 else [1]
        data = ds.read(indexes, out_shape=(len(indexes), size[1], size[0]), resampling=Resampling.nearest, masked=True)
    rgba = _to_rgba(data)
    _write_png(rgba, target)
    return {
        "width": size[0],
        "height": size[1],
        "source_size": list(full),
        "bands": indexes,
        "overview_level": level,
        "stretch": list(STRETCH_PERCENTILES),
    }


def _to_rgba(data: np.ma.MaskedArray) -> np.ndarray:
    """Bands (1 or 3, masked) → 4 x H x W uint8: each band stretched 2-98 %, alpha 0 where any band is masked."""
    mask = np.ma.getmaskarray(data).any(axis=0)
    valid = ~mask
    bands = []
    for band in data:
        values = np.asarray(band.filled(0), dtype="float64")
        finite = valid & np.isfinite(values)
        if finite.any():
            low, high = np.percentile(values[finite], STRETCH_PERCENTILES)
        else:
            low = high = 0.0
        span = high - low
        scaled = (values - low) / span * 255.0 if span > 0 else np.where(finite, 255.0, 0.0)
        bands.append(np.clip(np.nan_to_num(scaled), 0, 255).astype("uint8"))
    if len(bands) == 1:
        bands = bands * 3
    alpha = np.where(valid, 255, 0).astype("uint8")
    return np.stack([*bands, alpha])


def _write_png(rgba: np.ndarray, target: Path) -> None:
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning

    with raster.locked_down(target.parent), warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a preview is a plain picture
        profile = {"driver": "PNG", "width": rgba.shape[2], "height": rgba.shape[1], "count": 4, "dtype": "uint8"}
        with rasterio.open(target, "w", **profile) as out:
            out.write(rgba)
