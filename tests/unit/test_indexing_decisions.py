"""The decisions of indexing, pure (``domain.indexing``): GIVEN the facts about a key WHEN an event
is decided THEN the plan (no store, no storage)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dynastore.domain.events import StorageEvent
from dynastore.domain.indexing import decide_delete, decide_present, index_action
from dynastore.domain.storage import BlobInfo

KEY = "demo/s2/scene-1/B04.tif"
MD5 = "0cc175b9c0f1b6a831c399e269772661"


@dataclass(frozen=True)
class Record:
    status: str
    generation: str | None
    asset_id: str | None = "s2-scene-1-b04.tif"


def finalized(generation: str, **fields: Any) -> StorageEvent:
    return StorageEvent(kind="finalized", bucket="landing", key=KEY, generation=generation, size=3, md5=MD5, **fields)


def deleted(generation: str | None, **fields: Any) -> StorageEvent:
    return StorageEvent(kind="deleted", bucket="landing", key=KEY, generation=generation, **fields)


def asset(generation: str, status: str = "active", key: str = KEY, **fields: Any) -> dict[str, Any]:
    return {"id": "s2-scene-1-b04.tif", "status": status, "file:size": 3, "file:checksum": "1220ab",
            "created": "2024-05-01T10:00:00Z",
            "storage": {"bucket": "landing", "key": key, "generation": generation, "md5": MD5}, **fields}


# ------------------------------------------------------------------------------ present objects


def test_a_new_object_is_indexed() -> None:
    decision = decide_present(finalized("1"), None, None, observed=False)
    assert decision.action == "index"
    assert index_action(None, None) == "index"


def test_the_same_generation_again_changes_nothing() -> None:
    # GIVEN the asset already holds generation 5 WHEN its finalize is delivered again
    decision = decide_present(finalized("5"), Record("indexed", "5"), asset("5"), observed=False)
    # THEN no write: idempotent
    assert decision.action == "unchanged"


def test_the_same_bytes_observed_now_refresh_only_their_description() -> None:
    assert decide_present(finalized("5"), Record("indexed", "5"), asset("5"), observed=True).action == "describe"


def test_an_older_generation_never_overwrites_a_newer_one() -> None:
    # GIVEN the key's record and asset hold generation 7
    # WHEN a late finalize of generation 6 arrives THEN it is stale, naming both
    by_record = decide_present(finalized("6"), Record("indexed", "7"), asset("7"), observed=False)
    assert by_record.action == "stale" and by_record.detail == "generation 6 is older than 7"
    # AND the asset alone (no ingest record yet) stops it too
    by_asset = decide_present(finalized("6"), None, asset("7"), observed=False)
    assert by_asset.action == "stale" and "newer generation 7" in (by_asset.detail or "")
    # AND a newer generation is indexed (an update of the key's asset)
    assert decide_present(finalized("8"), Record("indexed", "7"), asset("7"), observed=False).action == "index"
    assert index_action(asset("7"), None) == "update"


def test_an_observed_object_is_the_truth_whatever_its_generation() -> None:
    assert decide_present(finalized("6"), Record("indexed", "7"), asset("7"), observed=True).action == "index"


def test_a_deleted_generation_is_not_resurrected_by_its_late_finalize() -> None:
    decision = decide_present(finalized("7"), Record("deleted", "7"), asset("7", status="missing"), observed=False)
    assert decision.action == "stale" and decision.detail == "generation 7 was deleted"


def test_a_soft_deleted_asset_stays_deleted_for_the_same_bytes() -> None:
    decision = decide_present(finalized("5"), Record("indexed", "5"), asset("5", status="deleted"), observed=True)
    assert decision.action == "soft-deleted"


def test_new_bytes_of_a_recently_missing_asset_are_a_move() -> None:
    # GIVEN no asset at the new key, and a missing asset of the same bytes elsewhere
    source = asset("3", status="missing", key="demo/s2/old/B04.tif")
    # WHEN the new key's bytes are indexed THEN the missing asset moves here
    assert decide_present(finalized("1"), None, None, observed=False).action == "index"
    assert index_action(None, source) == "move"


# ------------------------------------------------------------------------------ deletes


def test_a_delete_of_an_active_asset_marks_it_missing() -> None:
    decision = decide_delete(deleted("5"), Record("indexed", "5"), asset("5"), observed=False)
    assert decision.action == "missing"


def test_a_delete_whose_bytes_were_just_copied_elsewhere_is_a_move() -> None:
    twin = asset("1", key="demo/s2/new/B04.tif", id="s2-new-b04.tif")
    decision = decide_delete(deleted("5"), Record("indexed", "5"), asset("5"), observed=False, twin=twin)
    assert decision.action == "move"


def test_a_delete_while_the_object_exists_is_stale() -> None:
    now = BlobInfo("landing", KEY, 3, "6")
    decision = decide_delete(deleted("5"), Record("indexed", "5"), asset("5"), observed=False, current=now)
    assert decision.action == "stale" and decision.detail == "the object exists (generation 6)"


def test_an_older_delete_never_removes_a_newer_generation() -> None:
    assert decide_delete(deleted("4"), Record("indexed", "5"), asset("5"), observed=False).action == "stale"
    assert decide_delete(deleted("4"), None, asset("5"), observed=False).action == "stale"


def test_a_delete_without_an_active_asset_leaves_a_tombstone_only() -> None:
    assert decide_delete(deleted("5"), None, None, observed=False).action == "tombstone"
    again = decide_delete(deleted("5"), Record("deleted", "5"), asset("5", status="missing"), observed=False)
    assert again.action == "tombstone"  # the same delete twice: nothing more to do


def test_an_overwrites_delete_and_a_delete_without_catalog_are_skipped() -> None:
    assert decide_delete(deleted("5", replaced=True), None, asset("5"), observed=False).action == "skip"
    assert decide_delete(deleted("5"), None, asset("5"), observed=False, catalog_active=False).action == "skip"
