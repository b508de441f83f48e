"""Real files of every format the media type sniffer knows, generated with the real libraries."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import numpy as np


def _raster(path: Path, driver: str, *, geo: bool = True, **options: object) -> Path:
    import rasterio
    from affine import Affine

    data = (np.arange(64 * 64, dtype="uint16").reshape(1, 64, 64) % 200).astype("uint8")
    profile: dict[str, object] = {"driver": driver, "width": 64, "height": 64, "count": 1, "dtype": "uint8", **options}
    if geo:
        profile.update(crs="EPSG:32633", transform=Affine(10.0, 0, 500_000.0, 0, -10.0, 4_600_000.0))
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path


geotiff = partial(_raster, driver="GTiff")
cog = partial(_raster, driver="COG")


def plain_tiff(path: Path) -> Path:
    """A TIFF without georeferencing (an ordinary image)."""
    import warnings

    from rasterio.errors import NotGeoreferencedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        return _raster(path, "GTiff", geo=False)


png = partial(_raster, driver="PNG", geo=False)
jpeg = partial(_raster, driver="JPEG", geo=False)


def _netcdf(path: Path, netcdf_format: str) -> Path:
    import rasterio.shutil

    source = geotiff(path.with_suffix(".source.tif"))
    rasterio.shutil.copy(source, path, driver="netCDF", FORMAT=netcdf_format)
    source.unlink()
    return path


netcdf_classic = partial(_netcdf, netcdf_format="NC")
# NetCDF-4 is HDF5 underneath: the sniffer tells them apart by the extension.
netcdf4 = partial(_netcdf, netcdf_format="NC4")


def hdf5(path: Path) -> Path:
    # The HDF5 superblock signature followed by a version-0 superblock start (GDAL cannot write HDF5).
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes([0, 0, 0, 0, 0, 8, 8, 0]) + b"\x00" * 200)
    return path


def parquet(path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"]}), path)
    return path


def geojson(path: Path) -> Path:
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [12.5, 41.9]}, "properties": {"n": 1}}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def json_document(path: Path) -> Path:
    path.write_text(json.dumps({"name": "settings", "values": [1, 2, 3]}))
    return path


def zarr_metadata(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    zgroup = folder / ".zgroup"
    zgroup.write_text(json.dumps({"zarr_format": 2}))
    zarray = folder / "B04" / ".zarray"
    zarray.parent.mkdir(exist_ok=True)
    zarray.write_text(json.dumps({"zarr_format": 2, "shape": [64, 64], "chunks": [32, 32], "dtype": "<u2"}))
    v3 = folder / "v3" / "zarr.json"
    v3.parent.mkdir(exist_ok=True)
    v3.write_text(json.dumps({"zarr_format": 3, "node_type": "group"}))
    return [zgroup, zarray, v3]


def pdf(path: Path) -> Path:
    path.write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )
    return path


def csv_file(path: Path) -> Path:
    path.write_text("id,name,lon,lat\n1,Alpha,12.49,41.90\n2,Bravo,9.19,45.46\n")
    return path
