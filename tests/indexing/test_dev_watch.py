"""End to end: ``dynastore dev`` running as a subprocess watches its bucket folder.

Files copied into ``<data-dir>/bucket`` become searchable through the HTTP API with no other
step; removing a file marks its asset missing; moving it keeps the asset. The time it takes is
printed (a benchmark figure, not an assertion): the deadline only keeps a broken watcher from
hanging the suite.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.devserver import dev_server, wait_until

from . import files

pytestmark = pytest.mark.slow

N_FILES = 1000


def _count(client: httpx.Client, **params: Any) -> int:
    response = client.get("/assets/search", params={"catalog_id": "demo", "limit": 10000, **params})
    if response.status_code == 404:  # the catalog does not exist yet
        return 0
    response.raise_for_status()
    return int(response.json()["numberReturned"])


def _all_assets(client: httpx.Client) -> list[dict[str, Any]]:
    response = client.get("/assets/search", params={"catalog_id": "demo", "limit": 10000})
    response.raise_for_status()
    return list(response.json()["assets"])


def test_copying_1000_files_into_the_bucket_makes_them_searchable(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    source = files.geotiff(tmp_path / "B04.tif")
    expected = source.read_bytes()
    with dev_server(data_dir) as (client, _):
        bucket = data_dir / "bucket"
        # WHEN 1,000 files are copied into bucket/demo/s2/scene-{n}/
        started = time.monotonic()
        for n in range(N_FILES):
            folder = bucket / "demo" / "s2" / f"scene-{n}"
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, folder / "B04.tif")
        copied = time.monotonic()
        # THEN all of them become searchable
        waited = wait_until(lambda: _count(client) >= N_FILES, timeout=180, what=f"{N_FILES} searchable assets")
        print(f"\n{N_FILES} files copied in {copied - started:.2f} s; searchable {waited:.2f} s after the last copy")
        assets = _all_assets(client)
        assert len(assets) == N_FILES
        # with the right size, checksum and media type, each in its item
        checksum = "1220" + hashlib.sha256(expected).hexdigest()
        for asset in assets:
            assert asset["file:size"] == len(expected)
            assert asset["file:checksum"] == checksum
            assert asset["type"] == "image/tiff; application=geotiff"
            assert asset["storage"]["key"] == f"demo/s2/{asset['item_id']}/B04.tif"
        assert sorted(a["item_id"] for a in assets) == sorted(f"scene-{n}" for n in range(N_FILES))
        # AND catalog demo, collection s2 and the items exist
        assert client.get("/assets/catalogs/demo").status_code == 200
        assert client.get("/stac/catalogs/demo/collections/s2").status_code == 200
        items = client.get("/stac/catalogs/demo/collections/s2/items", params={"limit": 10000}).json()
        assert len(items["features"]) == N_FILES
        # AND the ingest status of a key says how it was indexed
        status = client.get("/assets/catalogs/demo/ingest", params={"key": "s2/scene-7/B04.tif"})
        assert status.status_code == 200
        body = status.json()
        assert body["status"] == "indexed" and body["asset_status"] == "active"
        assert body["links"][0]["href"].endswith(f"/items/scene-7/assets/{body['asset_id']}")


def test_remove_and_move_files_while_dev_runs(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with dev_server(data_dir) as (client, _):
        scene = data_dir / "bucket" / "demo" / "s2" / "scene-1"
        scene.mkdir(parents=True)
        files.geotiff(scene / "B04.tif")
        files.pdf(scene / "report.pdf")
        wait_until(lambda: _count(client) == 2, timeout=60, what="two indexed files")
        moved_id = next(a["id"] for a in _all_assets(client) if a["storage"]["key"].endswith("B04.tif"))
        # WHEN one file is removed and the other moved to another item folder
        (scene / "report.pdf").unlink()
        target = scene.parent / "scene-2"
        target.mkdir()
        shutil.move(str(scene / "B04.tif"), str(target / "B04.tif"))
        # THEN the removed one is missing (hidden from default search) and the moved one kept its id
        wait_until(lambda: _count(client, status="missing") == 1, timeout=60, what="a missing asset")

        def moved() -> bool:
            active = _all_assets(client)
            return len(active) == 1 and active[0]["item_id"] == "scene-2"

        wait_until(moved, timeout=60, what="the move")
        asset = _all_assets(client)[0]
        assert asset["id"] == moved_id and asset["storage"]["key"] == "demo/s2/scene-2/B04.tif"
        history = client.get(f"/assets/catalogs/demo/collections/s2/items/scene-2/assets/{moved_id}/history").json()
        actions = [entry["action"] for entry in history.get("events", history.get("audit", []))]
        assert "move" in actions and "index" in actions


def test_an_api_upload_and_its_file_event_meet_on_one_asset(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with dev_server(data_dir) as (client, _):
        assert client.post("/assets/catalogs", json={"id": "demo"}).status_code == 201
        csv_path = files.csv_file(tmp_path / "stations.csv")
        with csv_path.open("rb") as handle:
            uploaded = client.post(
                "/assets/catalogs/demo/assets/upload", files={"file": ("stations.csv", handle, "text/csv")},
                data={"metadata": '{"title": "Stations"}'},
            )
        assert uploaded.status_code == 201, uploaded.text
        asset_id = uploaded.json()["id"]
        wait_until(
            lambda: client.get("/assets/catalogs/demo/ingest", params={"key": "stations.csv"}).status_code == 200,
            timeout=60, what="the watcher's ingest record of the uploaded file",
        )
        record = client.get("/assets/catalogs/demo/ingest", params={"key": "stations.csv"}).json()
        assert record["asset_id"] == asset_id and record["status"] == "indexed"
        assets = _all_assets(client)
        assert [a["id"] for a in assets] == [asset_id] and assets[0]["title"] == "Stations"


def test_ingest_status_errors_are_problems(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with dev_server(data_dir) as (client, _):
        (data_dir / "bucket").mkdir(parents=True, exist_ok=True)
        (data_dir / "bucket" / "loose.pdf").write_bytes(b"%PDF-1.4")
        wait_until(lambda: client.get("/assets/ingest", params={"key": "loose.pdf"}).status_code == 200,
                   timeout=60, what="the failure record of a file at the bucket root")
        failed = client.get("/assets/ingest", params={"key": "loose.pdf"}).json()
        assert failed["status"] == "failed" and "catalog folder" in failed["error"]
        assert client.post("/assets/catalogs", json={"id": "demo"}).status_code == 201
        missing_key = client.get("/assets/catalogs/demo/ingest")
        assert missing_key.status_code == 400
        assert missing_key.headers["content-type"].startswith("application/problem+json")
        assert client.get("/assets/catalogs/demo/ingest", params={"key": "never/seen.tif"}).status_code == 404
        assert client.get("/assets/catalogs/nope/ingest", params={"key": "x.tif"}).status_code == 404
