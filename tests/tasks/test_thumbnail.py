"""The ``thumbnail`` task and ``GET <asset path>/preview.png`` over real HTTP (local backend).

A real COG (rasterio/GDAL) is previewed from its overview, stored unindexed under ``.previews/``,
served to a reader, not rendered twice for the same bytes; non-rasters and VRTs are refused.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dynastore.api.app import create_app
from dynastore.bootstrap import bootstrap
from dynastore.services.assets import Scope
from dynastore.tasks import raster
from dynastore.tasks.preview import render_preview

from .conftest import task_settings, upload
from .files import write_geotiff, write_stations_csv
from .test_tasks_api import EDITOR, READER, Server


@pytest.fixture(scope="module")
def server(serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    settings = task_settings(
        tmp_path_factory.mktemp("thumbs"), api_keys=f"{EDITOR}:editor,{READER}:reader", worker_threads=1
    )
    services = bootstrap(settings)
    with serve(create_app(services, run_background=True)) as base_url:
        yield Server(base_url, services)


@pytest.fixture
def catalog(server: Server, request: pytest.FixtureRequest) -> str:
    catalog_id = f"t{abs(hash(request.node.name)) % 10**8}"
    server.editor.post("/assets/catalogs", json={"id": catalog_id}).raise_for_status()
    return catalog_id


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n"), data[:16]
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def make_cog(tmp_path: Path) -> Path:
    """A 1200 x 800, 3-band Cloud-Optimized GeoTIFF with internal overviews (GDAL's COG driver)."""
    plain = write_geotiff(tmp_path / "plain.tif", width=1200, height=800, count=3, dtype="uint8", tiled=True)
    cog = tmp_path / "scene.tif"
    raster.to_cog(plain, cog)
    return cog


def test_thumbnail_previews_a_cog_from_its_overview_and_serves_it_to_readers(
    server: Server, catalog: str, tmp_path: Path
) -> None:
    # GIVEN a COG asset with no preview yet: a reader asking for one gets a 404 naming the task
    asset = upload(server.services, Scope(catalog), make_cog(tmp_path))
    path = f"/assets/catalogs/{catalog}/assets/{asset['id']}"
    missing = server.reader.get(f"{path}/preview.png")
    assert missing.status_code == 404
    assert "tasks/thumbnail/execute" in missing.json()["detail"]

    # WHEN an editor runs the thumbnail task synchronously
    response = server.editor.post(f"{path}/tasks/thumbnail/execute?mode=sync-execute")

    # THEN a ≤ 512 px preview was read from an overview and stored next to the asset under .previews/
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["width"], result["height"]) == (512, 341)
    assert result["overview_level"] is not None and result["reused"] is False
    assert result["key"] == f"{catalog}/.previews/scene.tif.png"
    # AND a reader fetches it as a PNG of that size
    got = server.reader.get(f"{path}/preview.png")
    assert got.status_code == 200 and got.headers["content-type"] == "image/png"
    assert png_size(got.content) == (512, 341)
    # AND the asset records it against the bytes it was rendered from
    stored = server.reader.get(path).json()
    assert stored["metadata"]["preview"]["source_checksum"] == asset["file:checksum"]
    # AND the preview is no asset of its own, even after a full reconcile of the catalog's storage
    server.services.lifecycle.reconciler.run(catalog_id=catalog)
    listed = server.reader.get(f"/assets/catalogs/{catalog}/assets").json()["assets"]
    assert [a["id"] for a in listed] == [asset["id"]]


def test_thumbnail_of_the_same_bytes_is_not_rendered_twice(server: Server, catalog: str, tmp_path: Path) -> None:
    # GIVEN a raster asset whose preview was made
    source = write_geotiff(tmp_path / "small.tif", width=64, height=48, count=1)
    asset = upload(server.services, Scope(catalog), source)
    path = f"/assets/catalogs/{catalog}/assets/{asset['id']}"
    first = server.editor.post(f"{path}/tasks/thumbnail/execute?mode=sync-execute").json()
    blobs = server.services.adapters.blobs
    generation = blobs.stat(first["key"]).generation

    # WHEN the task runs again on the same bytes
    again = server.editor.post(f"{path}/tasks/thumbnail/execute?mode=sync-execute")

    # THEN it reports the existing preview and did not write it again
    assert again.status_code == 200, again.text
    assert again.json()["reused"] is True
    assert (again.json()["width"], again.json()["height"]) == (64, 48)  # a small raster is never enlarged
    assert blobs.stat(first["key"]).generation == generation


@pytest.mark.parametrize("kind", ["csv", "vrt"])
def test_thumbnail_refuses_a_non_raster_and_a_vrt_with_a_400(
    server: Server, catalog: str, tmp_path: Path, kind: str
) -> None:
    # GIVEN a CSV table, or a GDAL VRT that names a server file (the sandbox must never open it)
    if kind == "csv":
        source = write_stations_csv(tmp_path / "stations.csv")
        expected = "is not a raster"
    else:
        source = tmp_path / "secret.vrt"
        source.write_text(
            '<VRTDataset rasterXSize="4" rasterYSize="4"><VRTRasterBand dataType="Byte" band="1">'
            '<SimpleSource><SourceFilename relativeToVRT="0">/etc/passwd</SourceFilename></SimpleSource>'
            "</VRTRasterBand></VRTDataset>"
        )
        expected = "VRT"
    asset = upload(server.services, Scope(catalog), source)
    path = f"/assets/catalogs/{catalog}/assets/{asset['id']}"

    # WHEN an editor asks for its preview
    response = server.editor.post(f"{path}/tasks/thumbnail/execute?mode=sync-execute")

    # THEN a 400 problem says why, and no preview exists
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert expected in response.json()["detail"]
    assert server.reader.get(f"{path}/preview.png").status_code == 404


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")  # the PNG is a plain picture
def test_preview_stretches_2_to_98_percent_and_makes_nodata_transparent(tmp_path: Path) -> None:
    # GIVEN a one-band float raster: a ramp, with a nodata block in its top-left corner
    import rasterio
    from affine import Affine

    data = np.tile(np.linspace(100.0, 200.0, 40, dtype="float32"), (20, 1))
    data[:5, :10] = -9999.0
    source = tmp_path / "ramp.tif"
    profile = {"driver": "GTiff", "width": 40, "height": 20, "count": 1, "dtype": "float32", "nodata": -9999.0}
    with rasterio.open(source, "w", crs="EPSG:4326", transform=Affine(0.1, 0, 10, 0, -0.1, 50), **profile) as ds:
        ds.write(data[None])

    # WHEN its preview is rendered
    target = tmp_path / "out" / "preview.png"
    target.parent.mkdir()
    rendered = render_preview(source, target)

    # THEN grey RGB spans the full 8 bits (the nodata value does not skew the stretch) and nodata is transparent
    with rasterio.open(target) as png:
        rgba = png.read()
    assert rendered["bands"] == [1] and rgba.shape == (4, 20, 40)
    red, green, blue, alpha = rgba
    assert (red == green).all() and (green == blue).all()
    assert alpha[:5, :10].max() == 0 and alpha[5:, :].min() == 255
    assert red[5:, 0].max() == 0 and red[5:, -1].min() == 255
