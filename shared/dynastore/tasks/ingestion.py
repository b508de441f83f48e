"""``ingestion``: a tabular or vector asset → STAC items in a collection (seed 000).

Context-aware: ``catalog_id``, ``collection_id`` and ``ingestion_request.asset.code`` default to
the asset the task runs on. Items are staged and written together after the whole file was read,
so a bad row or a dismissal leaves the collection untouched.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dynastore.domain.ids import check_id, slug
from dynastore.domain.stac_version import STAC_VERSION
from dynastore.errors import Invalid, NotFound
from dynastore.tasks import features as feats
from dynastore.tasks.base import Task, TaskInputs
from dynastore.tasks.context import TaskContext

PROGRESS_EVERY = 500


class IngestionAssetRef(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str | None = Field(default=None, description="the code of the source asset; default: the asset's code or id")


class IngestionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset: IngestionAssetRef = Field(default_factory=IngestionAssetRef)
    column_mapping: feats.ColumnMapping = Field(default_factory=feats.ColumnMapping)
    format: feats.TableFormat | None = Field(
        default=None, description="csv, geojson or geoparquet; default: from type/extension"
    )
    item_id_prefix: str | None = Field(
        default=None, description="prefix of generated item ids; default: the asset code"
    )
    create_collection: bool = Field(default=True, description="create the collection when it does not exist")


class IngestionInputs(TaskInputs):
    catalog_id: str | None = Field(default=None, description="default: the asset's catalog")
    collection_id: str | None = Field(default=None, description="default: the asset's collection")
    ingestion_request: IngestionRequest = Field(default_factory=IngestionRequest)


class IngestionOutputs(BaseModel):
    catalog_id: str
    collection_id: str
    asset_code: str
    format: str
    items: int
    item_ids: list[str]
    collection_created: bool


class IngestionTask(Task):
    id = "ingestion"
    title = "Ingest features into a collection"
    description = (
        "Read a CSV (lon/lat or WKT columns), GeoJSON or GeoParquet asset and create or update one STAC item per "
        "record in a collection. `ingestion_request.column_mapping` names the id, datetime, geometry and property "
        "columns. catalog_id, collection_id and ingestion_request.asset.code default to the asset's own."
    )
    Inputs = IngestionInputs
    Outputs = IngestionOutputs
    keywords = ("ingestion", "csv", "geojson", "geoparquet", "items")

    def prepare_inputs(self, inputs: dict[str, Any], asset: dict[str, Any]) -> dict[str, Any]:
        prepared = dict(inputs)
        if prepared.get("catalog_id") is None:
            prepared["catalog_id"] = asset.get("catalog_id")
        if prepared.get("collection_id") is None:
            prepared["collection_id"] = asset.get("collection_id")
        request = dict(prepared.get("ingestion_request") or {})
        ref = dict(request.get("asset") or {})
        if not ref.get("code"):
            ref["code"] = asset.get("code") or asset.get("id")
        request["asset"] = ref
        prepared["ingestion_request"] = request
        return prepared

    def check_request(self, inputs: IngestionInputs, asset: dict[str, Any]) -> None:
        if not inputs.collection_id:
            raise Invalid(
                "ingestion needs a collection: run it on a collection or item asset, or pass inputs.collection_id"
            )
        check_id(inputs.collection_id, "collection_id")
        if inputs.catalog_id:
            check_id(inputs.catalog_id, "catalog_id")

    def run(self, ctx: TaskContext, inputs: IngestionInputs) -> dict[str, Any]:
        catalog_id = inputs.catalog_id or ctx.catalog_id
        collection_id = inputs.collection_id
        if not collection_id:
            raise Invalid(
                "ingestion needs a collection: run it on a collection or item asset, or pass inputs.collection_id"
            )
        check_id(catalog_id, "catalog_id")
        check_id(collection_id, "collection_id")
        request = inputs.ingestion_request
        code = request.asset.code or str(ctx.asset.get("id"))
        collection_created = self._check_target(ctx, catalog_id, collection_id, request.create_collection)
        ctx.staged.catalog_id = catalog_id

        ctx.progress(2, "fetching the file")
        path = ctx.local_copy()
        fmt = feats.detect_format(path, ctx.asset.get("type"), request.format)
        total, rows = feats.read_rows(path, fmt)
        default_dt = ctx.asset.get("datetime") or ctx.asset.get("start_datetime") or ctx.asset.get("created")
        features = feats.to_features(
            rows,
            request.column_mapping,
            id_prefix=request.item_id_prefix or slug(code),
            default_datetime=default_dt,
            source=path.name,
        )
        ids: list[str] = []
        bounds: list[float] | None = None
        for feature in features:
            ctx.stage_item(_item(feature, collection_id, code, ctx.asset))
            ids.append(feature.id)
            bounds = feats.union_bbox(bounds, feature.bbox)
            if len(ids) % PROGRESS_EVERY == 0:
                ctx.progress(5 + 90 * len(ids) / max(total, 1), f"{len(ids)} of {total} records read")
        if not ids:
            raise Invalid(f"{path.name}: no records to ingest")
        if collection_created:
            ctx.stage_collection(_collection(collection_id, bounds, ctx.asset, code))
        ctx.progress(98, f"{len(ids)} items ready")
        return {
            "catalog_id": catalog_id,
            "collection_id": collection_id,
            "asset_code": code,
            "format": fmt,
            "items": len(ids),
            "item_ids": ids,
            "collection_created": collection_created,
        }

    @staticmethod
    def _check_target(ctx: TaskContext, catalog_id: str, collection_id: str, create: bool) -> bool:
        """True when the collection must be created (the catalog must exist)."""
        if ctx.store is None:
            return False
        try:
            catalog = ctx.store.get_catalog(catalog_id)
        except NotFound:
            raise Invalid(f"catalog {catalog_id!r} does not exist") from None
        if catalog.get("status") == "retired":
            raise Invalid(f"catalog {catalog_id!r} is retired")
        try:
            ctx.store.get_collection(catalog_id, collection_id)
        except NotFound:
            if not create:
                raise Invalid(f"collection {collection_id!r} does not exist in catalog {catalog_id!r}") from None
            return True
        return False


def _item(feature: feats.Feature, collection_id: str, code: str, asset: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": [],
        "id": feature.id,
        "collection": collection_id,
        "geometry": feature.geometry,
        "properties": {
            **feature.properties,
            "dynastore:asset_code": code,
            "dynastore:source_asset": asset.get("id"),
        },
        "links": [],
        "assets": {},
    }
    if feature.bbox:
        item["bbox"] = feature.bbox
    return item


def _collection(collection_id: str, bounds: list[float] | None, asset: dict[str, Any], code: str) -> dict[str, Any]:
    return {
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "stac_extensions": [],
        "id": collection_id,
        "description": f"Items ingested from asset {code!r}",
        "license": "other",
        "extent": {
            "spatial": {"bbox": [bounds or [-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [[None, None]]},
        },
        "links": [],
    }
