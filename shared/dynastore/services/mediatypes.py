"""What a file is (media type from its name and magic bytes) and its checksum (a multihash).

One checksum convention for the whole service: ``file:checksum`` is the SHA2-256 multihash
(``1220`` + hex digest), as the API's upload computes it. Storage-provided digests (GCS/S3 md5,
GCS crc32c) are not SHA2-256, so indexing streams the bytes once (taking the first bytes for the
magic-byte sniffing in the same pass) unless the record already holds the checksum of exactly
these bytes (same size and same storage md5/crc32c).

Media types follow STAC best practice: GeoTIFF ``image/tiff; application=geotiff``, COG
``...; profile=cloud-optimized``, NetCDF ``application/netcdf``, HDF5 ``application/x-hdf5``,
GeoJSON ``application/geo+json``, Parquet ``application/vnd.apache.parquet``, Zarr metadata
``application/vnd+zarr``.
"""

from __future__ import annotations

import hashlib
import mimetypes
import posixpath
import re
import struct
from dataclasses import dataclass
from typing import BinaryIO

SHA2_256_MULTIHASH_PREFIX = "1220"  # multicodec sha2-256 (0x12), 32 bytes (0x20)
MD5_MULTIHASH_PREFIX = "d50110"  # multicodec md5 (0xd5 as a varint: d5 01), 16 bytes (0x10)
HEAD_BYTES = 64 * 1024  # how much of a file the sniffer looks at
_CHUNK = 1024 * 1024

GEOTIFF = "image/tiff; application=geotiff"
COG = "image/tiff; application=geotiff; profile=cloud-optimized"
TIFF = "image/tiff"
NETCDF = "application/netcdf"
HDF5 = "application/x-hdf5"
HDF4 = "application/x-hdf"
GEOJSON = "application/geo+json"
JSON = "application/json"
PARQUET = "application/vnd.apache.parquet"
ZARR = "application/vnd+zarr"
PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
CSV = "text/csv"
TEXT = "text/plain"
OCTET_STREAM = "application/octet-stream"
GEOPACKAGE = "application/geopackage+sqlite3"

GENERIC_TYPES = frozenset(
    {"", OCTET_STREAM, "binary/octet-stream", "application/x-www-form-urlencoded", "application/unknown"}
)
ZARR_METADATA_NAMES = frozenset({".zarray", ".zgroup", ".zattrs", ".zmetadata", "zarr.json"})

_BY_EXTENSION: dict[str, str] = {
    ".tif": GEOTIFF,
    ".tiff": GEOTIFF,
    ".gtiff": GEOTIFF,
    ".nc": NETCDF,
    ".nc4": NETCDF,
    ".cdf": NETCDF,
    ".h5": HDF5,
    ".hdf5": HDF5,
    ".he5": HDF5,
    ".hdf": HDF4,
    ".geojson": GEOJSON,
    ".json": JSON,
    ".parquet": PARQUET,
    ".geoparquet": PARQUET,
    ".pq": PARQUET,
    ".zarr": ZARR,
    ".pdf": PDF,
    ".png": PNG,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".csv": CSV,
    ".txt": TEXT,
    ".md": "text/markdown",
    ".xml": "application/xml",
    ".gpkg": GEOPACKAGE,
    ".jp2": "image/jp2",
    ".fgb": "application/vnd.flatgeobuf",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".html": "text/html",
}
_NETCDF_EXTENSIONS = frozenset({".nc", ".nc4", ".cdf"})
_GEOJSON_TYPE = re.compile(
    rb'"type"\s*:\s*"(FeatureCollection|Feature|Point|MultiPoint|LineString|MultiLineString|Polygon|MultiPolygon|GeometryCollection)"'
)
# ModelPixelScale, ModelTiepoint, ModelTransformation, GeoKeyDirectory
_GEO_TIFF_TAGS = frozenset({33550, 33922, 34264, 34735})


# ------------------------------------------------------------------------------------ checksums


def sha256_multihash(hex_digest: str) -> str:
    return SHA2_256_MULTIHASH_PREFIX + hex_digest.lower()


def md5_multihash(hex_digest: str) -> str:
    return MD5_MULTIHASH_PREFIX + hex_digest.lower()


@dataclass(frozen=True)
class Inspection:
    """One pass over a file's bytes: how many, their SHA2-256 multihash, and the first bytes."""

    size: int
    checksum: str
    head: bytes


def inspect_stream(reader: BinaryIO, *, head_bytes: int = HEAD_BYTES) -> Inspection:
    digest = hashlib.sha256()
    head = bytearray()
    size = 0
    while True:
        chunk = reader.read(_CHUNK)
        if not chunk:
            break
        if len(head) < head_bytes:
            head += chunk[: head_bytes - len(head)]
        digest.update(chunk)
        size += len(chunk)
    return Inspection(size=size, checksum=sha256_multihash(digest.hexdigest()), head=bytes(head))


