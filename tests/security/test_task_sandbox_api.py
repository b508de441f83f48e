"""The task sandbox reproducers over real HTTP (uvicorn, an editor key, sync-execute)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dynastore.api.app import create_app
from dynastore.bootstrap import bootstrap
from support.stac_docs import collection_doc
from tasks.conftest import task_settings
from tasks.files import write_geotiff

from .test_task_sandbox import HitRecorder, internal_service, raw_band_vrt, simple_source_vrt

__all__ = ["internal_service"]  # the fixture, shared with the service-level tests

EDITOR = "sandbox-editor-key"


@pytest.fixture(scope="module")
def editor(serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    settings = task_settings(tmp_path_factory.mktemp("sandbox-api"), api_keys=f"{EDITOR}:editor", worker_threads=1)
    services = bootstrap(settings)
    with serve(create_app(services, run_background=True)) as base_url:
        client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {EDITOR}"}, timeout=60)
        client.post("/assets/catalogs", json={"id": "sandbox"}).raise_for_status()
        obs = collection_doc("obs", description="observations")
        client.post("/stac/catalogs/sandbox/collections", json=obs).raise_for_status()
        yield client


ASSETS = "/assets/catalogs/sandbox/collections/obs/assets"


def upload(editor: httpx.Client, name: str, content: bytes) -> str:
    response = editor.post(
        f"{ASSETS}/upload", files={"file": (name, content, "image/tiff")}, data={"metadata": json.dumps({})}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def execute(editor: httpx.Client, asset_id: str, task_id: str, inputs: dict[str, Any]) -> httpx.Response:
    return editor.post(
        f"{ASSETS}/{asset_id}/tasks/{task_id}/execute", params={"mode": "sync-execute"}, json={"inputs": inputs}
    )


def listed(editor: httpx.Client) -> set[str]:
    return {a["id"] for a in editor.get(ASSETS, params={"limit": 1000}).json()["assets"]}


def assert_refused(response: httpx.Response, *words: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    for word in words:
        assert word in detail


TASKS = [("convert", {"format": "cog"}), ("gdalinfo", {})]


@pytest.mark.parametrize("task_id, inputs", TASKS)
@pytest.mark.parametrize("secret", ["/etc/passwd", "/proc/self/environ"])
def test_a_raw_band_vrt_over_a_server_file_is_a_400(
    editor: httpx.Client, task_id: str, inputs: dict[str, Any], secret: str
) -> None:
    # GIVEN an editor uploaded a VRT (named .tif) whose raw band is a file of the server
    asset_id = upload(editor, f"leak-{task_id}-{Path(secret).name}.tif", raw_band_vrt(secret).encode())
    before = listed(editor)

    # WHEN they run the raster task on it in sync mode
    response = execute(editor, asset_id, task_id, inputs)

    # THEN 400 problem+json naming the VRT/XML refusal, and no converted asset to download
    assert_refused(response, "VRT", "XML")
    assert listed(editor) == before
    assert "root:" not in response.text and "DYNASTORE" not in response.text


@pytest.mark.parametrize("task_id, inputs", TASKS)
@pytest.mark.parametrize("shape", ["simple-source", "raw-band"])
def test_a_vsicurl_vrt_makes_no_request_to_the_internal_url(
    editor: httpx.Client, internal_service: HitRecorder, task_id: str, inputs: dict[str, Any], shape: str
) -> None:
    # GIVEN a VRT whose source is /vsicurl/ on an internal service
    source = f"/vsicurl/{internal_service.url}/internal/metadata"
    text = simple_source_vrt(source) if shape == "simple-source" else raw_band_vrt(source)
    asset_id = upload(editor, f"ssrf-{task_id}-{shape}.vrt", text.encode())
    before = listed(editor)

    # WHEN the raster task runs in sync mode
    response = execute(editor, asset_id, task_id, inputs)

    # THEN 400, the internal service got no request, and no asset holds its answer
    assert_refused(response, "VRT")
    assert internal_service.hits == []
    assert listed(editor) == before


def test_a_legit_geotiff_still_converts_and_downloads(editor: httpx.Client, tmp_path: Path) -> None:
    # GIVEN a plain GeoTIFF
    asset_id = upload(editor, "legit.tif", write_geotiff(tmp_path / "legit.tif").read_bytes())

    # WHEN gdalinfo and convert → cog run in sync mode
    info = execute(editor, asset_id, "gdalinfo", {})
    converted = execute(editor, asset_id, "convert", {"format": "cog"})

    # THEN both succeed and the COG downloads as a TIFF
    assert info.status_code == 200, info.text
    assert info.json()["info"]["driver"] == "GTiff"
    assert converted.status_code == 200, converted.text
    assert converted.json()["cog"]["valid"] is True
    download = editor.get(f"{ASSETS}/{converted.json()['asset_id']}/download", follow_redirects=True)
    assert download.status_code == 200 and download.content[:4] == b"II*\x00"
