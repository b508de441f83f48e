"""Pure rules of the asset service: stored shape, scopes, file names, upload spooling."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from dynastore.domain.asset import Asset, AssetFields, asset_doc
from dynastore.errors import Invalid, PayloadTooLarge
from dynastore.services.assets import Scope, UploadBuffer, check_file_name, client_view, parse_fields

SYSTEM: dict[str, Any] = {
    "catalog_id": "demo",
    "collection_id": "s2",
    "item_id": "scene-1",
    "status": "active",
    "created": "2024-01-01T00:00:00.000000Z",
    "updated": "2024-01-01T00:00:00.000000Z",
    "deleted_at": None,
    "storage": {"bucket": "b", "key": "demo/s2/scene-1/B04.tif", "generation": "1", "etag": None, "md5": None},
    "rev": 0,
}


def test_asset_doc_is_exactly_the_domain_shape() -> None:
    # GIVEN validated client fields with a STAC extension field
    fields = parse_fields({"href": "https://x.org/B04.tif", "roles": ["data"], "proj:epsg": 32633, "file:size": 3})
    # WHEN the service builds the stored document without a second validation pass
    doc = asset_doc("b04", fields, **SYSTEM)
    # THEN it is what Asset.to_doc() would store, extension fields at the top level
    assert doc == Asset.from_doc(doc).to_doc()
    assert doc["proj:epsg"] == 32633 and doc["file:size"] == 3 and doc["id"] == "b04"
    assert "extensions" not in doc


def test_client_view_round_trips_through_the_client_model() -> None:
    doc = asset_doc("a", parse_fields({"href": "https://x.org/a", "title": "t", "eo:cloud_cover": 3}), **SYSTEM)
    view = client_view(doc)
    assert not set(view) & set(SYSTEM)
    assert asset_doc("a", AssetFields.model_validate(view), **SYSTEM) == doc


@pytest.mark.parametrize("body", [{"catalog_id": "x"}, {"status": "deleted"}, {"rev": 3}, {"storage": {}}])
def test_system_fields_cannot_come_from_a_client(body: dict) -> None:
    with pytest.raises(Invalid, match="cannot be set"):
        parse_fields({"href": "https://x.org/a", **body})


def test_scope_holds_only_records_of_exactly_its_level() -> None:
    item = Scope("demo", "s2", "scene-1")
    assert item.level == "item" and item.holds(SYSTEM)
    assert not Scope("demo", "s2").holds(SYSTEM)
    assert not Scope("demo").holds(SYSTEM)
    assert not Scope("other", "s2", "scene-1").holds(SYSTEM)
    assert item.relative_dir() == "s2/scene-1/" and Scope("demo").relative_dir() == ""


@pytest.mark.parametrize("name", ["B04.tif", "S2A_20240101_B04.TIF", "a b.pdf", "été.txt", "x..y"])
def test_plain_file_names_are_accepted(name: str) -> None:
    assert check_file_name(name) == name


@pytest.mark.parametrize("name", ["", " ", "../x", "a/b", "a\\b", "..", ".", ".env", "x\x00y", "a\nb", "é" * 200])
def test_file_names_that_could_escape_or_hide_are_refused(name: str) -> None:
    with pytest.raises(Invalid):
        check_file_name(name)


def test_upload_buffer_counts_hashes_and_keeps_the_head() -> None:
    buffer = UploadBuffer(max_bytes=10_000)
    for chunk in (b"II*\x00", b"x" * 5000, b"y" * 4996):
        buffer.write(chunk)
    assert buffer.size == 10_000
    data = b"II*\x00" + b"x" * 5000 + b"y" * 4996
    assert buffer.checksum == "1220" + hashlib.sha256(data).hexdigest()
    assert buffer.head == data[:8192]
    assert buffer.rewind().read() == data
    buffer.close()


def test_upload_buffer_stops_one_byte_past_the_limit() -> None:
    buffer = UploadBuffer(max_bytes=4)
    buffer.write(b"1234")
    with pytest.raises(PayloadTooLarge, match="DYNASTORE_MAX_UPLOAD_BYTES"):
        buffer.write(b"5")
    buffer.close()
