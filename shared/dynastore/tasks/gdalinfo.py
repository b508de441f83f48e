"""``gdalinfo``: raster (and tabular/vector) metadata; fills ``proj:*``, ``raster:bands`` and ``bbox``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from dynastore.errors import Invalid
from dynastore.tasks import features as feats
from dynastore.tasks import raster
from dynastore.tasks.base import Task, TaskInputs
from dynastore.tasks.context import TaskContext


class GdalInfoInputs(TaskInputs):
    update_asset: bool = Field(default=True, description="write proj:*, raster:bands and bbox to the asset")


class GdalInfoOutputs(BaseModel):
    kind: Literal["raster", "vector"]
    info: dict[str, Any] = Field(
        description="gdalinfo-style report: driver, size, bands, CRS, geotransform, bbox, COG check"
    )
    stac: dict[str, Any] = Field(description="the STAC fields derived from the report (merged into the asset)")


class GdalInfoTask(Task):
    id = "gdalinfo"
    title = "Raster and vector metadata (gdalinfo)"
    description = (
        "Read a raster with GDAL (rasterio): driver, size, bands, data types, CRS, geotransform, bbox in WGS84, "
        "nodata, overviews and a Cloud-Optimized GeoTIFF layout check; fill the asset's STAC proj:* and "
        "raster:bands fields and its bbox. CSV, GeoJSON and GeoParquet files get a vector summary "
        "(feature count, geometry types, bbox, properties)."
    )
    Inputs = GdalInfoInputs
    Outputs = GdalInfoOutputs
    keywords = ("metadata", "raster", "gdal", "cog", "stac")

    def run(self, ctx: TaskContext, inputs: GdalInfoInputs) -> dict[str, Any]:
        ctx.progress(5, "fetching the file")
        path = ctx.local_copy()
        ctx.progress(40, "reading metadata")
        if raster.is_raster(path):
            info = raster.raster_info(path)
            stac = raster.stac_raster_fields(info)
            kind: Literal["raster", "vector"] = "raster"
        else:
            try:
                fmt = feats.detect_format(path, ctx.asset.get("type"))
            except Invalid:
                raise Invalid(
                    f"{path.name}: neither a raster GDAL can read nor a CSV/GeoJSON/GeoParquet file"
                ) from None
            _, rows = feats.read_rows(path, fmt)
            info = {"driver": fmt, **feats.summarize(feats.to_features(rows, source=path.name))}
            stac = {"bbox": info["bbox"]} if info.get("bbox") else {}
            kind = "vector"
        ctx.check_cancelled()
        if inputs.update_asset and stac:
            ctx.update_asset(stac)
        ctx.progress(100, "done")
        return {"kind": kind, "info": info, "stac": stac}
