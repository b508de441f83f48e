"""MetadataStore contract: a catalog's recent ingest records (``list_ingest_records``), failures first."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dynastore.errors import Invalid
from dynastore.ports import IngestRecord, MetadataStore
from support.paging import all_items, pages


def _at(minute: int) -> str:
    return f"2024-05-01T10:{minute:02d}:00.000000Z"


def _record(catalog: str | None, key: str, status: str, minute: int, **fields: str) -> IngestRecord:
    return IngestRecord(bucket="landing", key=key, status=status, at=_at(minute), catalog_id=catalog, **fields)  # type: ignore[arg-type]


@pytest.fixture
def seeded(store: MetadataStore) -> list[IngestRecord]:
    """Catalog demo: 3 failures and 6 others at distinct times; catalog demo2 (a prefix of no key of
    demo, and demo a prefix of its id) and keys of no catalog hold newer failures."""
    demo = [
        _record("demo", "demo/bad-1.tif", "failed", 1, error="sidecar demo/bad-1.tif.meta.json is not JSON"),
        _record("demo", "demo/a.tif", "indexed", 2, asset_id="a-tif"),
        _record("demo", "demo/s2/guide.pdf", "indexed", 3, asset_id="guide-pdf"),
        _record("demo", "demo/bad-2.tif", "failed", 4, error="boom"),
        _record("demo", "demo/gone.tif", "deleted", 5),
        _record("demo", "demo/.part", "skipped", 6),
        _record("demo", "demo/b.tif", "indexed", 7, asset_id="b-tif"),
        _record("demo", "demo/c.tif", "indexed", 8, asset_id="c-tif"),
        _record("demo", "demo/bad-3.tif", "failed", 9, error="boom again"),
    ]
    others = [
        _record("demo2", "demo2/x.tif", "failed", 30, error="not mine"),
        _record("demo2", "demo2/y.tif", "indexed", 31),
        _record(None, "loose.pdf", "failed", 32, error="no catalog"),
    ]
    store.put_ingest_records([*demo[:4], *others])
    for record in demo[4:]:
        store.put_ingest_record(record)
    return demo


def _keys(records: list[IngestRecord]) -> list[str]:
    return [r.key for r in records]


def test_failures_come_first_then_the_newest(store: MetadataStore, seeded: list[IngestRecord]) -> None:
    # WHEN the recent records of catalog demo are listed in one page
    page = store.list_ingest_records("demo", limit=50)
    # THEN the failures come first, newest first, then every other record newest first, as stored
    assert _keys(page.items) == [
        "demo/bad-3.tif",
        "demo/bad-2.tif",
        "demo/bad-1.tif",
        "demo/c.tif",
        "demo/b.tif",
        "demo/.part",
        "demo/gone.tif",
        "demo/s2/guide.pdf",
        "demo/a.tif",
    ]
    assert page.next_token is None
    by_key = {r.key: r for r in seeded}
    assert all(record == by_key[record.key] for record in page.items)  # error detail and all
    assert page.items[2].error == "sidecar demo/bad-1.tif.meta.json is not JSON"


@pytest.mark.parametrize("limit", [1, 2, 3, 4])
def test_pages_follow_on_without_gaps_or_repeats(store: MetadataStore, seeded: list[IngestRecord], limit: int) -> None:
    # WHEN the listing is read page by page (page edges inside and at the end of the failures)
    every = list(pages(lambda token: store.list_ingest_records("demo", limit=limit, token=token)))
    # THEN the pages, in order, are the one-page listing; none is empty or over the limit
    assert _keys([r for p in every for r in p.items]) == _keys(store.list_ingest_records("demo", limit=50).items)
    assert all(0 < len(p.items) <= limit for p in every)


def test_never_another_catalogs_records(store: MetadataStore, seeded: list[IngestRecord]) -> None:
    # WHEN catalogs demo, demo2 and one without records are listed
    demo = all_items(lambda token: store.list_ingest_records("demo", limit=2, token=token))
    demo2 = store.list_ingest_records("demo2", limit=10).items
    # THEN each holds its own records only (a key of no catalog is in none)
    assert {r.catalog_id for r in demo} == {"demo"} and len(demo) == len(seeded)
    assert _keys(demo2) == ["demo2/x.tif", "demo2/y.tif"]
    assert store.list_ingest_records("dem", limit=10).items == []
    assert store.list_ingest_records("nothing-here", limit=10).items == []


def test_a_status_filter_keeps_that_status_newest_first(store: MetadataStore, seeded: list[IngestRecord]) -> None:
    failed = all_items(lambda token: store.list_ingest_records("demo", status="failed", limit=2, token=token))
    indexed = all_items(lambda token: store.list_ingest_records("demo", status="indexed", limit=2, token=token))
    assert _keys(failed) == ["demo/bad-3.tif", "demo/bad-2.tif", "demo/bad-1.tif"]
    assert _keys(indexed) == ["demo/c.tif", "demo/b.tif", "demo/s2/guide.pdf", "demo/a.tif"]
    assert _keys(store.list_ingest_records("demo", status="skipped", limit=5).items) == ["demo/.part"]


def test_a_record_moves_when_it_is_rewritten(store: MetadataStore, seeded: list[IngestRecord]) -> None:
    # GIVEN a failed key indexed later, and an indexed key that fails later
    store.put_ingest_record(replace(seeded[0], status="indexed", at=_at(20), error=None, asset_id="bad-1-tif"))
    store.put_ingest_record(replace(seeded[1], status="failed", at=_at(21), error="now broken"))
    # THEN it is listed once, where its new status and time put it
    keys = _keys(store.list_ingest_records("demo", limit=50).items)
    assert keys[:3] == ["demo/a.tif", "demo/bad-3.tif", "demo/bad-2.tif"]
    assert keys[3] == "demo/bad-1.tif" and keys.count("demo/bad-1.tif") == 1 and keys.count("demo/a.tif") == 1


def test_a_token_of_another_listing_is_refused(store: MetadataStore, seeded: list[IngestRecord]) -> None:
    token = store.list_ingest_records("demo", limit=1).next_token
    assert token
    with pytest.raises(Invalid):
        store.list_ingest_records("demo", limit=1, token="not a token!")
    with pytest.raises(Invalid):
        store.list_ingest_records("demo", status="indexed", limit=1, token=token)
