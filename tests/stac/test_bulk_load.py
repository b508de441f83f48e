"""Bulk STAC item loading over HTTP (issue 14): NDJSON and the Transaction bulk_items form are
all-or-nothing with one error per bad record; ``dynastore load`` streams a file through the service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from dynastore.bootstrap import bootstrap
from dynastore.cli import main as cli_main
from dynastore.config import Settings

from .helpers import StacApi, assert_problem, collection, item

NDJSON = {"Content-Type": "application/x-ndjson"}


def _scene(item_id: str) -> dict[str, Any]:
    return item(item_id, assets={"visual": {"href": f"https://example.com/{item_id}/TCI.tif", "roles": ["visual"]}})


def _ndjson(items: list[Any]) -> bytes:
    return b"".join(orjson.dumps(i) + b"\n" for i in items)


def _ids(stac_api: StacApi, catalog_id: str) -> list[str]:
    page = stac_api.reader.get(f"/stac/catalogs/{catalog_id}/collections/s2/items", params={"limit": 100})
    return sorted(f["id"] for f in page.json()["features"])


def test_ndjson_post_creates_every_item_with_its_assets(stac_api: StacApi) -> None:
    # GIVEN a collection
    catalog_id = stac_api.new_catalog()
    stac_api.new_collection(catalog_id)
    # WHEN three items are posted as NDJSON, one per line
    response = stac_api.editor.post(
        f"/stac/catalogs/{catalog_id}/collections/s2/items",
        content=_ndjson([_scene("n1"), _scene("n2"), _scene("n3")]),
        headers=NDJSON,
    )
    # THEN 201 lists them in order, and each exists with its asset <item>.<key>
    assert response.status_code == 201, response.text
    assert response.json()["created"] == ["n1", "n2", "n3"]
    assert _ids(stac_api, catalog_id) == ["n1", "n2", "n3"]
    assets = stac_api.reader.get(f"/stac/catalogs/{catalog_id}/collections/s2/items/n2/assets").json()
    assert [a["id"] for a in assets["assets"]] == ["n2.visual"]


def test_ndjson_bad_lines_are_each_named_and_nothing_is_written(stac_api: StacApi) -> None:
    # GIVEN a collection and an NDJSON body whose line 2 is not JSON
    catalog_id = stac_api.new_catalog()
    stac_api.new_collection(catalog_id)
    url = f"/stac/catalogs/{catalog_id}/collections/s2/items"
    body = _ndjson([_scene("ok1")]) + b"{not json\n" + _ndjson([_scene("ok2")])
    # WHEN it is posted
    response = stac_api.editor.post(url, content=body, headers=NDJSON)
    # THEN 400 names line 2, and nothing was written
    problem = assert_problem(response, 400, "line 2")
    assert [e["line"] for e in problem["errors"]] == [2]
    assert _ids(stac_api, catalog_id) == []
    # AND a body whose lines 1 and 3 are invalid items names both lines, writing nothing
    body = _ndjson([{**_scene("b1"), "geometry": 3}, _scene("ok"), {**_scene("b3"), "properties": {}}])
    problem = assert_problem(stac_api.editor.post(url, content=body, headers=NDJSON), 400, "line 1")
    assert [e["line"] for e in problem["errors"]] == [1, 3]
    assert "line 3" in problem["detail"] and "datetime" in problem["errors"][1]["detail"]
    assert _ids(stac_api, catalog_id) == []


def test_bulk_items_inserts_then_upserts_and_refuses_an_insert_of_an_existing_item(stac_api: StacApi) -> None:
    # GIVEN a collection
    catalog_id = stac_api.new_catalog()
    stac_api.new_collection(catalog_id)
    url = f"/stac/catalogs/{catalog_id}/collections/s2/bulk_items"
    # WHEN two items are inserted through the bulk form
    response = stac_api.editor.post(url, json={"items": {"u1": _scene("u1"), "u2": _scene("u2")}, "method": "insert"})
    # THEN both exist
    assert response.status_code == 201, response.text
    assert _ids(stac_api, catalog_id) == ["u1", "u2"]
    # WHEN u1 is inserted again with a new one: 409 names u1 and the new item is not written
    again = {"items": {"u3": _scene("u3"), "u1": _scene("u1")}, "method": "insert"}
    assert_problem(stac_api.editor.post(url, json=again), 409, "u1")
    assert _ids(stac_api, catalog_id) == ["u1", "u2"]
    # WHEN the same body is upserted: u1 is replaced (its created kept), u3 is created
    before = stac_api.reader.get(f"/stac/catalogs/{catalog_id}/collections/s2/items/u1").json()
    changed = {**_scene("u1"), "properties": {"datetime": "2024-05-05T00:00:00Z", "title": "new"}}
    response = stac_api.editor.post(url, json={"items": {"u3": _scene("u3"), "u1": changed}, "method": "upsert"})
    assert response.status_code == 201, response.text
    after = stac_api.reader.get(f"/stac/catalogs/{catalog_id}/collections/s2/items/u1").json()
    assert after["properties"]["title"] == "new"
    assert after["properties"]["created"] == before["properties"]["created"]
    assert _ids(stac_api, catalog_id) == ["u1", "u2", "u3"]
    # AND an unknown method or an id that differs from its key is a 400
    assert_problem(stac_api.editor.post(url, json={"items": {"x": _scene("x")}, "method": "merge"}), 400, "method")
    assert_problem(stac_api.editor.post(url, json={"items": {"x": _scene("y")}}), 400, "differs")


def test_cli_load_streams_an_ndjson_file_and_is_idempotent(tmp_path: Path) -> None:
    # GIVEN a local data dir with a collection, and an NDJSON file of 25 items with two assets each
    data_dir = tmp_path / "data"
    services = bootstrap(Settings(data_dir=data_dir, backend="local", watch_bucket=False))
    services.catalogs.create({"id": "cli"}, actor="test")
    services.stac.create_collection("cli", collection("s2"), actor="test")
    services.close()
    items = [
        item(f"c{i:02d}", assets={k: {"href": f"https://example.com/{i}/{k}.tif"} for k in ("visual", "B04")})
        for i in range(25)
    ]
    path = tmp_path / "items.ndjson"
    path.write_bytes(_ndjson(items))
    args = ["load", str(path), "--catalog", "cli", "--collection", "s2", "--batch-size", "10", "--data-dir"]
    # WHEN it is loaded twice in batches of 10
    assert cli_main([*args, str(data_dir)]) == 0
    assert cli_main([*args, str(data_dir)]) == 0
    # THEN the 25 items and their 50 assets exist once each
    services = bootstrap(Settings(data_dir=data_dir, backend="local", watch_bucket=False))
    listed = services.adapters.store.list_items("cli", "s2", limit=100).items
    assert sorted(d["id"] for d in listed) == [f"c{i:02d}" for i in range(25)]
    asset_ids = [f"c{i:02d}.{k}" for i in range(25) for k in ("visual", "B04")]
    assert len(services.adapters.store.get_assets("cli", asset_ids)) == 50
    services.close()


def test_cli_load_reports_a_bad_line_with_its_file_line_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a collection and an NDJSON file whose line 13 is invalid (a batch of 10 in, line 3 of it)
    data_dir = tmp_path / "data"
    services = bootstrap(Settings(data_dir=data_dir, backend="local", watch_bucket=False))
    services.catalogs.create({"id": "cli"}, actor="test")
    services.stac.create_collection("cli", collection("s2"), actor="test")
    services.close()
    items: list[Any] = [item(f"c{i:02d}") for i in range(15)]
    items[12] = {**items[12], "geometry": 3}
    path = tmp_path / "items.ndjson"
    path.write_bytes(_ndjson(items))
    # WHEN it is loaded in batches of 10
    args = ["load", str(path), "--catalog", "cli", "--collection", "s2", "--batch-size", "10", "--quiet"]
    code = cli_main([*args, "--data-dir", str(data_dir)])
    # THEN it fails naming line 13; the first batch (lines 1-10) stays loaded, the failing one is not
    assert code == 1
    assert "line 13" in capsys.readouterr().err
    services = bootstrap(Settings(data_dir=data_dir, backend="local", watch_bucket=False))
    assert len(services.adapters.store.list_items("cli", "s2", limit=100).items) == 10
    services.close()
