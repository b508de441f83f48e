"""Static STAC export (seed 004 §5, §12 test 6) and version retention (§9) on a real local backend."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pystac
import pytest

from dynastore.bootstrap import Services, bootstrap
from dynastore.cli import main
from dynastore.config import Settings
from dynastore.domain.search import AssetQuery
from dynastore.errors import Unavailable
from dynastore.services.assets import Scope, UploadBuffer
from dynastore.services.retention import RetentionService
from dynastore.services.static_export import StaticExporter
from support.stac_docs import collection_doc, item_doc

from .schemas import _OfflineValidator

ITEM = "items/tracks/Bluefin-12"
V1, V2 = "2025-08-10T0955Z", "2025-08-11T1112Z"


def publish(services: Services, name: str, stamp: str, ext: str, data: bytes, **fields: Any) -> dict[str, Any]:
    """A published version as VERSIONS.md defines it: ``<name>@<stamp><ext>`` with ``version`` set."""
    display = f"{stamp[:13]}:{stamp[13:15]}Z"
    buffer = UploadBuffer(services.settings.max_upload_bytes)
    buffer.write(data)
    try:
        return services.assets.upload(
            Scope("demo", "tracks", "Bluefin-12"),
            filename=f"{name}@{stamp}{ext}",
            data=buffer,
            content_type=None,
            metadata={"version": display, "roles": ["data", name], **fields},
            actor="test",
        )
    finally:
        buffer.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(backend="local", data_dir=tmp_path / "data", watch_bucket=False, worker_threads=0)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = bootstrap(settings)
    built.catalogs.create({"id": "demo", "title": "Demo"}, actor="test")
    built.stac.create_collection("demo", collection_doc("tracks", description="maritime tracks"), actor="test")
    built.stac.create_item("demo", "tracks", item_doc("Bluefin-12", "tracks"), actor="test")
    publish(built, "track", V1, ".geojson", b'{"type": "FeatureCollection", "features": []}')
    publish(built, "track", V2, ".geojson", b'{"type": "FeatureCollection", "features": [], "v": 2}')
    publish(built, "summary", V2, ".csv", b"a,b\n1,2\n")
    try:
        yield built
    finally:
        built.close()


def export(services: Services, out: Path, **overrides: Any) -> Any:
    settings = services.settings.model_copy(update=overrides)
    return StaticExporter(services.adapters.store, services.lifecycle.storage, services.stac, settings).export(
        out, "demo"
    )


def validate_offline(root: Path) -> int:
    """pystac's validate_all over the tree with its bundled schemas only (no network); returns items seen."""
    catalog = pystac.Catalog.from_file(str(root / "catalog.json"))
    previous = pystac.validation.RegisteredValidator.get_validator()
    pystac.validation.RegisteredValidator.set_validator(_OfflineValidator())
    try:
        return catalog.validate_all()
    finally:
        pystac.validation.RegisteredValidator.set_validator(previous)


def test_export_writes_the_seed_layout_with_relative_latest_symlinks(services: Services, tmp_path: Path) -> None:
    # GIVEN an item with two versions of track and one of summary
    out = tmp_path / "stac"
    # WHEN it is exported
    report = export(services, out)
    # THEN the seed's layout is there, the files hold the published bytes, and @latest links to the newest
    assert (out / "catalog.json").is_file() and (out / "collections/tracks.json").is_file()
    folder = out / ITEM
    assert (folder / f"track@{V1}.geojson").read_bytes() == b'{"type": "FeatureCollection", "features": []}'
    assert (folder / f"summary@{V2}.csv").read_bytes() == b"a,b\n1,2\n"
    latest = folder / "track@latest.geojson"
    assert latest.is_symlink() and os.readlink(latest) == f"track@{V2}.geojson"
    assert json.loads(latest.read_bytes())["v"] == 2
    assert os.readlink(folder / "summary@latest.csv") == f"summary@{V2}.csv"
    item = json.loads((folder / "item.json").read_bytes())
    assert item["assets"][f"track@{V2}.geojson"]["href"] == f"./track@{V2}.geojson"
    assert item["assets"][f"track@{V2}.geojson"]["version"] == "2025-08-11T11:12Z"
    hrefs = [link["href"] for doc in ("catalog.json", "collections/tracks.json", f"{ITEM}/item.json")
             for link in json.loads((out / doc).read_bytes())["links"]]
    assert all(not h.startswith(("/", "http", "file:")) for h in hrefs), hrefs
    assert report.symlinks == 2 and report.errors == []
    # AND the tree is valid STAC, walked by pystac from catalog.json (bundled schemas, offline)
    assert validate_offline(out) == 1


