"""Bulk indexing skips validation passes where its records are built from its own values: those
records must be exactly what validation would have produced (the shortcuts change speed, not data)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dynastore.bootstrap import Services, bootstrap
from dynastore.config import Settings
from dynastore.domain.asset import Asset
from dynastore.domain.audit import AuditEvent
from dynastore.domain.events import StorageEvent
from dynastore.ports import BlobInfo


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = bootstrap(Settings(data_dir=tmp_path, watch_bucket=False, log_level="WARNING"))
    yield built
    built.close()


@pytest.mark.parametrize(
    "info",
    [
        BlobInfo("local", "demo/a.csv", 12, "1716912345678901234", updated="2024-05-01T10:00:00.000000Z"),
        BlobInfo(
            "b",
            "demo/s2/x.tif",
            0,
            "7",
            etag="abc",
            md5="0cc175b9c0f1b6a831c399e269772661",
            crc32c="e8b7be43",
            content_type="image/tiff",
            metadata={"title": "T", "roles": "data,visual"},
        ),
        BlobInfo("b", "demo/x.tif", 3, "7", md5="0CC175B9C0F1B6A831C399E269772661"),  # upper-case hex: normalized
        BlobInfo("b", "demo/x.tif", 3, "", md5=""),  # empty generation and md5 become None
    ],
)
def test_an_event_from_a_blob_is_what_validation_gives(info: BlobInfo) -> None:
    fields = {
        "kind": "finalized",
        "bucket": info.bucket,
        "key": info.key,
        "generation": info.generation,
        "etag": info.etag,
        "size": info.size,
        "md5": info.md5,
        "crc32c": info.crc32c,
        "content_type": info.content_type,
        "metadata": dict(info.metadata),
        "event_time": info.updated,
    }
    validated = StorageEvent.model_validate(fields)
    event = StorageEvent.from_blob(info)
    assert event == validated and event.model_dump() == validated.model_dump()
    assert event.event_id == validated.event_id and event.event_id.startswith("sha1:")
    assert StorageEvent.from_blob(info, event_id="e-1").event_id == "e-1"


def test_bulk_indexed_records_are_exactly_their_validated_form(services: Services) -> None:
    # GIVEN files at every level of the key convention, a tagged one, and one described by a sidecar
    blobs = services.adapters.blobs
    blobs.put("demo/readme.pdf", b"%PDF-1.7 catalog level")
    blobs.put("demo/s2/guide.txt", b"collection level")
    blobs.put("demo/s2/scene-1/B04.csv", b"band,value\nB04,1\n")
    blobs.put("demo/s2/scene-1/qa/mask.json", b'{"type": "Feature"}', metadata={"title": "QA mask"})
    blobs.put("demo/s2/scene-1/B08.csv", b"band,value\nB08,1\n")
    blobs.put("demo/s2/scene-1/B08.csv.meta.json", b'{"roles": ["data", "nir"], "eo:bands": [{"name": "B08"}]}')
    keys = [
        "demo/readme.pdf",
        "demo/s2/guide.txt",
        "demo/s2/scene-1/B04.csv",
        "demo/s2/scene-1/qa/mask.json",
        "demo/s2/scene-1/B08.csv",
        "demo/s2/scene-1/B08.csv.meta.json",
    ]
    # WHEN they are indexed in bulk
    outcomes = services.indexing.index_keys(keys, listed=True)
    assert {o.key: o.status for o in outcomes if o.key != keys[-1]} == dict.fromkeys(keys[:-1], "indexed")
    # THEN every stored record round-trips through the Asset model unchanged, fields in model order
    by_key = {o.key: services.adapters.store.get_asset("demo", o.asset_id or "") for o in outcomes[:-1]}
    assets = {doc["id"]: doc for doc in by_key.values()}
    for doc in assets.values():
        validated = Asset.from_doc(doc).to_doc()
        assert doc == validated and list(doc) == list(validated)
    assert by_key["demo/readme.pdf"]["roles"] == ["data"] and by_key["demo/readme.pdf"]["type"] == "application/pdf"
    assert by_key["demo/s2/scene-1/qa/mask.json"]["title"] == "QA mask"
    assert by_key["demo/s2/scene-1/B08.csv"]["roles"] == ["data", "nir"]
    assert by_key["demo/s2/scene-1/B08.csv"]["eo:bands"] == [{"name": "B08"}]
    # AND each asset has one audit event, valid for the audit model
    for asset_id in assets:
        trail = services.adapters.store.list_audit("demo", record_type="asset", record_id=asset_id).items
        assert [event["action"] for event in trail] == ["index"]
        assert AuditEvent.model_validate(trail[0]).to_doc() == trail[0]
    # AND indexing them again changes nothing and writes no audit event
    again = services.indexing.index_keys(keys[:-1], listed=True)
    assert {o.status for o in again} == {"unchanged"}
    for asset_id, doc in assets.items():
        assert services.adapters.store.get_asset("demo", asset_id) == doc
        assert len(services.adapters.store.list_audit("demo", record_type="asset", record_id=asset_id).items) == 1
