"""GET /assets/catalogs/{c}/ingest/records: a catalog's recent ingest records, failures first."""

from __future__ import annotations

from typing import Any

from dynastore.ports import IngestRecord, IngestStatusName

from .helpers import Api, assert_problem


def _put(api: Api, catalog: str, name: str, status: IngestStatusName, minute: int, error: str | None = None) -> None:
    record = IngestRecord(
        bucket="landing",
        key=f"{catalog}/{name}",
        status=status,
        at=f"2024-05-01T10:{minute:02d}:00.000000Z",
        catalog_id=catalog,
        error=error,
    )
    api.services.adapters.store.put_ingest_record(record)


def _follow(api: Api, url: str | None) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    while url:
        body = api.reader.get(url).json()
        records.extend(body["records"])
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        assert bool(nxt) == bool(body["next"])
        url = nxt[0] if nxt else None
    return records


def test_failures_come_first_with_their_error_then_the_newest(api: Api, catalog: str) -> None:
    # GIVEN keys of this catalog indexed and failed at different times, and a failure in another catalog
    other = api.new_catalog()
    _put(api, catalog, "old-bad.tif", "failed", 1, "sidecar old-bad.tif.meta.json is not JSON")
    _put(api, catalog, "a.tif", "indexed", 2)
    _put(api, catalog, "b.tif", "indexed", 3)
    _put(api, other, "theirs.tif", "failed", 9, "not yours")
    # WHEN a reader lists the catalog's records two at a time, following the next links
    records = _follow(api, f"/assets/catalogs/{catalog}/ingest/records?limit=2")
    # THEN the failure comes first with its error, then the newest; nothing of the other catalog
    assert [r["key"] for r in records] == [f"{catalog}/old-bad.tif", f"{catalog}/b.tif", f"{catalog}/a.tif"]
    assert records[0]["status"] == "failed" and records[0]["error"] == "sidecar old-bad.tif.meta.json is not JSON"
    failed = api.reader.get(f"/assets/catalogs/{catalog}/ingest/records", params={"status": "failed"}).json()
    assert [r["key"] for r in failed["records"]] == [f"{catalog}/old-bad.tif"] and failed["numberReturned"] == 1


def test_bad_parameters_and_unknown_catalogs_are_problems(api: Api, catalog: str) -> None:
    url = f"/assets/catalogs/{catalog}/ingest/records"
    assert_problem(api.reader.get(url, params={"status": "broken"}), 400, "status", "failed")
    assert_problem(api.reader.get(url, params={"limit": "many"}), 400, "limit")
    assert_problem(api.reader.get(url, params={"limit": "0"}), 400, "limit")
    assert_problem(api.reader.get(url, params={"token": "garbage!"}), 400, "token")
    assert_problem(api.reader.get(url, params={"key": "a.tif"}), 400, "key")
    assert_problem(api.reader.get("/assets/catalogs/no-such-catalog/ingest/records"), 404, "no-such-catalog")
