"""Versions contract, continued (seed 004, VERSIONS.md), on every backend: a version whose file goes
missing hands ``latest`` to the newest active one, an item PATCH by the item's own version keys,
JSON publishes move their staged upload, rapid publishes get finer stamps, per-file asset fields."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dynastore.bootstrap import Services
from dynastore.domain.events import StorageEvent
from dynastore.domain.search import AssetQuery
from dynastore.errors import Invalid
from dynastore.ports import Doc

from .test_versions import CAT, COL, ITEM, T0, Clock, _item, _versions, publish
from .test_versions import clock as clock  # noqa: F401  (fixtures)
from .test_versions import services as services  # noqa: F401

KEY = f"{CAT}/{COL}/{ITEM}"


def _record(services: Services, file_name: str) -> Doc:
    """The record of one file of the item, whatever its status."""
    query = AssetQuery(catalog_ids=(CAT,), item_id=ITEM, status=("active", "missing", "deleted"), limit=100)
    return next(d for d in services.adapters.store.search_assets(query).items if d["storage"]["key"] == f"{KEY}/{file_name}")


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
