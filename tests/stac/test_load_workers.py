"""``dynastore load --workers N`` (issue 14): batches run on worker processes on the local backend;
every batch stays all-or-nothing and the command says exactly which batches were written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from dynastore.bootstrap import bootstrap
from dynastore.cli import main as cli_main
from dynastore.config import Settings

from .helpers import collection, item

KEYS = ("visual", "B04")


def _collection_in(data_dir: Path) -> None:
    services = bootstrap(Settings(data_dir=data_dir, backend="local", watch_bucket=False))
    services.catalogs.create({"id": "cli"}, actor="test")
    services.stac.create_collection("cli", collection("s2"), actor="test")
    services.close()


def _scenes(count: int) -> list[Any]:
    return [
        item(f"w{i:03d}", assets={k: {"href": f"https://example.com/{i}/{k}.tif"} for k in KEYS})
        for i in range(count)
    ]


def _stored(data_dir: Path) -> tuple[list[str], int]:
    """The stored item ids, and how many of their assets exist."""
    services = bootstrap(Settings(data_dir=data_dir, backend="local", watch_bucket=False))
    try:
        ids = sorted(d["id"] for d in services.adapters.store.list_items("cli", "s2", limit=1000).items)
        assets = services.adapters.store.get_assets("cli", [f"{i}.{k}" for i in ids for k in KEYS])
        return ids, len(assets)
    finally:
        services.close()


def _load(path: Path, data_dir: Path, *extra: str) -> int:
    args = ["load", str(path), "--catalog", "cli", "--collection", "s2", "--quiet", "--data-dir", str(data_dir)]
    return cli_main([*args, *extra])


def test_load_with_workers_writes_every_batch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a collection and an NDJSON file of 95 items with two assets each (10 batches of 10)
    data_dir = tmp_path / "data"
    _collection_in(data_dir)
    path = tmp_path / "items.ndjson"
    path.write_bytes(b"".join(orjson.dumps(i) + b"\n" for i in _scenes(95)))
    # WHEN it is loaded by 3 worker processes
    code = _load(path, data_dir, "--batch-size", "10", "--workers", "3")
    # THEN it succeeds, says so, and every item and asset is stored once
    assert code == 0
    out = capsys.readouterr().out
    assert "loaded 95 items" in out and "3 workers" in out
    assert _stored(data_dir) == ([f"w{i:03d}" for i in range(95)], 190)


def test_load_with_workers_reports_exactly_which_batches_are_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an NDJSON file of 60 items whose line 25 is invalid (in the third batch of 10)
    data_dir = tmp_path / "data"
    _collection_in(data_dir)
    items = _scenes(60)
    items[24] = {**items[24], "geometry": 3}
    path = tmp_path / "items.ndjson"
    path.write_bytes(b"".join(orjson.dumps(i) + b"\n" for i in items))
    # WHEN it is loaded by 2 worker processes
    code = _load(path, data_dir, "--batch-size", "10", "--workers", "2")
    # THEN it fails naming the batch and its bad line, and nothing of that batch is stored
    assert code == 1
    err = capsys.readouterr().err
    assert "lines 21-30 not loaded: line 25:" in err
    stored, assets = _stored(data_dir)
    assert not {f"w{i:03d}" for i in range(20, 30)} & set(stored)
    # AND the batches before it (sent before it failed) are written, each with its assets
    assert {f"w{i:03d}" for i in range(20)} <= set(stored)
    assert assets == 2 * len(stored)
    # AND the message names exactly the stored lines
    written = re.search(r"written: (.*) \(([\d,]+) items\), nothing else", err)
    assert written, err
    lines = [n for a, b in re.findall(r"(\d+)-(\d+)", written.group(1)) for n in range(int(a), int(b) + 1)]
    assert sorted(f"w{n - 1:03d}" for n in lines) == stored
    assert int(written.group(2).replace(",", "")) == len(stored)


def test_by_default_the_last_line_of_a_repeated_id_wins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a file of 40 items (4 batches of 10) whose last line repeats the first item with a new title
    data_dir = tmp_path / "data"
    _collection_in(data_dir)
    scenes = _scenes(39)
    scenes.append({**scenes[0], "properties": {**scenes[0]["properties"], "title": "the last line"}})
    path = tmp_path / "items.ndjson"
    path.write_bytes(b"".join(orjson.dumps(i) + b"\n" for i in scenes))
    # WHEN it is loaded without --workers
    assert _load(path, data_dir, "--batch-size", "10") == 0
    # THEN it ran in one process, and the stored item is the one of the file's last line
    assert "workers" not in capsys.readouterr().out
    services = bootstrap(Settings(data_dir=data_dir, backend="local", watch_bucket=False))
    try:
        assert services.adapters.store.get_item("cli", "s2", "w000")["properties"]["title"] == "the last line"
    finally:
        services.close()
