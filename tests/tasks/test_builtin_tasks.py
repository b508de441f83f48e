"""Each built-in task on real files the test writes (rasterio GeoTIFFs, CSV, GeoJSON, pyarrow GeoParquet).

The tasks run on a ``TaskContext`` over a local file (no store): these tests cover what a task
reads and stages; tests/tasks/test_jobs_*.py cover running them as jobs on stored assets.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from dynastore.errors import Invalid
from dynastore.tasks import TaskContext, default_registry
from dynastore.tasks.checksum import multihash_of
from dynastore.tasks.convert import ConvertTask
from dynastore.tasks.features import ColumnMapping, read_rows, to_features

from .files import (
    STATIONS,
    write_geotiff,
    write_stations_csv,
    write_stations_geojson,
    write_stations_geoparquet,
)

REGISTRY = default_registry(plugins=False)


def run(
    task_id: str, path: Path, inputs: dict[str, Any], asset: dict[str, Any] | None = None
) -> tuple[dict, TaskContext]:
    task = REGISTRY.get(task_id)
    asset = asset or {
        "id": path.name.replace(".", "-"),
        "catalog_id": "demo",
        "collection_id": "col",
        "href": f"file://{path}",
    }
    ctx = TaskContext(asset=asset, source_path=path, job_id="job-1")
    model = task.Inputs.model_validate(task.prepare_inputs(inputs, asset))
    out = task.run(ctx, model)
    result = out if isinstance(out, dict) else out.model_dump(by_alias=True)
    task.Outputs.model_validate(result)  # outputs honour the declared schema
    return result, ctx


# --------------------------------------------------------------------------------- gdalinfo


def test_gdalinfo_reports_raster_metadata_and_stages_stac_fields(tmp_path: Path) -> None:
    # GIVEN a 2-band UTM GeoTIFF with nodata 0
    tif = write_geotiff(tmp_path / "scene.tif", width=64, height=48, count=2, epsg=32633, nodata=0)

    # WHEN gdalinfo runs on it
    result, ctx = run("gdalinfo", tif, {})

    # THEN the report has driver, size, bands, dtype, CRS, geotransform, WGS84 bbox, nodata
    info = result["info"]
    assert result["kind"] == "raster"
    assert (info["driver"], info["width"], info["height"], info["count"]) == ("GTiff", 64, 48, 2)
    assert info["dtypes"] == ["uint16"]
    assert info["crs"]["epsg"] == 32633
    assert info["geotransform"] == [500000.0, 10.0, 0.0, 5000000.0, 0.0, -10.0]
    assert info["nodata"] == 0
    west, south, east, north = info["bbox_wgs84"]
    assert 14.9 < west < east < 15.1 and 45.0 < south < north < 45.2  # UTM 33N near 15°E
    assert info["cog"]["valid"] is True  # small image: stripped, no overviews needed
    # AND the asset gets proj:* / raster:bands / bbox staged
    update = ctx.staged.asset_update
    assert update["proj:epsg"] == 32633 and update["proj:shape"] == [48, 64]
    assert update["proj:transform"][:3] == [10.0, 0.0, 500000.0]
    assert [b["data_type"] for b in update["raster:bands"]] == ["uint16", "uint16"]
    assert update["raster:bands"][0]["nodata"] == 0
    assert update["bbox"] == info["bbox_wgs84"]


def test_gdalinfo_flags_a_large_stripped_tiff_as_not_cloud_optimized(tmp_path: Path) -> None:
    tif = write_geotiff(tmp_path / "big.tif", width=1024, height=1024, count=1)
    result, _ = run("gdalinfo", tif, {})
    cog = result["info"]["cog"]
    assert cog["valid"] is False
    assert any("not tiled" in p for p in cog["problems"]) and any("overviews" in p for p in cog["problems"])


def test_gdalinfo_summarizes_a_vector_file(tmp_path: Path) -> None:
    path = write_stations_geojson(tmp_path / "stations.geojson")
    result, ctx = run("gdalinfo", path, {})
    assert result["kind"] == "vector"
    assert result["info"]["feature_count"] == 3
    assert result["info"]["geometry_types"] == ["Point"]
    assert ctx.staged.asset_update["bbox"] == [9.19, 41.9028, 12.4964, 45.4642]


def test_gdalinfo_rejects_a_file_that_is_neither_raster_nor_vector(tmp_path: Path) -> None:
    path = tmp_path / "notes.bin"
    path.write_bytes(b"\x00\x01 not a raster")
    with pytest.raises(Invalid, match="neither a raster"):
        run("gdalinfo", path, {})


# --------------------------------------------------------------------------------- checksum


def test_checksum_recomputes_the_sha2_256_multihash_and_flags_a_mismatch(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.4 some bytes" * 1000)
    digest = "1220" + hashlib.sha256(path.read_bytes()).hexdigest()
    asset = {
        "id": "report",
        "catalog_id": "demo",
        "href": "file:///x",
        "file:checksum": "1220" + "0" * 64,
        "file:size": 3,
    }

    result, ctx = run("checksum", path, {}, asset)

    assert result["file:checksum"] == digest and result["file:size"] == path.stat().st_size
    assert result["mismatch"] is True and result["checksum_matches"] is False and result["size_matches"] is False
    assert ctx.staged.asset_update["file:checksum"] == digest
    assert ctx.staged.asset_update["metadata"]["integrity"]["status"] == "mismatch"


def test_checksum_confirms_matching_values_with_the_stored_algorithm(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    path.write_bytes(b"abc")
    sha512 = "1340" + hashlib.sha512(b"abc").hexdigest()
    asset = {"id": "a", "catalog_id": "demo", "href": "file:///x", "file:checksum": sha512, "file:size": 3}
    result, ctx = run("checksum", path, {}, asset)
    assert result["algorithm"] == "sha2-512" and result["mismatch"] is False
    assert ctx.staged.asset_update["metadata"]["integrity"]["status"] == "ok"


def test_multihash_convention_matches_the_upload() -> None:
    from io import BytesIO

    from dynastore.services.assets import sha256_multihash

    checksum, size = multihash_of(BytesIO(b"hello"))
    assert checksum == sha256_multihash(hashlib.sha256(b"hello").hexdigest()) and size == 5


# --------------------------------------------------------------------------------- ingestion


@pytest.mark.parametrize("kind", ["csv", "csv-wkt", "geojson", "geoparquet"])
def test_ingestion_stages_one_item_per_record_from_each_format(tmp_path: Path, kind: str) -> None:
    writers = {
        "csv": lambda: write_stations_csv(tmp_path / "stations.csv"),
        "csv-wkt": lambda: write_stations_csv(tmp_path / "stations.csv", wkt=True),
        "geojson": lambda: write_stations_geojson(tmp_path / "stations.geojson"),
        "geoparquet": lambda: write_stations_geoparquet(tmp_path / "stations.parquet"),
    }
    path = writers[kind]()
    mapping: dict[str, Any] = {} if kind == "geojson" else {"id": "station_id", "datetime": "observed"}

    result, ctx = run("ingestion", path, {"ingestion_request": {"column_mapping": mapping}})

    assert result["items"] == 3 and result["collection_id"] == "col" and result["catalog_id"] == "demo"
    items = {i["id"]: i for i in ctx.staged.items}
    assert sorted(items) == ["st-1", "st-2", "st-3"]
    first = items["st-1"]
    assert first["collection"] == "col" and first["geometry"] == {"type": "Point", "coordinates": [12.4964, 41.9028]}
    assert first["bbox"] == [12.4964, 41.9028, 12.4964, 41.9028]
    assert first["properties"]["datetime"] == "2024-03-01T10:00:00.000000Z"
    assert first["properties"]["name"] == "Alpha" and first["properties"]["elevation"] == 21.5
    assert "lon" not in first["properties"] and "station_id" not in first["properties"]


def test_ingestion_infers_catalog_collection_and_code_from_the_asset(tmp_path: Path) -> None:
    path = write_stations_csv(tmp_path / "stations.csv")
    asset = {"id": "stations-csv", "code": "ST-2024", "catalog_id": "demo", "collection_id": "obs", "href": "file:///x"}
    task = REGISTRY.get("ingestion")
    prepared = task.prepare_inputs({"ingestion_request": {"column_mapping": {}}}, asset)
    assert prepared["catalog_id"] == "demo" and prepared["collection_id"] == "obs"
    assert prepared["ingestion_request"]["asset"]["code"] == "ST-2024"
    result, ctx = run("ingestion", path, {"ingestion_request": {"column_mapping": {"properties": ["name"]}}}, asset)
    assert result["asset_code"] == "ST-2024"
    # no id column mapped: ids come from the code and the row number
    assert [i["id"] for i in ctx.staged.items] == ["ST-2024-1", "ST-2024-2", "ST-2024-3"]
    assert ctx.staged.items[0]["properties"]["dynastore:asset_code"] == "ST-2024"
    assert set(ctx.staged.items[0]["properties"]) == {
        "name",
        "datetime",
        "dynastore:asset_code",
        "dynastore:source_asset",
    }


def test_ingestion_needs_a_collection_for_a_catalog_level_asset(tmp_path: Path) -> None:
    path = write_stations_csv(tmp_path / "stations.csv")
    asset = {"id": "stations", "catalog_id": "demo", "href": "file:///x"}
    with pytest.raises(Invalid, match="needs a collection"):
        run("ingestion", path, {}, asset)


def test_ingestion_names_the_bad_row(tmp_path: Path) -> None:
    rows = [*STATIONS, ("st-4", "Delta", "east", 40.0, "2024-03-04T00:00:00Z", 1)]
    path = write_stations_csv(tmp_path / "stations.csv", rows)
    with pytest.raises(Invalid, match="row 4"):
        run("ingestion", path, {"ingestion_request": {"column_mapping": {"id": "station_id"}}})


def test_ingestion_rejects_an_unknown_column(tmp_path: Path) -> None:
    path = write_stations_csv(tmp_path / "stations.csv")
    with pytest.raises(Invalid, match="'nope' is not in the file"):
        run("ingestion", path, {"ingestion_request": {"column_mapping": {"id": "nope"}}})


def test_column_mapping_renames_properties_and_reads_an_interval(tmp_path: Path) -> None:
    path = tmp_path / "spans.csv"
    path.write_text("k,x,y,from,to,v\na,1,2,2024-01-01,2024-01-31,7\n")
    mapping = ColumnMapping.model_validate(
        {
            "id": "k",
            "lon": "x",
            "lat": "y",
            "start_datetime": "from",
            "end_datetime": "to",
            "properties": {"v": "value"},
        }
    )
    _, rows = read_rows(path, "csv")
    [feature] = list(to_features(rows, mapping))
    assert feature.id == "a" and feature.geometry == {"type": "Point", "coordinates": [1.0, 2.0]}
    assert feature.properties == {
        "value": 7,
        "datetime": None,
        "start_datetime": "2024-01-01T00:00:00.000000Z",
        "end_datetime": "2024-01-31T00:00:00.000000Z",
    }


# --------------------------------------------------------------------------------- convert


def test_convert_csv_to_geojson_and_geoparquet_round_trips(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    path = write_stations_csv(tmp_path / "stations.csv")
    mapping = {"id": "station_id", "datetime": "observed"}

    result, ctx = run("convert", path, {"format": "geojson", "column_mapping": mapping})
    [staged] = ctx.staged.assets
    assert staged.key == "stations.geojson" and result["features"] == 3
    doc = json.loads(staged.path.read_text())
    assert doc["type"] == "FeatureCollection" and [f["id"] for f in doc["features"]] == ["st-1", "st-2", "st-3"]
    assert staged.fields["type"] == "application/geo+json"
    assert staged.fields["metadata"]["derived_from"]["asset_id"] == "stations-csv"
    assert staged.fields["file:checksum"] == multihash_of(staged.path.open("rb"))[0]

    result, ctx = run("convert", path, {"target": "geoparquet", "column_mapping": mapping})
    [staged] = ctx.staged.assets
    assert staged.key == "stations.parquet"
    table = pq.read_table(staged.path)
    assert json.loads(table.schema.metadata[b"geo"])["primary_column"] == "geometry"
    # the GeoParquet written reads back as the same features
    _, rows = read_rows(staged.path, "geoparquet")
    back = list(to_features(rows, ColumnMapping(id="id")))
    assert [f.id for f in back] == ["st-1", "st-2", "st-3"]
    assert back[1].geometry == {"type": "Point", "coordinates": [9.19, 45.4642]}


def test_convert_geotiff_to_a_valid_cog(tmp_path: Path) -> None:
    from dynastore.tasks.raster import raster_info

    tif = write_geotiff(tmp_path / "big.tif", width=1024, height=1024, count=1)
    assert raster_info(tif)["cog"]["valid"] is False

    result, ctx = run("convert", tif, {"format": "cog"})

    [staged] = ctx.staged.assets
    assert staged.key == "big.cog.tif" and result["cog"]["valid"] is True
    info = raster_info(staged.path)
    assert info["cog"]["valid"] is True and info["cog"]["layout"] == "COG" and info["overviews"]
    assert staged.fields["proj:epsg"] == 32633 and "cloud-optimized" in staged.fields["type"]


def test_convert_refuses_cog_from_a_table(tmp_path: Path) -> None:
    path = write_stations_csv(tmp_path / "stations.csv")
    with pytest.raises(Invalid, match="needs a raster"):
        run("convert", path, {"format": "cog"})


def test_convert_output_names() -> None:
    from dynastore.tasks.convert import _output_name

    assert _output_name("B04.tif", "cog") == "B04.cog.tif"
    assert _output_name("stations.csv", "geoparquet") == "stations.parquet"
    assert ConvertTask.id == "convert"
