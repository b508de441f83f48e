"""The local store's pre-rendered asset records (``assets.record``): a database of schema 2 gets them
when this version opens it, and assets whose record depends on the request (``file://``) keep none."""

from __future__ import annotations

from pathlib import Path

from dynastore.backends.local.metadata import SqliteMetadataStore
from dynastore.backends.local.sqlite_schema import SCHEMA_VERSION
from dynastore.domain.asset import Asset
from dynastore.domain.search import AssetQuery
from dynastore.ports import AssetWrite


def _asset(asset_id: str, href: str) -> dict[str, object]:
    fields = {"id": asset_id, "catalog_id": "demo", "collection_id": "c", "item_id": "i", "href": href}
    return Asset.model_validate({**fields, "datetime": "2024-01-01T00:00:00Z", "tags": []}).to_doc()


def test_a_schema_2_database_gets_its_asset_records_when_opened(tmp_path: Path) -> None:
    # GIVEN a database written before asset records were stored (schema 2: no record column)
    path = tmp_path / "old.sqlite"
    old = SqliteMetadataStore(path)
    docs = [_asset("a.tif", "https://h.example.com/a.tif"), _asset("b.tif", "file:///data/b.tif")]
    old.write_assets([AssetWrite(doc, expect_rev=0) for doc in docs], audits=[])
    old.db.executescript("ALTER TABLE assets DROP COLUMN record; PRAGMA user_version = 2;")
    old.close()
    # WHEN this version opens it
    store = SqliteMetadataStore(path)
    # THEN the remote asset's page record is stored (lean: no empty members, time under properties)
    # AND the local file's page comes as its document (its download URL names the request's host)
    query = AssetQuery(catalog_ids=("demo",), collection_id="c", item_id="i", level="item")
    first, second = store.search_asset_records(query).items
    assert isinstance(first, str) and isinstance(second, dict)
    assert '"tags"' not in first and '"properties":{"datetime":"2024-01-01T00:00:00.000000Z"}' in first
    assert second["href"] == "file:///data/b.tif"
    assert store.db.query_one("PRAGMA user_version")[0] == SCHEMA_VERSION
    store.close()


def test_a_schema_3_database_gets_lean_records_when_opened(tmp_path: Path) -> None:
    # GIVEN a database whose stored records repeat created as updated (schema 3)
    path = tmp_path / "old.sqlite"
    old = SqliteMetadataStore(path)
    doc = {**_asset("a.tif", "https://h.example.com/a.tif"), "updated": "2025-01-01T00:00:00.000000Z"}
    doc["created"] = doc["updated"]
    old.write_assets([AssetWrite(doc, expect_rev=0)], audits=[])
    stale = '{"id":"a.tif","href":"https://h.example.com/a.tif","created":"x","updated":"x"}'
    old.db.executescript(f"UPDATE assets SET record = '{stale}'; PRAGMA user_version = 3;")
    old.close()
    # WHEN this version opens it
    store = SqliteMetadataStore(path)
    # THEN the stored record is rendered again by today's rule: created only, the document unchanged
    query = AssetQuery(catalog_ids=("demo",), collection_id="c", item_id="i", level="item")
    (record,) = store.search_asset_records(query).items
    assert isinstance(record, str) and '"created":"2025-01-01T00:00:00.000000Z"' in record
    assert '"updated"' not in record
    assert store.get_asset("demo", "a.tif")["updated"] == "2025-01-01T00:00:00.000000Z"
    assert store.db.query_one("PRAGMA user_version")[0] == SCHEMA_VERSION
    store.close()