def test_symlink_fallback_copies_where_links_cannot_be_made(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a platform where os.symlink fails (Windows without the privilege, restricted filesystems)
    def no_symlinks(*args: Any, **kwargs: Any) -> None:
        raise OSError("symbolic links are not supported here")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    out = tmp_path / "stac"
    # WHEN exported with the default fallback (copy)
    report = export(services, out)
    # THEN @latest is a regular file with the newest version's bytes
    latest = out / ITEM / "track@latest.geojson"
    assert not latest.is_symlink() and latest.read_bytes() == (out / ITEM / f"track@{V2}.geojson").read_bytes()
    assert report.alias_copies == 2
    # AND with STAC_SYMLINK_FALLBACK=error the export stops, naming the settings that fix it
    with pytest.raises(Unavailable, match="STAC_SYMLINK_FALLBACK=copy"):
        export(services, tmp_path / "strict", stac_symlink_fallback="error")


def test_use_symlinks_false_writes_copies(services: Services, tmp_path: Path) -> None:
    # GIVEN STAC_USE_SYMLINKS=false  WHEN exported  THEN the aliases are copies
    export(services, tmp_path / "stac", stac_use_symlinks=False)
    latest = tmp_path / "stac" / ITEM / "summary@latest.csv"
    assert not latest.is_symlink() and latest.read_bytes() == b"a,b\n1,2\n"


def test_settings_accept_bare_and_prefixed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAC_USE_SYMLINKS", "false")
    monkeypatch.setenv("DYNASTORE_STAC_SYMLINK_FALLBACK", "error")
    settings = Settings()
    assert (settings.stac_use_symlinks, settings.stac_symlink_fallback) == (False, "error")


def test_rerun_is_incremental_and_follows_new_and_removed_versions(services: Services, tmp_path: Path) -> None:
    # GIVEN an exported tree
    out = tmp_path / "stac"
    export(services, out)
    old = out / ITEM / f"track@{V1}.geojson"
    before = os.stat(old)
    # WHEN a new version is published, summary is deleted, and the export runs again
    v3 = "2025-08-12T0800Z"
    publish(services, "track", v3, ".geojson", b'{"type": "FeatureCollection", "features": [], "v": 3}')
    summary = next(a for a in services.assets.list_in_scope(Scope("demo", "tracks", "Bluefin-12")).items
                   if a["storage"]["key"].endswith(".csv"))
    services.assets.delete(Scope("demo", "tracks", "Bluefin-12"), summary["id"], actor="test")
    report = export(services, out)
    # THEN the unchanged file was not rewritten, the new version appears and @latest follows it
    after = os.stat(old)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert (out / ITEM / f"track@{v3}.geojson").is_file()
    assert os.readlink(out / ITEM / "track@latest.geojson") == f"track@{v3}.geojson"
    assert report.files_copied == 1 and report.files_unchanged == 2
    # AND the removed asset's file and alias are gone
    assert not (out / ITEM / f"summary@{V2}.csv").exists()
    assert not os.path.lexists(out / ITEM / "summary@latest.csv")
    assert report.removed == 2


def test_retention_archives_versions_beyond_hot_max_and_keeps_them_downloadable(services: Services) -> None:
    # GIVEN two versions of track and DYNASTORE_VERSIONS_HOT_MAX=1
    settings = services.settings.model_copy(update={"versions_hot_max": 1})
    retention = RetentionService(services.adapters.store, services.lifecycle.storage, settings)
    # WHEN retention runs twice (at-least-once)
    first = retention.run()
    second = retention.run()
    # THEN only the older track version is archived, once, and its record is marked and still served
    assert (first.archived, second.archived, second.already_archived) == (1, 0, 1)
    scope = Scope("demo", "tracks", "Bluefin-12")
    docs = {a["id"]: a for a in services.assets.list_in_scope(scope).items}
    archived = [d for d in docs.values() if (d.get("metadata") or {}).get("archived")]
    assert [d["version"] for d in archived] == ["2025-08-10T09:55Z"]
    assert archived[0]["storage:tier"] == "archive"
    record, key, _ = services.assets.download_target(scope, archived[0]["id"])
    assert key is not None and record["id"] == archived[0]["id"]
    blobs = services.lifecycle.storage.for_catalog(services.catalogs.get("demo"))
    assert blobs.get(key) == b'{"type": "FeatureCollection", "features": []}'


def test_cli_export_static_over_a_real_data_dir(
    services: Services, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a local data dir with a published item (the services are closed: the CLI opens it itself)
    services.close()
    out = tmp_path / "site"
    # WHEN `dynastore export-static DIR --catalog demo` runs
    code = main(["export-static", str(out), "--catalog", "demo", "--data-dir", str(settings.data_dir), "--json"])
    # THEN it succeeds, prints the counts, and the tree validates
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["items"] == 1 and summary["files_copied"] == 3
    assert os.readlink(out / ITEM / "track@latest.geojson") == f"track@{V2}.geojson"
    assert validate_offline(out) == 1
    # AND without --catalog every catalog goes under DIR/<catalog>/ below a root catalog.json
    assert main(["export-static", str(tmp_path / "all"), "--data-dir", str(settings.data_dir), "--json"]) == 0
    assert (tmp_path / "all" / "demo" / ITEM / "item.json").is_file()
    assert validate_offline(tmp_path / "all") == 1


def test_export_static_task_over_http_writes_the_tree_under_the_reserved_prefix(
    settings: Settings, services: Services, serve: Any
) -> None:
    # GIVEN the published item behind the HTTP API, and an editor key
    import httpx

    from dynastore.api.app import create_app

    services.close()
    keyed = settings.model_copy(update={"api_keys": "export-editor-key:editor"})
    api = bootstrap(keyed)
    asset = next(a for a in api.assets.list_in_scope(Scope("demo", "tracks", "Bluefin-12")).items
                 if a["storage"]["key"].endswith(f"track@{V1}.geojson"))
    url = f"/assets/catalogs/demo/collections/tracks/items/Bluefin-12/assets/{asset['id']}/tasks/export-static/execute"
    try:
        with serve(create_app(api)) as base, httpx.Client(
            base_url=base, headers={"X-API-Key": "export-editor-key"}, timeout=60
        ) as client:
            # WHEN the export-static task is executed synchronously, twice (the second run is incremental)
            first = client.post(f"{url}?mode=sync-execute", json={"inputs": {}})
            second = client.post(f"{url}?mode=sync-execute", json={"inputs": {}})
        # THEN it answers with the prefix, the URL of catalog.json and the counts
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["prefix"] == "demo/_static/" and body["catalog_json"].endswith("/demo/_static/catalog.json")
        assert (body["items"], body["files_copied"], body["alias_copies"], body["errors"]) == (1, 3, 2, [])
        again = second.json()
        assert (again["files_copied"], again["files_unchanged"], again["documents_written"]) == (0, 3, 0)
        # AND the tree is in the bucket folder, @latest a copy of the newest version, and it validates
        tree = settings.data_dir / "bucket" / "demo" / "_static"
        latest = tree / ITEM / "track@latest.geojson"
        assert not latest.is_symlink() and json.loads(latest.read_bytes())["v"] == 2
        assert validate_offline(tree) == 1
        # AND the reconciler (what `dynastore dev` runs at start over the bucket folder) makes none of it an asset
        report = api.lifecycle.reconcile("demo")
        assert (report.indexed, report.failed, report.unchanged) == (0, 0, 3)
        page = api.adapters.store.search_assets(AssetQuery(catalog_ids=("demo",), limit=100))
        assert len(page.items) == 3 and not any("/_static/" in a["storage"]["key"] for a in page.items)
    finally:
        api.close()
