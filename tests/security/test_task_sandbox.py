"""Tasks open only the asset's own bytes: no GDAL VRT reading server files, no SSRF through /vsicurl/.

Reproducers of the security issue, run through the task service on a real local backend (stored
assets, jobs, staged writes). tests/security/test_task_sandbox_api.py runs the same attacks over HTTP.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dynastore.bootstrap import Services
from dynastore.errors import Invalid
from dynastore.services.assets import Scope
from dynastore.tasks import TaskContext
from dynastore.tasks import raster as raster_module
from tasks.conftest import create_obs_collection, drain, running, task_settings, upload
from tasks.files import write_geotiff, write_stations_csv

# ------------------------------------------------------------------------------ hostile files


def raw_band_vrt(source: str, *, width: int = 64, height: int = 4) -> str:
    """A VRT whose only band is the raw bytes of ``source`` (a server path or a /vsicurl/ URL)."""
    return f"""<VRTDataset rasterXSize="{width}" rasterYSize="{height}">
  <VRTRasterBand dataType="Byte" band="1" subClass="VRTRawRasterBand">
    <SourceFilename relativetoVRT="0">{source}</SourceFilename>
    <ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset><LineOffset>{width}</LineOffset>
  </VRTRasterBand>
</VRTDataset>
"""


def simple_source_vrt(source: str) -> str:
    """A VRT mosaicking one source raster (here: a URL the server would fetch)."""
    return f"""<VRTDataset rasterXSize="64" rasterYSize="48">
  <VRTRasterBand dataType="UInt16" band="1">
    <SimpleSource>
      <SourceFilename relativeToVRT="0">{source}</SourceFilename>
      <SourceBand>1</SourceBand>
    </SimpleSource>
  </VRTRasterBand>
</VRTDataset>
"""


def write_overview_pointer_tiff(path: Path, overview_file: str) -> Path:
    """A real GeoTIFF whose GDAL_METADATA tag names an external overview file (OVERVIEWS/OVERVIEW_FILE)."""
    import rasterio
    from affine import Affine

    profile = {"driver": "GTiff", "width": 64, "height": 4, "count": 1, "dtype": "uint8", "crs": "EPSG:4326"}
    with rasterio.open(path, "w", transform=Affine(1, 0, 0, 0, -1, 0), **profile) as ds:
        ds.write(np.zeros((1, 4, 64), dtype="uint8"))
        ds.update_tags(ns="OVERVIEWS", OVERVIEW_FILE=overview_file)
    return path


# A separate process: rasterio holds the GIL inside GDAL, so a server thread of the test process
# could never answer (the request would hang instead of being recorded).
RECORDER_CODE = """
import http.server, sys
hits = open(sys.argv[1], "a", buffering=1)

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        hits.write(self.command + " " + self.path + "\\n")
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()

    do_HEAD = do_GET

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_port, flush=True)
server.serve_forever()
"""


class HitRecorder:
    """A real HTTP server on 127.0.0.1 (its own process) that records every request it gets."""

    def __init__(self, hits_file: Path) -> None:
        self.hits_file = hits_file
        hits_file.touch()
        self.process = subprocess.Popen(
            [sys.executable, "-c", RECORDER_CODE, str(hits_file)], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.url = f"http://127.0.0.1:{int(self.process.stdout.readline())}"

    @property
    def hits(self) -> list[str]:
        return self.hits_file.read_text().splitlines()

    def probe(self) -> None:
        """One request of our own: proves the recorder records (so zero hits means zero requests)."""
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(f"{self.url}/probe", timeout=5)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def internal_service(tmp_path: Path) -> Iterator[HitRecorder]:
    """An "internal" HTTP service the attacker wants the server to call."""
    recorder = HitRecorder(tmp_path / "hits.txt")
    try:
        recorder.probe()
        assert recorder.hits == ["GET /probe"]
        recorder.hits_file.write_text("")
        yield recorder
    finally:
        recorder.stop()


# ------------------------------------------------------------------------------ services


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with running(task_settings(tmp_path / "data", sync_execute_timeout_seconds=20)) as built:
        yield built


@pytest.fixture
def catalog(services: Services) -> str:
    services.catalogs.create({"id": "demo", "title": "Demo"}, actor="test")
    create_obs_collection(services, "demo")
    return "demo"


def stored(services: Services, tmp_path: Path, name: str, text: str) -> dict[str, Any]:
    path = tmp_path / name
    path.write_text(text)
    return upload(services, Scope("demo", "obs"), path)


def run_sync(services: Services, asset: dict[str, Any], task_id: str, inputs: dict[str, Any]) -> Any:
    return services.tasks.execute(
        Scope("demo", "obs"), asset["id"], task_id, {"inputs": inputs}, mode="sync-execute", actor="mallory"
    )


def asset_ids(services: Services) -> list[str]:
    return sorted(a["id"] for a in services.adapters.store.export_assets("demo"))


def refused_without_output(services: Services, asset: dict[str, Any], task_id: str, inputs: dict[str, Any]) -> str:
    """Run the task in sync mode, expecting bad input and no new asset; returns the refusal's detail."""
    before = asset_ids(services)
    with pytest.raises(Invalid) as refused:
        run_sync(services, asset, task_id, inputs)
    assert asset_ids(services) == before
    return refused.value.detail


