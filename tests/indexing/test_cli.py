"""``dynastore index``, ``reconcile`` and ``cleanup`` on the local backend (in process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dynastore.backends.local.metadata import SqliteMetadataStore
from dynastore.cli import main
from dynastore.domain.search import AssetQuery


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DYNASTORE_LOG_LEVEL", "WARNING")
    data = tmp_path / "data"
    scene = data / "bucket" / "demo" / "s2" / "scene-1"
    scene.mkdir(parents=True)
    for n in range(5):
        (scene / f"obs-{n}.csv").write_text(f"id\n{n}\n")
    (scene / "obs-0.csv.meta.json").write_text(json.dumps({"title": "first observation"}))
    (scene / ".~lock.obs-1.csv#").write_text("editor lock file")
    (data / "bucket" / "other").mkdir()
    (data / "bucket" / "other" / "notes.txt").write_text("notes")
    return data


def _summary(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _active(data_dir: Path, catalog: str = "demo") -> list[dict]:
    store = SqliteMetadataStore(data_dir / "dynastore.db")
    try:
        return store.search_assets(AssetQuery(catalog_ids=(catalog,), limit=100)).items
    finally:
        store.close()


def test_index_a_folder_of_the_bucket(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["index", str(data_dir / "bucket" / "demo"), "--data-dir", str(data_dir), "--json"])
    summary = _summary(capsys)
    assert code == 0
    # 5 files and their sidecar (applied with its file, so re-applying it changes nothing); lock file ignored
    assert (summary["objects"], summary["indexed"], summary["unchanged"]) == (6, 5, 1)
    assets = _active(data_dir)
    assert len(assets) == 5
    assert next(a for a in assets if a["storage"]["key"].endswith("obs-0.csv"))["title"] == "first observation"
    assert _active(data_dir, "other") == []  # only the folder given
    # indexing again changes nothing
    assert main(["index", str(data_dir / "bucket" / "demo"), "--data-dir", str(data_dir), "--json"]) == 0
    assert _summary(capsys).get("indexed", 0) == 0


def test_index_a_key_prefix_and_a_single_file(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", "other/", "--data-dir", str(data_dir), "--json"]) == 0
    assert _summary(capsys)["indexed"] == 1
    one = data_dir / "bucket" / "demo" / "s2" / "scene-1" / "obs-3.csv"
    assert main(["index", str(one), "--data-dir", str(data_dir), "--json"]) == 0
    assert [a["storage"]["key"] for a in _active(data_dir)] == ["demo/s2/scene-1/obs-3.csv"]


def test_index_with_a_progress_bar(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", str(data_dir / "bucket"), "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "indexing" in out and "dynastore index" in out


def test_index_refuses_paths_outside_the_bucket(data_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    with pytest.raises(SystemExit) as caught:
        main(["index", str(outside), "--data-dir", str(data_dir)])
    assert "outside the bucket folder" in str(caught.value)
    with pytest.raises(SystemExit) as unknown:
        main(["index", "no/such/prefix", "--data-dir", str(data_dir)])
    assert "no object key starts with it" in str(unknown.value)


def test_index_exits_1_when_a_file_cannot_be_indexed(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (data_dir / "bucket" / "loose.pdf").write_bytes(b"%PDF-1.4")
    assert main(["index", str(data_dir / "bucket"), "--data-dir", str(data_dir), "--json"]) == 1
    summary = _summary(capsys)
    assert summary["failed"] == 1 and summary["failures"][0]["key"] == "loose.pdf"


def test_reconcile_then_retire_and_cleanup(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["reconcile", "--data-dir", str(data_dir), "--json"]) == 0
    report = _summary(capsys)
    assert sorted(report["catalogs"]) == ["demo", "other"] and report["indexed"] == 6
    assert main(["reconcile", "--catalog", "demo", "--data-dir", str(data_dir), "--json"]) == 0
    assert _summary(capsys)["indexed"] == 0

    from dynastore.bootstrap import bootstrap
    from dynastore.config import Settings

    services = bootstrap(Settings(data_dir=data_dir, watch_bucket=False))
    services.catalogs.retire("other", actor="test")
    services.close()
    monkeypatch.setenv("DYNASTORE_RETENTION_DAYS", "0")
    assert main(["cleanup", "--data-dir", str(data_dir), "--json"]) == 0
    cleaned = _summary(capsys)
    assert cleaned["catalogs_purged"] == ["other"] and cleaned["blobs_deleted"] == 1
    assert not (data_dir / "bucket" / "other").exists() or not any((data_dir / "bucket" / "other").iterdir())
    assert len(_active(data_dir)) == 5
    assert main(["cleanup", "--data-dir", str(data_dir), "--json"]) == 0
    assert _summary(capsys)["catalogs_purged"] == []
