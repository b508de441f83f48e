"""Media types from names and magic bytes, and the one checksum convention (SHA2-256 multihash)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from dynastore.services import mediatypes as mt

from . import files

CASES: list[tuple[str, Callable[[Path], Path], str]] = [
    ("scene.tif", files.geotiff, mt.GEOTIFF),
    ("scene_cog.tif", files.cog, mt.COG),
    ("photo.tif", files.plain_tiff, mt.TIFF),
    ("quicklook.png", files.png, mt.PNG),
    ("quicklook.jpg", files.jpeg, mt.JPEG),
    ("climate.nc", files.netcdf_classic, mt.NETCDF),
    ("climate4.nc", files.netcdf4, mt.NETCDF),
    ("granule.h5", files.hdf5, mt.HDF5),
    ("table.parquet", files.parquet, mt.PARQUET),
    ("stations.geojson", files.geojson, mt.GEOJSON),
    ("settings.json", files.json_document, mt.JSON),
    ("report.pdf", files.pdf, mt.PDF),
    ("stations.csv", files.csv_file, mt.CSV),
]


@pytest.mark.parametrize(("name", "make", "expected"), CASES, ids=[c[0] for c in CASES])
def test_detects_each_format_from_its_bytes(
    tmp_path: Path, name: str, make: Callable[[Path], Path], expected: str
) -> None:
    # GIVEN a real file of the format
    path = make(tmp_path / name)
    data = path.read_bytes()
    # WHEN its type is detected from its name and first bytes
    detected = mt.detect(name, data[: mt.HEAD_BYTES])
    # THEN it is the STAC media type of the format
    assert detected == expected


@pytest.mark.parametrize(
    ("make", "expected"),
    [(files.geotiff, mt.GEOTIFF), (files.pdf, mt.PDF), (files.parquet, mt.PARQUET), (files.png, mt.PNG),
     (files.netcdf_classic, mt.NETCDF), (files.geojson, mt.GEOJSON)],
)
def test_magic_bytes_win_over_a_missing_or_wrong_extension(
    tmp_path: Path, make: Callable[[Path], Path], expected: str
) -> None:
    data = make(tmp_path / "unnamed.bin").read_bytes()
    assert mt.detect("upload-without-extension", data) == expected
    assert mt.detect("wrongly-named.txt", data) == expected


def test_zarr_metadata_documents_are_zarr(tmp_path: Path) -> None:
    for path in files.zarr_metadata(tmp_path / "cube.zarr"):
        assert mt.detect(path.name, path.read_bytes()) == mt.ZARR


def test_hdf5_signature_after_a_user_block_is_found() -> None:
    data = b"\x00" * 512 + b"\x89HDF\r\n\x1a\n" + b"\x00" * 64
    assert mt.detect("granule.he5", data) == mt.HDF5
    assert mt.detect("granule.nc", data) == mt.NETCDF


def test_unknown_bytes_fall_back_to_the_declared_type_then_text_or_octet_stream() -> None:
    assert mt.detect("blob", b"\x00\x01\x02\x03", "application/x-custom") == "application/x-custom"
    assert mt.detect("blob", b"\x00\x01\x02\x03", "application/octet-stream") == mt.OCTET_STREAM
    assert mt.detect("notes", b"plain words\nmore words\n") == mt.TEXT
    assert mt.detect("readme.md", b"# Title\n") == "text/markdown"


def test_name_alone_when_no_bytes_are_at_hand() -> None:
    assert mt.from_name("a/b/scene.TIF") == mt.GEOTIFF
    assert mt.from_name("cube.zarr/.zmetadata") == mt.ZARR
    assert mt.from_name("no-extension") is None


def test_checksum_is_the_sha2_256_multihash_of_the_bytes(tmp_path: Path) -> None:
    # GIVEN a file larger than the streaming chunk
    data = (b"0123456789abcdef" * 100_000) + b"tail"
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    # WHEN it is inspected in one streaming pass
    with path.open("rb") as reader:
        inspection = mt.inspect_stream(reader)
    # THEN size, checksum and head come from that pass
    assert inspection.size == len(data)
    assert inspection.checksum == "1220" + hashlib.sha256(data).hexdigest()
    assert inspection.head == data[: mt.HEAD_BYTES]
    assert mt.inspect_bytes(data) == inspection


def test_md5_multihash_prefix_is_the_multicodec_varint() -> None:
    digest = hashlib.md5(b"x").hexdigest()
    assert mt.md5_multihash(digest) == "d50110" + digest


def test_default_roles_by_name() -> None:
    assert mt.default_roles("scene/thumbnail.png", mt.PNG) == ["thumbnail"]
    assert mt.default_roles("scene/overview.tif", mt.GEOTIFF) == ["overview"]
    assert mt.default_roles("scene/MTD_metadata.xml", "application/xml") == ["metadata"]
    assert mt.default_roles("scene/B04.tif", mt.GEOTIFF) == ["data"]