TASKS = [("convert", {"format": "cog"}), ("gdalinfo", {})]


# ------------------------------------------------------------------------------ reproducer 1: local files


@pytest.mark.parametrize("task_id, inputs", TASKS)
@pytest.mark.parametrize("secret", ["/etc/passwd", "/proc/self/environ"])
@pytest.mark.parametrize("name", ["scene.vrt", "scene.tif"])
def test_a_vrt_raw_band_over_a_server_file_is_refused(
    services: Services, catalog: str, tmp_path: Path, task_id: str, inputs: dict[str, Any], secret: str, name: str
) -> None:
    # GIVEN an uploaded GDAL VRT whose raw band is a file of the server (under a .vrt or a .tif name)
    asset = stored(services, tmp_path, name, raw_band_vrt(secret))

    # WHEN an editor runs the raster task on it in sync mode
    detail = refused_without_output(services, asset, task_id, inputs)

    # THEN the task fails as bad input, naming VRT/XML, and nothing was produced or written
    assert "VRT" in detail and "XML" in detail
    current = services.adapters.store.get_asset("demo", asset["id"])
    assert "raster:bands" not in current and "proj:shape" not in current


def test_the_async_job_fails_naming_the_reason(services: Services, catalog: str, tmp_path: Path) -> None:
    # GIVEN the /etc/passwd VRT as an asset
    asset = stored(services, tmp_path, "scene.tif", raw_band_vrt("/etc/passwd"))

    # WHEN convert runs as an async job
    accepted = services.tasks.execute(
        Scope("demo", "obs"), asset["id"], "convert", {"inputs": {"format": "cog"}}, mode=None, actor="mallory"
    )
    drain(services)

    # THEN the job failed and says why
    job = services.tasks.get_job(accepted.job["id"])
    assert job["status"] == "failed"
    assert "VRT" in job["message"] and "XML" in job["message"]
    assert "root:" not in str(job)


# ------------------------------------------------------------------------------ reproducer 2: SSRF


@pytest.mark.parametrize("task_id, inputs", TASKS)
@pytest.mark.parametrize("shape", ["simple-source", "raw-band"])
def test_a_vrt_pointing_at_an_internal_url_makes_no_request(
    services: Services,
    catalog: str,
    tmp_path: Path,
    internal_service: HitRecorder,
    task_id: str,
    inputs: dict[str, Any],
    shape: str,
) -> None:
    # GIVEN a VRT whose source is /vsicurl/ on an internal HTTP service
    source = f"/vsicurl/{internal_service.url}/internal/secret.tif"
    text = simple_source_vrt(source) if shape == "simple-source" else raw_band_vrt(source)
    asset = stored(services, tmp_path, "mosaic.vrt", text)

    # WHEN the raster task runs on it
    detail = refused_without_output(services, asset, task_id, inputs)

    # THEN it is refused (no asset stores its answer), and the internal service saw no request
    assert "VRT" in detail
    assert internal_service.hits == []


@pytest.mark.parametrize("task_id, inputs", TASKS)
@pytest.mark.parametrize("target", ["vsicurl", "vrt-file"])
def test_a_geotiff_naming_an_external_overview_file_is_refused(
    services: Services,
    catalog: str,
    tmp_path: Path,
    internal_service: HitRecorder,
    task_id: str,
    inputs: dict[str, Any],
    target: str,
) -> None:
    # GIVEN a real GeoTIFF whose embedded GDAL metadata names an overview file GDAL would open with any
    # driver: an internal URL, or a VRT on the server's disk that reads /etc/passwd
    if target == "vsicurl":
        overview = f"/vsicurl/{internal_service.url}/internal/overview.tif"
    else:
        vrt = tmp_path / "elsewhere" / "overview.vrt"
        vrt.parent.mkdir()
        vrt.write_text(raw_band_vrt("/etc/passwd", width=32, height=2))
        overview = str(vrt)
    asset = upload(services, Scope("demo", "obs"), write_overview_pointer_tiff(tmp_path / "scene.tif", overview))

    # WHEN the raster task runs on it
    detail = refused_without_output(services, asset, task_id, inputs)

    # THEN it is refused (nothing produced) naming the external reference, and nothing was fetched
    assert "OVERVIEW_FILE" in detail
    assert internal_service.hits == []