def inspect_bytes(data: bytes, *, head_bytes: int = HEAD_BYTES) -> Inspection:
    checksum = sha256_multihash(hashlib.sha256(data).hexdigest())
    return Inspection(size=len(data), checksum=checksum, head=data[:head_bytes])


# ------------------------------------------------------------------------------------ media types


def extension(name: str) -> str:
    base = posixpath.basename(name).lower()
    _, dot, ext = base.rpartition(".")
    return f".{ext}" if dot and _ else ""


def from_name(name: str) -> str | None:
    """The media type a file name suggests, or None."""
    base = posixpath.basename(name)
    if base in ZARR_METADATA_NAMES:
        return ZARR
    ext = extension(base)
    if ext in _BY_EXTENSION:
        return _BY_EXTENSION[ext]
    guessed, _ = mimetypes.guess_type(base, strict=False)
    return guessed


def sniff(head: bytes, name: str = "") -> str | None:
    """The media type the first bytes prove, refined by the name where the bytes are shared."""
    if not head:
        return None
    ext = extension(name)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"%PDF-"):
        return PDF
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return _tiff_kind(head)
    if head[:4] in (b"CDF\x01", b"CDF\x02", b"CDF\x05"):
        return NETCDF
    if any(head[offset : offset + 8] == b"\x89HDF\r\n\x1a\n" for offset in (0, 512, 1024, 2048)):
        return NETCDF if ext in _NETCDF_EXTENSIONS else HDF5
    if head.startswith(b"\x0e\x03\x13\x01"):
        return HDF4
    if head.startswith(b"PAR1"):
        return PARQUET
    if head.startswith(b"SQLite format 3\x00"):
        return GEOPACKAGE if ext == ".gpkg" else "application/vnd.sqlite3"
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n"):
        return "image/jp2"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"{", b"["):
        if posixpath.basename(name) in ZARR_METADATA_NAMES:
            return ZARR
        if ext == ".geojson" or _GEOJSON_TYPE.search(head):
            return GEOJSON
        return JSON
    return None


def detect(name: str, head: bytes | None = None, declared: str | None = None) -> str:
    """The media type of a file: magic bytes first, then the extension, then what storage declared."""
    base = posixpath.basename(name)
    if base in ZARR_METADATA_NAMES:
        return ZARR
    by_name = from_name(base)
    by_magic = sniff(head, base) if head else None
    if by_magic is not None:
        if by_magic == JSON and by_name and by_name.endswith("json") and by_name != JSON:
            return by_name  # e.g. application/schema+json from the extension is more precise
        return by_magic
    if by_name is not None:
        return by_name
    declared_type = (declared or "").strip()
    if declared_type.lower() not in GENERIC_TYPES:
        return declared_type
    if head is not None and _looks_like_text(head):
        return TEXT
    return OCTET_STREAM


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head[:8192]:
        return False
    try:
        head[:8192].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > 8180  # a multi-byte character cut at the end of the sample
    return True


def _tiff_kind(head: bytes) -> str:
    """GeoTIFF when the first IFD carries GeoTIFF tags, COG when GDAL's layout note says so."""
    if b"LAYOUT=IFDS_BEFORE_DATA" in head[:2048]:
        return COG
    tags = _first_ifd_tags(head)
    if tags is None:
        return GEOTIFF  # the first IFD lies beyond the sample: a geospatial service assumes GeoTIFF
    return GEOTIFF if tags & _GEO_TIFF_TAGS else TIFF


def _first_ifd_tags(head: bytes) -> set[int] | None:
    order = "<" if head[:2] == b"II" else ">"
    try:
        (magic,) = struct.unpack_from(order + "H", head, 2)
        if magic == 42:
            (offset,) = struct.unpack_from(order + "I", head, 4)
            (count,) = struct.unpack_from(order + "H", head, offset)
            start, size, tag_format = offset + 2, 12, "H"
        else:
            (offset,) = struct.unpack_from(order + "Q", head, 8)
            (count,) = struct.unpack_from(order + "Q", head, offset)
            start, size, tag_format = offset + 8, 20, "H"
        if start + count * size > len(head):
            return None
        return {struct.unpack_from(order + tag_format, head, start + i * size)[0] for i in range(count)}
    except struct.error:
        return None


def default_roles(name: str, media_type: str | None) -> list[str]:
    """Roles for a file nobody described: thumbnails and metadata by name, data otherwise."""
    base = posixpath.basename(name).lower()
    stem = base.rsplit(".", 1)[0]
    if any(word in stem for word in ("thumbnail", "thumb", "quicklook", "preview")):
        return ["thumbnail"]
    if "overview" in stem:
        return ["overview"]
    is_xml = media_type in ("application/xml", "text/xml")
    if base in ZARR_METADATA_NAMES or is_xml or stem.endswith(("metadata", "_mtl")):
        return ["metadata"]
    return ["data"]
