"""Ingest status through the indexing service: an object key's record and the asset it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynastore.bootstrap import Adapters
from dynastore.errors import NotFound

from .helpers import audit
from .indexing_support import make_indexing


def test_a_catalog_key_is_found_in_full_or_below_the_catalog_with_its_asset(adapters: Adapters, tmp_path: Path) -> None:
    ix = make_indexing(adapters, tmp_path)
    # GIVEN an object indexed into catalog demo
    outcome = ix.indexing.handle(ix.finalize("demo/s2/scene-1/B04.tif", b"bytes"))
    assert outcome.status == "indexed", outcome
    # WHEN its status is asked with the full key and with the key below the catalog
    full = ix.indexing.catalog_key_status("demo", "demo/s2/scene-1/B04.tif")
    below = ix.indexing.catalog_key_status("demo", "s2/scene-1/B04.tif")
    # THEN both name the same record and the asset it made
    assert full.record == below.record and full.record.status == "indexed"
    assert full.asset is not None and full.asset["id"] == outcome.asset_id and not full.purged
    assert ix.indexing.key_status("demo/s2/scene-1/B04.tif") == full


def test_a_record_whose_asset_is_gone_says_purged(adapters: Adapters, tmp_path: Path) -> None:
    ix = make_indexing(adapters, tmp_path)
    # GIVEN an indexed object whose asset was then removed from the store
    outcome = ix.indexing.handle(ix.finalize("demo/a.txt", b"abc"))
    asset_id = outcome.asset_id or ""
    adapters.store.delete_asset("demo", asset_id, audit=audit("demo", "asset", asset_id, "hard_delete"))
    # WHEN its status is asked THEN the record is there, the asset is reported purged
    status = ix.indexing.key_status("demo/a.txt")
    assert status.record.asset_id == outcome.asset_id
    assert status.asset is None and status.purged


def test_unknown_catalogs_and_unseen_keys_are_not_found(adapters: Adapters, tmp_path: Path) -> None:
    ix = make_indexing(adapters, tmp_path)
    ix.indexing.handle(ix.finalize("demo/a.txt", b"abc"))
    # WHEN the catalog does not exist THEN NotFound names it
    with pytest.raises(NotFound, match="nowhere"):
        ix.indexing.catalog_key_status("nowhere", "a.txt")
    # WHEN no event was seen for the key THEN NotFound says so
    with pytest.raises(NotFound, match="no storage event"):
        ix.indexing.catalog_key_status("demo", "never/seen.tif")