def test_gdal_network_access_is_off_inside_the_task_configuration(internal_service: HitRecorder) -> None:
    # GIVEN GDAL's HTTP and cloud file systems aimed at the internal service (which they do reach
    # outside the task configuration: the control below)
    import rasterio

    cloud = {
        "AWS_NO_SIGN_REQUEST": "YES",
        "AWS_S3_ENDPOINT": internal_service.url.removeprefix("http://"),
        "AWS_HTTPS": "NO",
        "AWS_VIRTUAL_HOSTING": "FALSE",
        "GS_NO_SIGN_REQUEST": "YES",
        "CPL_GS_ENDPOINT": f"{internal_service.url}/",
    }
    names = [
        f"/vsicurl/{internal_service.url}/a.tif",
        f"/vsicurl_streaming/{internal_service.url}/b.tif",
        "/vsis3/bucket/c.tif",
        "/vsis3_streaming/bucket/d.tif",
        "/vsigs/bucket/e.tif",
    ]

    def open_all() -> None:
        for name in names:
            with pytest.raises(rasterio.errors.RasterioIOError):
                rasterio.open(name)

    with rasterio.Env(**cloud):
        open_all()
    assert internal_service.hits, "control: without the lock-down GDAL does call the service"
    internal_service.hits_file.write_text("")

    # WHEN the same names are opened inside the task configuration
    with rasterio.Env(**cloud), raster_module.locked_down():
        open_all()

    # THEN no request left the process
    assert internal_service.hits == []


# ------------------------------------------------------------------------------ legit files still work


def test_a_legit_geotiff_still_converts_to_a_cog_inside_the_job_folder(
    services: Services, catalog: str, tmp_path: Path
) -> None:
    # GIVEN a plain GeoTIFF
    asset = upload(services, Scope("demo", "obs"), write_geotiff(tmp_path / "scene.tif"))

    # WHEN convert → cog runs in sync mode
    result = run_sync(services, asset, "convert", {"format": "cog"})

    # THEN it succeeds and the COG is a new asset
    assert result.outcome == "completed", result.job
    assert result.results["cog"]["valid"] is True
    assert result.results["asset_id"] in asset_ids(services)
    assert not (tmp_path / "scene.cog.tif").exists()


def test_the_cog_output_path_cannot_leave_the_job_folder(tmp_path: Path) -> None:
    # GIVEN a task context with its own work folder
    ctx = TaskContext(asset={"id": "a", "catalog_id": "demo"}, workdir=tmp_path / "job")

    # WHEN a task asks for an output path that climbs out of it
    # THEN it is refused
    for name in ("../escape.tif", "/etc/escape.tif", "sub/../../escape.tif"):
        with pytest.raises(Invalid):
            ctx.temp_path(name)
    assert ctx.temp_path("ok.cog.tif").parent == tmp_path / "job" / "out"


# ------------------------------------------------------------------------------ only its own catalog's bytes


def test_a_task_never_reads_another_catalogs_bytes(services: Services, catalog: str, tmp_path: Path) -> None:
    # GIVEN a file stored in catalog "demo", and an asset record of catalog "other" naming its key
    victim = upload(services, Scope("demo", "obs"), write_stations_csv(tmp_path / "stations.csv"))
    services.catalogs.create({"id": "other"}, actor="test")
    forged = {
        "id": "forged",
        "catalog_id": "other",
        "collection_id": "obs",
        "href": victim["href"],
        "storage": dict(victim["storage"]),
    }
    ctx = TaskContext(
        asset=forged, blobs=services.adapters.blobs, store=services.adapters.store, workdir=tmp_path / "job"
    )

    # WHEN a task of catalog "other" asks for the bytes (copy or stream)
    # THEN both are refused, naming the catalog
    with pytest.raises(Invalid, match="other"):
        ctx.local_copy()
    with pytest.raises(Invalid, match="other"):
        ctx.open_source()


def test_a_parquet_file_pointing_its_columns_at_another_file_does_not_read_it(tmp_path: Path) -> None:
    # GIVEN a secret Parquet file on the server, and a Parquet metadata file whose column chunks point at it
    import pyarrow as pa
    import pyarrow.parquet as pq

    from dynastore.tasks import features

    secret = tmp_path / "secret.parquet"
    pq.write_table(pa.table({"geometry": ["POINT (1 2)"], "secret": ["TOPSECRET"]}), secret)
    metadata = pq.read_metadata(secret)
    metadata.set_file_path(str(secret))
    hostile = tmp_path / "job" / "hostile.parquet"
    hostile.parent.mkdir()
    metadata.write_metadata_file(str(hostile))

    # WHEN it is read as a task input
    # THEN the read fails as bad input instead of returning the other file's rows
    with pytest.raises(Invalid):
        _, rows = features.read_rows(hostile, "geoparquet")
        list(rows)
