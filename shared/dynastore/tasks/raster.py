"""Raster metadata and Cloud-Optimized GeoTIFF conversion through rasterio (its wheels bundle GDAL).

Pure functions on local files, used by the ``gdalinfo`` and ``convert`` tasks.

What GDAL may open (the security model's "tasks open only the asset's own bytes"): a task input is
sniffed first; its magic bytes pick one driver from ``RASTER_SIGNATURES`` and GDAL is told to try
only that one, under ``LOCKED_DOWN_CONFIG``. Formats whose content names other files or URLs are
never opened:

- VRT (raw bands read any server file, sources any /vsicurl/ URL), GTI tile indexes, WMS, WMTS, WCS,
  HTTP, EEDA, PLMosaic and the other XML or connection-string drivers: an XML document is refused
  with its own message (``Invalid``), anything else unknown is "not a raster".
- netCDF and HDF5: HDF5 external links, external raw storage and virtual datasets read other files.
- MBTiles, GeoPackage and other SQLite containers: not needed as task input, so not exposed.
- JPEG 2000 (JP2OpenJPEG): its GMLJP2 boxes carry GML with links GDAL may follow; not audited, so
  not on the list yet.

A GeoTIFF's embedded GDAL metadata can still name an external overview file (``OVERVIEWS`` domain,
``OVERVIEW_FILE``), which GDAL would open with *any* driver on first use of the overviews:
``open_raster`` refuses such a file before anything asks for overviews.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dynastore.errors import Invalid

COG_OVERVIEW_THRESHOLD = 512  # GDAL's COG validator expects overviews above this size

# (leading bytes, the only GDAL driver allowed to open them). COG is read by the GTiff driver.
RASTER_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"II*\x00", "GTiff"),  # classic TIFF, little-endian
    (b"MM\x00*", "GTiff"),  # classic TIFF, big-endian
    (b"II+\x00", "GTiff"),  # BigTIFF
    (b"MM\x00+", "GTiff"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
)
ALLOWED_DRIVERS: frozenset[str] = frozenset(driver for _, driver in RASTER_SIGNATURES)
READABLE = "GeoTIFF/COG, PNG or JPEG"

# GDAL configuration while a task touches a raster.
LOCKED_DOWN_CONFIG: dict[str, str] = {
    # no sibling files: no .aux.xml, .ovr, .msk or world file from next to the input is consulted
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    # no PAM side-car either way: nothing read from, nor written next to, input or output
    "GDAL_PAM_ENABLED": "NO",
    # /vsicurl/, /vsicurl_streaming/ and the cloud handlers built on them open only this exact name,
    # which is no URL: GDAL makes no network request, whatever a file names
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "dynastore:network-disabled",
}
_XML_SNIFF_BYTES = 1024


def raster_driver(path: Path) -> str | None:
    """The one driver allowed to open ``path`` (from its magic bytes), None when it is no raster we read.

    ``Invalid`` for an XML document (GDAL VRT and its kin): those describe rasters held elsewhere."""
    with path.open("rb") as handle:
        head = handle.read(_XML_SNIFF_BYTES)
    for signature, driver in RASTER_SIGNATURES:
        if head.startswith(signature):
            return driver
    if head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<"):
        raise Invalid(
            f"{path.name} is an XML document (a GDAL VRT or similar raster description): raster tasks refuse "
            f"VRT/XML input because it can point GDAL at other files or URLs; upload the raster itself ({READABLE})"
        )
    return None


def is_raster(path: Path) -> bool:
    return raster_driver(path) is not None


@contextmanager
def locked_down(tmp_dir: Path | None = None) -> Iterator[None]:
    """GDAL under ``LOCKED_DOWN_CONFIG`` (and its temporary files in ``tmp_dir``)."""
    import rasterio

    options = dict(LOCKED_DOWN_CONFIG)
    if tmp_dir is not None:
        options["CPL_TMPDIR"] = str(tmp_dir)
    with rasterio.Env(**options):
        yield


@contextmanager
def open_raster(path: Path, *, overview_level: int | None = None, tmp_dir: Path | None = None) -> Iterator[Any]:
    """The raster at ``path``, opened by its one allowed driver inside ``locked_down`` (kept for the block)."""
    import rasterio
    from rasterio.errors import RasterioIOError

    driver = raster_driver(path)
    if driver is None:
        raise Invalid(f"{path.name}: not a raster tasks read ({READABLE})")
    extra: dict[str, Any] = {} if overview_level is None else {"overview_level": overview_level}
    with locked_down(tmp_dir or path.parent):
        try:
            ds = rasterio.open(path, driver=driver, **extra)
        except RasterioIOError as exc:
            raise Invalid(f"{path.name}: not a {driver} file GDAL can read: {exc}") from exc
        with ds:
            _refuse_external_references(ds, path)
            yield ds


def _refuse_external_references(ds: Any, path: Path) -> None:
    if ds.driver != raster_driver(path):  # the allow-list is the point: never trust a fallback
        raise Invalid(f"{path.name}: opened as {ds.driver}, which raster tasks do not read")
    named = ds.tags(ns="OVERVIEWS")
    if named:
        items = ", ".join(f"{key}={value!r}" for key, value in named.items())
        raise Invalid(
            f"{path.name}: its embedded GDAL metadata names an external overview file ({items}); "
            "tasks read only the asset's own bytes: rewrite the file without that metadata"
        )


def raster_info(path: Path) -> dict[str, Any]:
    """gdalinfo-style metadata: driver, size, bands, CRS, geotransform, bounds, overviews, COG check."""
    from rasterio.warp import transform_bounds

    with open_raster(path) as ds:
        crs = ds.crs
        epsg = crs.to_epsg() if crs else None
        bounds = [float(v) for v in ds.bounds]
        wgs84: list[float] | None = None
        crs_error: str | None = None
        if crs is not None:
            try:
                wgs84 = [round(float(v), 9) for v in transform_bounds(crs, "EPSG:4326", *bounds, densify_pts=21)]
            except Exception as exc:  # a CRS GDAL cannot transform: report it, keep the rest
                wgs84 = None
                crs_error = str(exc)
        else:
            crs_error = "no CRS"
        bands = []
        for index in ds.indexes:
            block_h, block_w = ds.block_shapes[index - 1]
            bands.append(
                {
                    "index": index,
                    "data_type": ds.dtypes[index - 1],
                    "nodata": _json_number(ds.nodatavals[index - 1]),
                    "description": ds.descriptions[index - 1],
                    "color_interpretation": ds.colorinterp[index - 1].name,
                    "block_size": [block_w, block_h],
                    "overviews": list(ds.overviews(index)),
                    "scale": _json_number(ds.scales[index - 1]),
                    "offset": _json_number(ds.offsets[index - 1]),
                    "unit": ds.units[index - 1] or None,
                }
            )
        transform = ds.transform
        info: dict[str, Any] = {
            "driver": ds.driver,
            "width": ds.width,
            "height": ds.height,
            "count": ds.count,
            "dtypes": list(dict.fromkeys(ds.dtypes)),
            "crs": {"epsg": epsg, "wkt": crs.to_wkt() if crs else None} if crs else None,
            "geotransform": list(transform.to_gdal()),
            "transform": [transform.a, transform.b, transform.c, transform.d, transform.e, transform.f],
            "resolution": [abs(transform.a), abs(transform.e)],
            "bounds": bounds,
            "bbox_wgs84": wgs84,
            "nodata": _json_number(ds.nodata),
            "bands": bands,
            "overviews": list(ds.overviews(1)) if ds.count else [],
            "compression": ds.compression.value if ds.compression else None,
            "interleave": ds.interleaving.value if ds.interleaving else None,
            "tiled": bool(ds.profile.get("tiled", False)),
            "metadata": ds.tags(),
        }
        if crs_error:
            info["crs_note"] = crs_error
        info["cog"] = cog_check(ds)
    return info


def _json_number(value: Any) -> Any:
    if value is None:
        return None
    number = float(value)
    if number != number:  # NaN nodata
        return "nan"
    if number in (float("inf"), float("-inf")):
        return "inf" if number > 0 else "-inf"
    return int(number) if number.is_integer() else number


def cog_check(ds: Any) -> dict[str, Any]:
    """Is the file laid out as a Cloud-Optimized GeoTIFF? (the checks of GDAL's validator)"""
    problems: list[str] = []
    if ds.driver != "GTiff":
        problems.append(f"driver is {ds.driver}, not GTiff")
        return {"valid": False, "problems": problems}
    large = ds.width > COG_OVERVIEW_THRESHOLD or ds.height > COG_OVERVIEW_THRESHOLD
    block_h, block_w = ds.block_shapes[0]
    tiled = block_w < ds.width or (block_w == ds.width and block_h == ds.height and not large)
    if large and (block_w == ds.width):
        problems.append("the image is not tiled (strips)")
    overviews = ds.overviews(1) if ds.count else []
    if large and not overviews:
        problems.append(f"no overviews on an image larger than {COG_OVERVIEW_THRESHOLD} px")
    layout = ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT")
    try:
        main_ifd = int(ds.get_tag_item("IFD_OFFSET", "TIFF", bidx=1) or 0)
        main_data = int(ds.get_tag_item("BLOCK_OFFSET_0_0", "TIFF", bidx=1) or 0)
    except Exception:  # very old GDAL: no TIFF domain
        main_ifd = main_data = 0
    if overviews:
        ovr_ifds, ovr_data = [], []
        for level in range(len(overviews)):
            with open_raster(Path(ds.name), overview_level=level) as ovr:
                ovr_ifds.append(int(ovr.get_tag_item("IFD_OFFSET", "TIFF", bidx=1) or 0))
                ovr_data.append(int(ovr.get_tag_item("BLOCK_OFFSET_0_0", "TIFF", bidx=1) or 0))
        if main_ifd and any(o and o < main_ifd for o in ovr_ifds):
            problems.append("overview IFDs come before the main IFD")
        if main_data and any(o and o > main_data for o in ovr_data):
            problems.append("main image data comes before the overview data (overviews should come first)")
    return {
        "valid": not problems,
        "problems": problems,
        "tiled": tiled,
        "block_size": [block_w, block_h],
        "overview_count": len(overviews),
        "layout": layout,
    }


def stac_raster_fields(info: dict[str, Any]) -> dict[str, Any]:
    """The STAC ``proj:*`` and ``raster:bands`` fields (and ``bbox``) of a ``raster_info`` result."""
    fields: dict[str, Any] = {
        "proj:shape": [info["height"], info["width"]],
        "proj:transform": info["transform"],
        "proj:bbox": info["bounds"],
    }
    crs = info.get("crs")
    if crs and crs.get("epsg"):
        fields["proj:epsg"] = crs["epsg"]
        fields["proj:code"] = f"EPSG:{crs['epsg']}"
    elif crs:
        fields["proj:epsg"] = None
        fields["proj:wkt2"] = crs["wkt"]
    raster_bands = []
    for band in info["bands"]:
        entry: dict[str, Any] = {"data_type": band["data_type"], "spatial_resolution": info["resolution"][0]}
        if band["nodata"] is not None:
            entry["nodata"] = band["nodata"]
        if band["scale"] not in (None, 1):
            entry["scale"] = band["scale"]
        if band["offset"] not in (None, 0):
            entry["offset"] = band["offset"]
        if band["unit"]:
            entry["unit"] = band["unit"]
        raster_bands.append(entry)
    fields["raster:bands"] = raster_bands
    if info.get("bbox_wgs84"):
        fields["bbox"] = info["bbox_wgs84"]
    return fields


def to_cog(source: Path, target: Path, *, compress: str = "DEFLATE", blocksize: int = 512) -> dict[str, Any]:
    """Write ``source`` as a Cloud-Optimized GeoTIFF at ``target`` (GDAL's COG driver builds the overviews).

    GDAL reads the already-checked open dataset (never the path again) and keeps its temporary files
    next to ``target``, in the task's work folder."""
    from rasterio.errors import RasterioError
    from rasterio.shutil import copy as rio_copy

    with open_raster(source, tmp_dir=target.parent) as ds:
        if ds.count == 0:
            raise Invalid(f"{source.name}: the raster has no bands")
        try:
            rio_copy(
                ds,
                str(target),
                driver="COG",
                COMPRESS=compress,
                BLOCKSIZE=str(blocksize),
                OVERVIEWS="AUTO",
                NUM_THREADS="ALL_CPUS",
            )
        except RasterioError as exc:
            raise Invalid(f"{source.name}: GDAL could not write a COG: {exc}") from exc
    return raster_info(target)
