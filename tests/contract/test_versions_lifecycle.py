"""Versions contract, continued (seed 004, VERSIONS.md), on every backend: a version whose file goes
missing hands ``latest`` to the newest active one, an item PATCH by the item's own version keys,
JSON publishes move their staged upload, rapid publishes get finer stamps, per-file asset fields."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from dynastore.bootstrap import Services
from dynastore.domain.events import StorageEvent
from dynastore.domain.search import AssetQuery
from dynastore.errors import Invalid, NotFound
from dynastore.ports import Doc
from dynastore.services.versions.publish import PublishResult

from .test_versions import CAT, COL, ITEM, T0, Clock, _item, _versions, publish
from .test_versions import clock as clock  # fixtures
from .test_versions import services as services

KEY = f"{CAT}/{COL}/{ITEM}"


def _record(services: Services, file_name: str) -> Doc:
    """The record of one file of the item, whatever its status."""
    query = AssetQuery(catalog_ids=(CAT,), item_id=ITEM, status=("active", "missing", "deleted"), limit=100)
    found = services.adapters.store.search_assets(query).items
    return next(d for d in found if d["storage"]["key"] == f"{KEY}/{file_name}")


def test_a_missing_newest_version_hands_latest_to_the_newest_active_one(services: Services, clock: Clock) -> None:
    # GIVEN two published versions of the track, the newest latest
    first = publish(services, ("track.geojson", b"one")).written[0]
    clock.at = T0 + timedelta(days=1)
    second = publish(services, ("track.geojson", b"two")).written[0]
    # WHEN the newest version's file is deleted from the bucket and its delete event is applied
    services.adapters.blobs.delete(f"{KEY}/{second}")
    deleted = StorageEvent(kind="deleted", bucket=services.adapters.blobs.bucket, key=f"{KEY}/{second}")
    services.indexing.apply(deleted, observed=True)
    # THEN the missing version is no longer latest, the older active one is
    gone = _record(services, second)
    assert gone["status"] == "missing" and not gone.get("latest")
    assert [(d["version"], d.get("latest")) for d in _versions(services, "track")] == [("2025-08-11T11:12Z", True)]
    # AND @latest resolves to it and the item's mirrored bundle names it
    assert services.versions.resolve(CAT, COL, ITEM, "track@latest") == _record(services, first)["id"]
    assert _item(services)["properties"]["prov:bundle"] == f"prov://{ITEM}@2025-08-11T1112Z"
    # AND the reconciler, run again, changes nothing of that
    assert services.lifecycle.reconcile(CAT).failed == 0
    assert not _record(services, second).get("latest") and _record(services, first)["latest"] is True


def test_rapid_publishes_in_one_second_get_finer_stamps_never_a_conflict(services: Services, clock: Clock) -> None:
    # GIVEN a clock that stays within one second (T0 is 11:12:30)
    clock.at = T0.replace(microsecond=250_000)
    # WHEN four different versions of the track are published at that very instant
    written = [publish(services, ("track.geojson", f"v{n}".encode())).written for n in range(4)]
    # THEN each gets its own, ever finer (then the next millisecond's) stamp, none is refused
    assert written == [
        ["track@2025-08-11T1112Z.geojson"],
        ["track@2025-08-11T111230Z.geojson"],
        ["track@2025-08-11T111230.250Z.geojson"],
        ["track@2025-08-11T111230.251Z.geojson"],
    ]
    # AND the history orders them as published, the last one latest, with a display version to match
    tracks = _versions(services, "track")
    assert [d["version"] for d in tracks] == [
        "2025-08-11T11:12:30.251Z",
        "2025-08-11T11:12:30.250Z",
        "2025-08-11T11:12:30Z",
        "2025-08-11T11:12Z",
    ]
    assert tracks[0]["latest"] is True
    assert services.versions.resolve(CAT, COL, ITEM, "track@2025-08-11T111230.250Z.geojson") == tracks[1]["id"]


class RacingBlobs:
    """The catalog's bucket, where a concurrent publish writes each versioned name just before we do."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def put(self, key: str, data: Any, **kwargs: Any) -> Any:
        if "@" in key and kwargs.get("if_generation_match") == 0 and ".251Z." not in key:
            self.real.put(key, b"the other publish", if_generation_match=0)
        return self.real.put(key, data, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_publish_that_loses_a_race_for_its_stamp_takes_the_next_one(
    services: Services, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN another writer that wins the race for every stamp up to the 251st millisecond
    clock.at = T0.replace(microsecond=249_000)
    storage = services.publish.storage
    monkeypatch.setattr(storage, "for_catalog", lambda catalog, real=storage.for_catalog: RacingBlobs(real(catalog)))
    # WHEN a track and its thumbnail are published
    result = publish(services, ("track.geojson", b"mine"), ("thumbnail.png", b"png"))
    # THEN the publish is not refused: both files share the first stamp nobody held
    assert sorted(result.written) == ["thumbnail@2025-08-11T111230.251Z.png", "track@2025-08-11T111230.251Z.geojson"]
    # AND the other writer's objects were never overwritten
    assert services.adapters.blobs.get(f"{KEY}/track@2025-08-11T111230.250Z.geojson") == b"the other publish"
    assert services.adapters.blobs.get(f"{KEY}/track@2025-08-11T111230.251Z.geojson") == b"mine"


def _staged(services: Services, key: str, data: bytes) -> StorageEvent:
    """An uploaded object, indexed as a plain asset (what /uploads and its storage event give)."""
    event = StorageEvent.from_blob(services.adapters.blobs.put(key, data))
    assert services.indexing.apply(event).status == "indexed"
    return event


def _json_publish(services: Services, body: Doc) -> PublishResult:
    files, metadata = services.publish.spool_keys(CAT, body)
    try:
        return services.publish.publish(CAT, COL, ITEM, files, metadata, actor="alice")
    finally:
        for published in files:
            published.data.close()


def _exists(services: Services, key: str) -> bool:
    try:
        services.adapters.blobs.stat(key)
    except NotFound:
        return False
    return True


def _active_keys(services: Services) -> list[str]:
    page = services.adapters.store.search_assets(AssetQuery(catalog_ids=(CAT,), limit=100))
    return sorted(d["storage"]["key"] for d in page.items)


def test_a_json_publish_moves_the_uploaded_object_into_the_version(services: Services, clock: Clock) -> None:
    # GIVEN an uploaded object, indexed as a plain asset of the collection
    source = f"{CAT}/{COL}/incoming.geojson"
    finalized = _staged(services, source, b'{"staged": 1}')
    # WHEN a JSON publish names it
    result = _json_publish(services, {"files": [{"key": source, "name": "track.geojson"}]})
    # THEN the version holds its bytes, and the uploaded object is gone: no second asset of the same bytes
    assert result.written == ["track@2025-08-11T1112Z.geojson"]
    assert services.adapters.blobs.get(f"{KEY}/track@2025-08-11T1112Z.geojson") == b'{"staged": 1}'
    assert not _exists(services, source)
    assert _active_keys(services) == [f"{KEY}/track@2025-08-11T1112Z.geojson"]
    # AND the late (or redelivered) storage event of the upload, and the reconciler, bring nothing back
    services.indexing.apply(finalized)
    assert services.lifecycle.reconcile(CAT).failed == 0
    assert _active_keys(services) == [f"{KEY}/track@2025-08-11T1112Z.geojson"]
    assert _versions(services, "track")[0]["latest"] is True


def test_a_json_publish_of_unchanged_bytes_retires_the_upload_and_never_a_version(
    services: Services, clock: Clock
) -> None:
    version = publish(services, ("track.geojson", b"same")).written[0]
    # GIVEN the same bytes uploaded again
    source = f"{CAT}/{COL}/again.geojson"
    _staged(services, source, b"same")
    # WHEN they are published by key, and then the published version itself is named as a source
    assert _json_publish(services, {"files": [{"key": source, "name": "track.geojson"}]}).unchanged == [version]
    clock.at = T0 + timedelta(hours=1)
    copied = _json_publish(services, {"files": [{"key": f"{KEY}/{version}", "name": "summary.geojson"}]})
    # THEN the upload is gone, the version it repeats stays, and a version named as a source is copied, not moved
    assert not _exists(services, source)
    assert copied.written == ["summary@2025-08-11T1212Z.geojson"]
    assert services.adapters.blobs.get(f"{KEY}/{version}") == b"same"
    assert _active_keys(services) == [f"{KEY}/summary@2025-08-11T1212Z.geojson", f"{KEY}/{version}"]


def test_a_publish_sets_asset_fields_per_file_validated_like_asset_bodies(services: Services, clock: Clock) -> None:
    # GIVEN publish metadata with a title, description, tags, an extension field and metadata for the track
    fields = {
        "roles": ["data", "track"],
        "title": "Bluefin-12 track \u2013 day 1",  # not ASCII: object metadata must carry it safely
        "description": "GPS fixes, 1 Hz",
        "tags": ["gps"],
        "proj:epsg": 4326,
        "metadata": {"vessel": "Bluefin"},
    }
    result = publish(
        services, ("track.geojson", b"fixes"), ("thumbnail.png", b"png"), metadata={"files": {"track.geojson": fields}}
    )
    # THEN the track's version record carries them (the thumbnail none of them), through indexing
    track = _record(services, "track@2025-08-11T1112Z.geojson")
    assert {k: track[k] for k in ("roles", "title", "description", "tags", "proj:epsg")} == {
        k: v for k, v in fields.items() if k != "metadata"
    }
    assert track["metadata"]["vessel"] == "Bluefin" and track["latest"] is True
    assert _record(services, "thumbnail@2025-08-11T1112Z.png").get("title") is None
    assert [d["title"] for d in result.versions if d["id"] == track["id"]] == [fields["title"]]
    # AND the item document shows the title under the version's key
    assert _item(services)["assets"]["track@2025-08-11T1112Z.geojson"]["title"] == fields["title"]


@pytest.mark.parametrize(
    ("fields", "word"),
    [
        ({"href": "https://example.test/x"}, "href"),
        ({"type": "text/plain"}, "type"),
        ({"sys:state": "final"}, "sys:state"),
        ({"title": 5}, "title"),
        ({"tags": "gps"}, "tags"),
        ({"colour": "red"}, "colour"),
        ({"description": "x" * 5000}, "1800 bytes"),
    ],
)
def test_per_file_fields_the_server_owns_or_that_are_invalid_are_refused(
    services: Services, clock: Clock, fields: Doc, word: str
) -> None:
    with pytest.raises(Invalid, match=word):
        publish(services, ("track.geojson", b"fixes"), metadata={"files": {"track.geojson": fields}})
    assert _versions(services, "track") == []  # nothing was written


def test_an_item_patch_names_versions_by_the_items_own_keys(services: Services, clock: Clock) -> None:
    # GIVEN two versions of the track, keyed by file name in the item document
    first = publish(services, ("track.geojson", b"one")).written[0]
    clock.at = T0 + timedelta(days=1)
    second = publish(services, ("track.geojson", b"two")).written[0]
    assert set(_item(services)["assets"]) == {first, second}
    # WHEN an editor PATCHes the older one's title by its item key
    services.stac.patch_item(CAT, COL, ITEM, {"assets": {first: {"title": "first pass"}}}, actor="editor")
    # THEN that version record has it, and stays a version
    assert _record(services, first)["title"] == "first pass" and _record(services, first)["version"]
    # WHEN the editor removes the newest version from the item with null (a soft delete)
    services.stac.patch_item(CAT, COL, ITEM, {"assets": {second: None}}, actor="editor")
    # THEN its record is deleted (restorable) but its file stays in storage: published versions are never removed
    assert _record(services, second)["status"] == "deleted" and not _record(services, second).get("latest")
    assert services.adapters.blobs.get(f"{KEY}/{second}") == b"two"
    # AND the older version is latest again, @latest resolves to it, the item keys and mirror follow
    assert services.versions.resolve(CAT, COL, ITEM, "track@latest") == _record(services, first)["id"]
    assert _record(services, first)["latest"] is True
    assert set(_item(services)["assets"]) == {first}
    assert _item(services)["properties"]["prov:bundle"] == f"prov://{ITEM}@2025-08-11T1112Z"


def test_an_item_patch_cannot_repoint_a_published_version(services: Services, clock: Clock) -> None:
    version = publish(services, ("track.geojson", b"one")).written[0]
    # WHEN an editor tries to point the version at other bytes
    with pytest.raises(Invalid, match="immutable"):
        services.stac.patch_item(
            CAT, COL, ITEM, {"assets": {version: {"href": "https://example.test/other.geojson"}}}, actor="editor"
        )
    # THEN it is refused and the version still points at its own file
    assert _record(services, version)["storage"]["key"] == f"{KEY}/{version}"
    with pytest.raises(NotFound, match=r"track@2025-08-09T0000Z\.geojson"):
        services.stac.patch_item(CAT, COL, ITEM, {"assets": {"track@2025-08-09T0000Z.geojson": None}}, actor="e")
