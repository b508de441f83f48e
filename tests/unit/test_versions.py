"""Versions, unit level: the stamp and file-name rules (domain/versions.py) and the publish's bounded
retry of its record writes, with a fake indexing step that fails (services/versions/publish.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dynastore.bootstrap import Services, bootstrap
from dynastore.config import Settings
from dynastore.domain.events import StorageEvent
from dynastore.domain.versions import (
    alias_name,
    bundle_id,
    parse_stamp,
    parse_versioned,
    split_file_name,
    stamp,
)
from dynastore.errors import Invalid
from dynastore.services.asset_files import UploadBuffer
from dynastore.services.indexing import IngestOutcome
from dynastore.services.versions.publish import RECORD_ATTEMPTS, PublishedFile

AT = datetime(2025, 8, 11, 11, 12, 5, tzinfo=UTC)


def test_stamps_are_compact_utc_and_parse_back() -> None:
    assert stamp(AT) == "2025-08-11T1112Z"
    assert stamp(AT, seconds=True) == "2025-08-11T111205Z"
    assert parse_stamp("2025-08-11T1112Z") == AT.replace(second=0)
    assert parse_stamp("2025-08-11T11:12:05Z") == AT
    assert stamp(AT.replace(microsecond=7000), precision="millis") == "2025-08-11T111205.007Z"
    millis = AT.replace(microsecond=7000)
    assert parse_stamp("2025-08-11T111205.007Z") == parse_stamp("2025-08-11T11:12:05.007Z") == millis
    assert parse_stamp("2025-13-11T1112Z") is None and parse_stamp("yesterday") is None
    assert bundle_id("Bluefin-12", "2025-08-11T1112Z") == "prov://Bluefin-12@2025-08-11T1112Z"


def test_versioned_file_names() -> None:
    version = parse_versioned("track@2025-08-11T111205Z.geojson")
    assert version is not None
    assert (version.name, version.ext, version.display) == ("track", ".geojson", "2025-08-11T11:12:05Z")
    assert parse_versioned("track@2025-08-11T1112Z.geojson").display == "2025-08-11T11:12Z"  # type: ignore[union-attr]
    # a later second of the same minute orders after the minute stamp
    assert parse_versioned("t@2025-08-11T111205Z.x") > parse_versioned("t@2025-08-11T1112Z.x")  # type: ignore[operator]
    assert parse_versioned("t@2025-08-11T111205.001Z.x") > parse_versioned("t@2025-08-11T111205Z.x")  # type: ignore[operator]
    assert parse_versioned("README@2025-08-11T111205.001Z").ext == ""  # type: ignore[union-attr]
    assert parse_versioned("track@latest.geojson") is None and parse_versioned("track@v2.geojson") is None
    assert parse_versioned("track.geojson") is None
    assert alias_name("track@latest") == "track" and alias_name("track@latest.geojson") == "track"


@pytest.mark.parametrize(
    ("name", "word"),
    [("track@2025-08-11T1112Z.geojson", "stamps"), ("my track.geojson", "publishable"), ("x.ge/o", "publishable")],
)
def test_file_names_that_cannot_be_published(name: str, word: str) -> None:
    with pytest.raises(Invalid, match=word):
        split_file_name(name)
    assert split_file_name("track.geojson") == ("track", ".geojson")
    assert split_file_name("README") == ("README", "")


class FlakyIndexing:
    """Indexing whose record writes fail ``failures`` times before the real pipeline runs."""

    def __init__(self, real: Any, failures: int) -> None:
        self.real, self.failures, self.calls = real, failures, 0

    def apply(self, event: StorageEvent, *, observed: bool = False) -> IngestOutcome:
        self.calls += 1
        if self.calls <= self.failures:
            return IngestOutcome(event.key, "failed", detail="record write failed (injected)")
        outcome: IngestOutcome = self.real.apply(event, observed=observed)
        return outcome


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = bootstrap(Settings(backend="local", data_dir=tmp_path, watch_bucket=False, worker_threads=0))
    built.catalogs.create({"id": "demo"}, actor="t")
    built.stac.create_collection(
        "demo",
        {
            "type": "Collection",
            "id": "tracks",
            "description": "t",
            "license": "other",
            "extent": {"spatial": {"bbox": [[-180, -90, 180, 90]]}, "temporal": {"interval": [[None, None]]}},
            "stac_version": "1.1.0",
            "links": [],
        },
        actor="t",
    )
    built.stac.create_item(
        "demo",
        "tracks",
        {
            "type": "Feature",
            "stac_version": "1.1.0",
            "id": "b12",
            "geometry": None,
            "properties": {"datetime": "2025-08-10T00:00:00Z"},
            "links": [],
            "assets": {},
        },
        actor="t",
    )
    built.publish.clock = lambda: AT
    yield built
    built.close()


def _publish(services: Services, data: bytes) -> Any:
    buffer = UploadBuffer(1 << 20)
    buffer.write(data)
    return services.publish.publish("demo", "tracks", "b12", [PublishedFile("track.geojson", buffer)], None, actor="a")


def test_a_failed_record_write_is_retried_until_it_lands(services: Services) -> None:
    # GIVEN record writes that fail twice
    flaky = FlakyIndexing(services.publish.indexing, failures=RECORD_ATTEMPTS - 1)
    services.publish.indexing = flaky  # type: ignore[assignment]
    # WHEN a publish writes its version
    result = _publish(services, b"track")
    # THEN the third attempt lands: a created, indexed version and the item's bundle
    assert flaky.calls == RECORD_ATTEMPTS and result.created and not result.pending
    assert [d["version"] for d in result.versions] == ["2025-08-11T11:12Z"]
    item = services.stac.get_item_doc("demo", "tracks", "b12")
    assert item["properties"]["prov:bundle"] == "prov://b12@2025-08-11T1112Z"


def test_records_that_never_land_are_pending_and_the_reconciler_repairs_them(services: Services) -> None:
    # GIVEN record writes that always fail
    services.publish.indexing = FlakyIndexing(services.publish.indexing, failures=1000)  # type: ignore[assignment]
    result = _publish(services, b"track")
    # THEN the version is stored, reported pending, and not yet indexed
    assert result.pending and result.written == ["track@2025-08-11T1112Z.geojson"] and result.versions == []
    assert services.adapters.blobs.get("demo/tracks/b12/track@2025-08-11T1112Z.geojson") == b"track"
    assert services.versions.history("demo", "tracks", "b12", "track", limit=10, token=None).items == []
    # WHEN the reconciler runs
    services.lifecycle.reconcile("demo")
    # THEN the version is indexed, latest, and mirrored in the item
    versions = services.versions.history("demo", "tracks", "b12", "track", limit=10, token=None).items
    assert [(d["version"], d["latest"]) for d in versions] == [("2025-08-11T11:12Z", True)]
    assert versions[0]["metadata"]["audit"]["prov"]["who"] == "a"
    item = services.stac.get_item_doc("demo", "tracks", "b12")
    assert item["properties"]["prov:bundle"] == "prov://b12@2025-08-11T1112Z"
