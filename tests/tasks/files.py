"""Real files the task tests generate: GeoTIFFs (rasterio), CSV, GeoJSON, GeoParquet (pyarrow)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

STATIONS = [
    # id, name, lon, lat, when, elevation
    ("st-1", "Alpha", 12.4964, 41.9028, "2024-03-01T10:00:00Z", 21.5),
    ("st-2", "Bravo", 9.1900, 45.4642, "2024-03-02T11:30:00Z", 120.0),
    ("st-3", "Charlie", 11.2558, 43.7696, "2024-03-03T08:15:00Z", 50.25),
]


def write_geotiff(
    path: Path,
    *,
    width: int = 64,
    height: int = 48,
    count: int = 2,
    epsg: int = 32633,
    nodata: float | None = 0,
    tiled: bool = False,
    dtype: str = "uint16",
) -> Path:
    import rasterio
    from affine import Affine

    data = (np.arange(width * height * count, dtype="uint32").reshape(count, height, width) % 250 + 1).astype(dtype)
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": count,
        "dtype": dtype,
        "crs": f"EPSG:{epsg}",
        "transform": Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 5000000.0),
        "nodata": nodata,
    }
    if tiled:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(data)
    return path


def write_stations_csv(path: Path, rows: list[tuple] | None = None, *, wkt: bool = False) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        if wkt:
            writer.writerow(["station_id", "name", "wkt", "observed", "elevation"])
            for sid, name, lon, lat, when, elev in rows or STATIONS:
                writer.writerow([sid, name, f"POINT ({lon} {lat})", when, elev])
        else:
            writer.writerow(["station_id", "name", "lon", "lat", "observed", "elevation"])
            for row in rows or STATIONS:
                writer.writerow(row)
    return path


def write_stations_geojson(path: Path) -> Path:
    features = [
        {
            "type": "Feature",
            "id": sid,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"name": name, "datetime": when, "elevation": elev},
        }
        for sid, name, lon, lat, when, elev in STATIONS
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def write_stations_geoparquet(path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq
    import shapely

    geoms = [shapely.Point(lon, lat) for _, _, lon, lat, _, _ in STATIONS]
    table = pa.table(
        {
            "station_id": [s[0] for s in STATIONS],
            "name": [s[1] for s in STATIONS],
            "observed": [s[4] for s in STATIONS],
            "elevation": [s[5] for s in STATIONS],
            "geometry": pa.array([shapely.to_wkb(g) for g in geoms], pa.binary()),
        }
    )
    geo = {
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Point"]}},
    }
    pq.write_table(table.replace_schema_metadata({b"geo": json.dumps(geo).encode()}), path)
    return path
