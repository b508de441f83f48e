"""Versions contract (seed 004 §12, VERSIONS.md), on every backend: publishing immutable timestamped
versions, ``latest`` rotation, ``@latest``, the PROV bundle, create-only versions, the history bound,
versions dropped straight into the bucket, and the reconciler indexing a version nobody recorded."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dynastore.bootstrap import Adapters, Services, bootstrap
from dynastore.config import Settings
from dynastore.domain.events import StorageEvent
from dynastore.errors import Conflict
from dynastore.ports import Doc
from dynastore.services.asset_files import UploadBuffer
from dynastore.services.stac import Links
from dynastore.services.versions.publish import PublishedFile, PublishResult

from .helpers import collection_doc

ACTOR = "contract"
CAT, COL, ITEM = "demo", "tracks", "Bluefin-12"
T0 = datetime(2025, 8, 11, 11, 12, 30, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def services(adapters: Adapters, tmp_path: Any) -> Services:
    built = bootstrap(Settings(data_dir=tmp_path / "unused", stac_asset_history_max=2), adapters)
    built.catalogs.create({"id": CAT}, actor=ACTOR)
    built.stac.create_collection(CAT, collection_doc(COL, description="tracks", license="other"), actor=ACTOR)
    item: Doc = {
        "type": "Feature",
        "stac_version": "1.1.0",
        "id": ITEM,
        "geometry": None,
        "properties": {"datetime": "2025-08-10T00:00:00Z"},
        "links": [],
        "assets": {},
    }
    built.stac.create_item(CAT, COL, item, actor=ACTOR)
    return built


@pytest.fixture
def clock(services: Services) -> Clock:
    c = Clock(T0)
    services.publish.clock = c
    return c


def _file(name: str, data: bytes) -> PublishedFile:
    buffer = UploadBuffer(1 << 20)
    buffer.write(data)
    return PublishedFile(name, buffer)


def publish(services: Services, *files: tuple[str, bytes], metadata: Any = None) -> PublishResult:
    return services.publish.publish(CAT, COL, ITEM, [_file(n, d) for n, d in files], metadata, actor="alice")


def _item(services: Services) -> Doc:
    return services.stac.render_item(services.stac.get_item_doc(CAT, COL, ITEM), Links("http://example.test"))


def _versions(services: Services, name: str) -> list[Doc]:
    return services.versions.history(CAT, COL, ITEM, name, limit=100, token=None).items


def test_publish_twice_gives_two_versions_and_latest_rotates(services: Services, clock: Clock) -> None:
    # GIVEN a track and its thumbnail published once
    first = publish(services, ("track.geojson", b'{"v": 1}'), ("thumbnail.png", b"\x89PNG1"))
    assert first.created and first.stamp == "2025-08-11T1112Z"
    assert sorted(first.written) == ["thumbnail@2025-08-11T1112Z.png", "track@2025-08-11T1112Z.geojson"]
    # WHEN new bytes of the track are published a day later
    clock.at = T0 + timedelta(days=1)
    second = publish(services, ("track.geojson", b'{"v": 2}'))
    # THEN there are two distinct versioned files, and only the newest is latest
    assert second.written == ["track@2025-08-12T1112Z.geojson"]
    tracks = _versions(services, "track")
    assert [(d["version"], d.get("latest")) for d in tracks] == [
        ("2025-08-12T11:12Z", True),
        ("2025-08-11T11:12Z", None),
    ]
    assert tracks[0]["file:checksum"] != tracks[1]["file:checksum"]
    # AND the blobs of both versions stay in the bucket
    blobs = services.adapters.blobs
    assert blobs.get(f"{CAT}/{COL}/{ITEM}/track@2025-08-11T1112Z.geojson") == b'{"v": 1}'
    assert blobs.get(f"{CAT}/{COL}/{ITEM}/track@2025-08-12T1112Z.geojson") == b'{"v": 2}'
    # AND the item keys its assets by file name, the newest one latest
    assets = _item(services)["assets"]
    assert assets["track@2025-08-12T1112Z.geojson"]["latest"] is True
    assert "latest" not in assets["track@2025-08-11T1112Z.geojson"]
    assert assets["thumbnail@2025-08-11T1112Z.png"]["latest"] is True


def test_same_bytes_publish_no_new_version_and_same_minute_gets_seconds(services: Services, clock: Clock) -> None:
    first = publish(services, ("track.geojson", b"A"))
    # WHEN the same bytes are published again: no new version, the existing one answers
    again = publish(services, ("track.geojson", b"A"))
    assert not again.created and again.unchanged == first.written and again.written == []
    assert [d["id"] for d in again.versions] == [d["id"] for d in first.versions]
    # WHEN different bytes come within the same minute: a seconds stamp, never the same name
    clock.at = T0 + timedelta(seconds=5)
    later = publish(services, ("track.geojson", b"B"))
    assert later.written == ["track@2025-08-11T111235Z.geojson"]
    assert [d["version"] for d in _versions(services, "track")] == ["2025-08-11T11:12:35Z", "2025-08-11T11:12Z"]


def test_search_returns_one_item_and_latest_resolves_to_the_newest(services: Services, clock: Clock) -> None:
    for day in range(3):
        clock.at = T0 + timedelta(days=day)
        publish(services, ("track.geojson", f"v{day}".encode()))
    from dynastore.domain.search import ItemQuery

    found = services.stac.search_items(ItemQuery(catalog_ids=(CAT,), ids=(ITEM,), limit=10)).items
    assert [d["id"] for d in found] == [ITEM]
    newest = _versions(services, "track")[0]
    assert newest["version"] == "2025-08-13T11:12Z"
    assert services.versions.resolve(CAT, COL, ITEM, "track@latest") == newest["id"]
    assert services.versions.resolve(CAT, COL, ITEM, "track@latest.geojson") == newest["id"]
    oldest = services.versions.resolve(CAT, COL, ITEM, "track@2025-08-11T1112Z.geojson")
    assert services.adapters.store.get_asset(CAT, oldest)["version"] == "2025-08-11T11:12Z"


def test_prov_bundle_in_item_matches_the_newest_assets_provenance(services: Services, clock: Clock) -> None:
    meta = {"sys:state": "final", "sys:quality:completeness": 0.9, "sys:security:classification": "official"}
    publish(services, ("track.geojson", b"one"))
    clock.at = T0 + timedelta(hours=1)
    result = publish(services, ("track.geojson", b"two"), ("summary.csv", b"a,b\n"), metadata=meta)
    properties = _item(services)["properties"]
    newest = _versions(services, "track")[0]
    prov = newest["metadata"]["audit"]["prov"]
    assert properties["prov:bundle"] == prov["bundle"] == result.bundle == f"prov://{ITEM}@2025-08-11T1212Z"
    assert prov["who"] == "alice" and prov["content_hash"] == newest["file:checksum"]
    assert prov["supersedes"] == "track@2025-08-11T1112Z.geojson"
    assert {k: properties[k] for k in meta} == meta
    # AND the first publish, without metadata, got the documented defaults
    oldest = _versions(services, "track")[1]
    assert oldest["sys:state"] == "published" and oldest["sys:security:classification"] == "unclassified"


def test_a_published_version_is_never_overwritten(services: Services, clock: Clock) -> None:
    result = publish(services, ("track.geojson", b"original"))
    key = f"{CAT}/{COL}/{ITEM}/{result.written[0]}"
    # WHEN anyone writes that object again create-only through the blob store
    with pytest.raises(Conflict):
        services.adapters.blobs.put(key, b"tampered", if_generation_match=0)
    # AND a publish that would land on the same stamp leaves the existing object alone: a finer stamp
    squatter = f"{CAT}/{COL}/{ITEM}/track@2025-08-11T111230Z.geojson"
    services.adapters.blobs.put(squatter, b"squatter")
    assert publish(services, ("track.geojson", b"new")).written == ["track@2025-08-11T111230.000Z.geojson"]
    assert services.adapters.blobs.get(key) == b"original"
    assert services.adapters.blobs.get(squatter) == b"squatter"


def test_item_embeds_at_most_history_max_versions_per_name(services: Services, clock: Clock) -> None:
    for day in range(4):
        clock.at = T0 + timedelta(days=day)
        publish(services, ("track.geojson", f"v{day}".encode()), ("thumbnail.png", f"t{day}".encode()))
    keys = sorted(k for k in _item(services)["assets"] if k.startswith("track@"))
    assert keys == ["track@2025-08-13T1112Z.geojson", "track@2025-08-14T1112Z.geojson"]  # the newest 2
    history = services.versions.history(CAT, COL, ITEM, "track", limit=3, token=None)
    assert [d["version"][:10] for d in history.items] == ["2025-08-14", "2025-08-13", "2025-08-12"]
    rest = services.versions.history(CAT, COL, ITEM, "track", limit=3, token=history.next_token)
    assert [d["version"][:10] for d in rest.items] == ["2025-08-11"] and rest.next_token is None


def test_dropped_versions_index_in_any_order_and_redelivery(services: Services) -> None:
    blobs = services.adapters.blobs
    old = StorageEvent.from_blob(blobs.put(f"{CAT}/{COL}/{ITEM}/track@2025-08-10T0955Z.geojson", b"old"))
    new = StorageEvent.from_blob(blobs.put(f"{CAT}/{COL}/{ITEM}/track@2025-08-11T1112Z.geojson", b"new"))
    # WHEN the newer file's event arrives first, then the older one's, then both again
    for event in (new, old, new, old):
        services.indexing.apply(event)
    # THEN the newest is latest, the item mirrors it, and nothing was duplicated
    tracks = _versions(services, "track")
    assert [(d["version"], d.get("latest")) for d in tracks] == [
        ("2025-08-11T11:12Z", True),
        ("2025-08-10T09:55Z", None),
    ]
    assert tracks[0]["metadata"]["audit"]["prov"]["who"] == "indexer"
    assert tracks[0]["metadata"]["audit"]["prov"]["supersedes"] == "track@2025-08-10T0955Z.geojson"
    properties = _item(services)["properties"]
    assert properties["prov:bundle"] == f"prov://{ITEM}@2025-08-11T1112Z"
    assert properties["sys:state"] == "published"


def test_reconciler_indexes_a_version_whose_records_were_never_written(services: Services, clock: Clock) -> None:
    publish(services, ("track.geojson", b"first"))
    # GIVEN a publish whose object landed but whose records did not (a crash after the blob write)
    services.adapters.blobs.put(
        f"{CAT}/{COL}/{ITEM}/track@2025-08-12T0800Z.geojson", b"second", metadata={"publish": '{"by": "bob"}'}
    )
    assert len(_versions(services, "track")) == 1
    # WHEN the reconciler runs
    report = services.lifecycle.reconcile(CAT)
    # THEN the object is a version, latest, and the item's bundle names it
    assert report.failed == 0
    tracks = _versions(services, "track")
    assert [(d["version"], d.get("latest")) for d in tracks] == [
        ("2025-08-12T08:00Z", True),
        ("2025-08-11T11:12Z", None),
    ]
    assert tracks[0]["metadata"]["audit"]["prov"]["who"] == "bob"
    assert _item(services)["properties"]["prov:bundle"] == f"prov://{ITEM}@2025-08-12T0800Z"


def test_create_only_put_of_a_stream_never_overwrites(adapters: Adapters) -> None:
    # GIVEN a published version in the bucket
    key = f"{CAT}/{COL}/{ITEM}/track@2025-08-11T1112Z.geojson"
    adapters.blobs.put(key, b"published")
    # WHEN bytes are streamed to the same key create-only (what a publish does with a spooled upload)
    with pytest.raises(Conflict):
        adapters.blobs.put(key, io.BytesIO(b"overwrite"), if_generation_match=0)
    # THEN the version is untouched
    assert adapters.blobs.get(key) == b"published"
