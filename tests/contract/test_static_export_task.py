"""The ``export-static`` task on every backend: the tree lands under ``{catalog}/_static/`` and validates,
and nothing under that reserved prefix is ever indexed (events or reconciler)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dynastore.bootstrap import Services, bootstrap
from dynastore.config import Settings
from dynastore.domain.events import StorageEvent
from dynastore.domain.search import AssetQuery
from dynastore.services.assets import Scope, UploadBuffer
from stac.schemas import validate_stac
from support.stac_docs import collection_doc, item_doc

from .conftest import Backend

ITEM = "items/tracks/Bluefin-12"
V1, V2 = "2025-08-10T0955Z", "2025-08-11T1112Z"


@pytest.fixture
def services(backend: Backend, tmp_path: Path) -> Iterator[Services]:
    settings = Settings(data_dir=tmp_path / "unused", watch_bucket=False, worker_threads=0)
    built = bootstrap(settings, adapters=backend.adapters)
    built.catalogs.create({"id": "demo", "title": "Demo"}, actor="test")
    built.stac.create_collection("demo", collection_doc("tracks", description="maritime tracks"), actor="test")
    built.stac.create_item("demo", "tracks", item_doc("Bluefin-12", "tracks"), actor="test")
    yield built
    built.tasks.shutdown()


def publish(services: Services, stamp: str, data: bytes) -> dict:
    buffer = UploadBuffer(1024 * 1024)
    buffer.write(data)
    return services.assets.upload(
        Scope("demo", "tracks", "Bluefin-12"),
        filename=f"track@{stamp}.geojson",
        data=buffer,
        content_type=None,
        metadata={"version": f"{stamp[:13]}:{stamp[13:15]}Z", "roles": ["data"]},
        actor="test",
    )


def demo_assets(services: Services) -> list[dict]:
    return services.adapters.store.search_assets(AssetQuery(catalog_ids=("demo",), limit=100)).items


def test_export_static_task_writes_a_valid_tree_under_the_reserved_prefix(services: Services) -> None:
    # GIVEN an item with two published versions of track
    first = publish(services, V1, b'{"type": "FeatureCollection", "features": []}')
    publish(services, V2, b'{"type": "FeatureCollection", "features": [], "v": 2}')
    scope = Scope("demo", "tracks", "Bluefin-12")
    # WHEN the export-static task runs on one of its assets (sync-execute)
    result = services.tasks.execute(scope, first["id"], "export-static", {}, mode="sync-execute", actor="t")
    # THEN it answers with the prefix, catalog.json's URL and the counts
    assert result.outcome == "completed", result.job
    out = result.results
    assert out["prefix"] == "demo/_static/" and out["catalog_json"].endswith("demo/_static/catalog.json")
    assert (out["items"], out["files_copied"], out["alias_copies"], out["errors"]) == (1, 2, 1, [])
    # AND the tree is in the catalog's bucket: valid STAC documents, the files and a @latest copy
    blobs = services.lifecycle.storage.for_catalog(services.catalogs.get("demo"))
    read = lambda rel: blobs.get(f"demo/_static/{rel}")  # noqa: E731
    catalog, item = json.loads(read("catalog.json")), json.loads(read(f"{ITEM}/item.json"))
    validate_stac(catalog)
    validate_stac(json.loads(read("collections/tracks.json")))
    validate_stac(item)
    assert item["assets"][f"track@{V2}.geojson"]["href"] == f"./track@{V2}.geojson"
    assert json.loads(read(f"{ITEM}/track@latest.geojson"))["v"] == 2
    # AND the export made no asset, and the reconciler over the bucket makes none either
    assert len(demo_assets(services)) == 2
    report = services.lifecycle.reconcile("demo")
    assert (report.indexed, report.failed) == (0, 0) and len(demo_assets(services)) == 2


def test_a_file_dropped_under_the_static_prefix_creates_no_asset(services: Services) -> None:
    # GIVEN a file written into {catalog}/_static/ (by the export, or by hand)
    info = services.adapters.blobs.put("demo/_static/items/tracks/x/data.geojson", b'{"type": "FeatureCollection"}')
    # WHEN its storage event arrives and the reconciler runs
    services.indexing.handle(StorageEvent.from_blob(info), observed=True)
    services.lifecycle.reconcile("demo")
    # THEN it is no asset, and the same file one folder over is
    assert demo_assets(services) == []
    other = services.adapters.blobs.put("demo/static/x/data.geojson", b'{"type": "FeatureCollection"}')
    services.indexing.handle(StorageEvent.from_blob(other), observed=True)
    assert [a["storage"]["key"] for a in demo_assets(services)] == ["demo/static/x/data.geojson"]
