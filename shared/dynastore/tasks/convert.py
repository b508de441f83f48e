"""``convert``: CSV/GeoJSON/GeoParquet → GeoJSON or GeoParquet, GeoTIFF → Cloud-Optimized GeoTIFF.

The result is a new asset next to the source (same catalog/collection/item), whose
``metadata.derived_from`` links back to the source asset; the source is left unchanged.
"""

from __future__ import annotations

import posixpath
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, Field

from dynastore.domain.ids import check_id, slug
from dynastore.errors import Invalid, NotFound
from dynastore.tasks import features as feats
from dynastore.tasks import raster
from dynastore.tasks.base import Task, TaskInputs
from dynastore.tasks.checksum import multihash_of
from dynastore.tasks.context import TaskContext

TargetFormat = Literal["geojson", "geoparquet", "cog"]
SUFFIXES: dict[str, str] = {"geojson": ".geojson", "geoparquet": ".parquet", "cog": ".cog.tif"}
MEDIA_TYPES: dict[str, str] = {
    "geojson": "application/geo+json",
    "geoparquet": "application/vnd.apache.parquet",
    "cog": "image/tiff; application=geotiff; profile=cloud-optimized",
}


class ConvertInputs(TaskInputs):
    format: TargetFormat = Field(
        validation_alias=AliasChoices("format", "target", "to"),
        description="geojson, geoparquet (vector) or cog (raster)",
    )
    column_mapping: feats.ColumnMapping | None = Field(
        default=None, description="for CSV sources: lon/lat or WKT columns"
    )
    asset_id: str | None = Field(default=None, description="id of the new asset; default: derived from its key")
    file_name: str | None = Field(default=None, description="file name of the new asset; default: source name + suffix")
    overwrite: bool = Field(default=False, description="replace an existing asset at the target")


class ConvertOutputs(BaseModel):
    asset_id: str
    key: str
    type: str
    format: str
    file_size: int = Field(alias="file:size")
    file_checksum: str = Field(alias="file:checksum")
    features: int | None = None
    cog: dict[str, Any] | None = None


class ConvertTask(Task):
    id = "convert"
    title = "Format conversion"
    description = (
        "Convert the asset to another format and store the result as a new asset linked to the source: "
        "CSV/GeoJSON/GeoParquet → GeoJSON or GeoParquet; GeoTIFF → Cloud-Optimized GeoTIFF."
    )
    Inputs = ConvertInputs
    Outputs = ConvertOutputs
    keywords = ("conversion", "cog", "geojson", "geoparquet")

    def run(self, ctx: TaskContext, inputs: ConvertInputs) -> dict[str, Any]:
        ctx.progress(2, "fetching the file")
        source = ctx.local_copy()
        source_key = ctx.blob_key() if ctx.blobs is not None else source.name
        name = inputs.file_name or _output_name(posixpath.basename(source_key), inputs.format)
        if "/" in name or name.startswith("."):
            raise Invalid(f"file_name {name!r} must be a plain file name")
        key = posixpath.join(posixpath.dirname(source_key), name)
        if key == source_key:
            raise Invalid("the converted file would replace its source; pass another file_name")
        asset_id = check_id(inputs.asset_id, "asset_id") if inputs.asset_id else _derived_id(ctx, key)
        self._check_target(ctx, asset_id, inputs.overwrite)

        target = ctx.temp_path(name)
        ctx.progress(10, f"converting to {inputs.format}")
        fields: dict[str, Any] = {}
        feature_count: int | None = None
        cog: dict[str, Any] | None = None
        if inputs.format == "cog":
            if not raster.is_raster(source):
                raise Invalid(f"{source.name}: cog conversion needs a raster (GeoTIFF) source")
            info = raster.to_cog(source, target)
            cog = info["cog"]
            fields.update(raster.stac_raster_fields(info))
        else:
            fmt = feats.detect_format(source, ctx.asset.get("type"))
            _, rows = feats.read_rows(source, fmt)
            features = feats.to_features(rows, inputs.column_mapping, id_prefix="feature", source=source.name)
            writer = feats.write_geojson if inputs.format == "geojson" else feats.write_geoparquet
            feature_count = writer(_checked(ctx, features), target)
        ctx.progress(90, "hashing the result")
        with target.open("rb") as reader:
            checksum, size = multihash_of(reader)
        media_type = MEDIA_TYPES[inputs.format]
        source_doc = ctx.asset
        fields.update(
            {
                "id": asset_id,
                "type": media_type,
                "roles": list(source_doc.get("roles") or ["data"]),
                "title": f"{source_doc.get('title') or source_doc.get('id')} ({inputs.format})",
                "description": source_doc.get("description"),
                "file:size": size,
                "file:checksum": checksum,
                "metadata": {
                    "derived_from": {
                        "catalog_id": source_doc.get("catalog_id"),
                        "asset_id": source_doc.get("id"),
                        "href": source_doc.get("href"),
                        "task": self.id,
                        "job_id": ctx.job_id,
                    }
                },
            }
        )
        for time_field in ("datetime", "start_datetime", "end_datetime"):
            if source_doc.get(time_field):
                fields[time_field] = source_doc[time_field]
        if "bbox" not in fields and source_doc.get("bbox"):
            fields["bbox"] = source_doc["bbox"]
        ctx.stage_asset(key, target, fields)
        ctx.progress(95, "result ready")
        return {
            "asset_id": asset_id,
            "key": key,
            "type": media_type,
            "format": inputs.format,
            "file:size": size,
            "file:checksum": checksum,
            "features": feature_count,
            "cog": cog,
        }

    @staticmethod
    def _check_target(ctx: TaskContext, asset_id: str, overwrite: bool) -> None:
        if ctx.store is None:
            return
        try:
            existing = ctx.store.get_asset(ctx.catalog_id, asset_id)
        except NotFound:
            return
        derived = (existing.get("metadata") or {}).get("derived_from") or {}
        if not overwrite and derived.get("job_id") != ctx.job_id:
            raise Invalid(f"asset {asset_id!r} exists already; pass overwrite: true or another asset_id/file_name")


def _checked(ctx: TaskContext, features: Any) -> Any:
    for count, feature in enumerate(features, start=1):
        if count % 500 == 0:
            ctx.check_cancelled()
        yield feature


def _output_name(source_name: str, fmt: str) -> str:
    stem = source_name
    for suffix in (".cog.tif", ".tiff", ".tif", ".geojson", ".json", ".parquet", ".geoparquet", ".csv"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return stem + SUFFIXES[fmt]


def _derived_id(ctx: TaskContext, key: str) -> str:
    """The id an upload or the indexer gives this key: the slug of the key below the catalog prefix."""
    prefix = f"{ctx.catalog_id}/"
    relative = key[len(prefix) :] if key.startswith(prefix) else key
    return slug(relative)
