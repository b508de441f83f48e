"""Audit trail, ingest state, jobs and catalog purge of the SQLite metadata store."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

from dynastore.backends.local.sqlite_base import SqliteDatabase
from dynastore.backends.local.sqlite_common import (
    OrderKey,
    Selection,
    dumps,
    keyset_page,
    loads,
    next_rev,
    require_str,
    table_page,
)
from dynastore.domain.search import Page
from dynastore.errors import Invalid, NotFound
from dynastore.ports import Doc, IngestRecord

JOB_FILTERS = ("status", "task_id", "catalog_id", "asset_id")
CLAIM_GC_EVERY = 500
_INGEST_FIELDS = tuple(f.name for f in dataclasses.fields(IngestRecord))
_STATUS = "json_extract(doc, '$.status')"
_FAILED = f"({_STATUS} = 'failed')"  # the expressions of the index ingest_records_recent
_KEY_ORDER = (OrderKey("key", True), OrderKey("bucket", True))
_PUT_INGEST = (
    "INSERT INTO ingest_records (bucket, key, catalog_id, doc) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (bucket, key) DO UPDATE SET catalog_id = excluded.catalog_id, doc = excluded.doc"
)


class OtherRecords:
    db: SqliteDatabase
    _claims_since_gc: int = 0

    # ------------------------------------------------------------------ audit
    def list_audit(
        self,
        catalog_id: str,
        *,
        record_type: str | None = None,
        record_id: str | None = None,
        limit: int = 100,
        token: str | None = None,
    ) -> Page[Doc]:
        return table_page(
            self.db,
            "audit",
            equal={"catalog_id": catalog_id, "record_type": record_type, "record_id": record_id},
            order=[OrderKey("seq", descending=True)],
            limit=limit,
            token=token,
        )

    # ------------------------------------------------------------------ ingest state
    def claim_event(self, event_id: str, *, ttl_seconds: float) -> bool:
        if not isinstance(event_id, str) or not event_id:
            raise Invalid("an event id must be a non-empty string")
        now = time.time()
        with self.db.write() as conn:
            claimed = conn.execute(
                "INSERT INTO claimed_events (id, expires) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET expires = excluded.expires WHERE claimed_events.expires <= ?",
                (event_id, now + ttl_seconds, now),
            ).rowcount
            self._claims_since_gc += 1
            if self._claims_since_gc >= CLAIM_GC_EVERY:
                self._claims_since_gc = 0
                conn.execute(
                    "DELETE FROM claimed_events WHERE id IN "
                    "(SELECT id FROM claimed_events WHERE expires <= ? LIMIT 5000)",
                    (now,),
                )
        return claimed == 1

    def put_ingest_record(self, record: IngestRecord) -> None:
        with self.db.write() as conn:
            conn.execute(_PUT_INGEST, _ingest_row(record))

    def put_ingest_records(self, records: Sequence[IngestRecord]) -> None:
        """Many ingest records in one transaction, one statement."""
        rows = [_ingest_row(record) for record in records]
        if rows:
            with self.db.write() as conn:
                conn.executemany(_PUT_INGEST, rows)

    def get_ingest_record(self, bucket: str, key: str) -> IngestRecord:
        row = self.db.query_one("SELECT doc FROM ingest_records WHERE bucket = ? AND key = ?", (bucket, key))
        if row is None:
            raise NotFound(f"no ingest record for {key!r} in bucket {bucket!r}")
        return IngestRecord(**loads(row[0]))

    def get_ingest_records(self, bucket: str, keys: Sequence[str]) -> list[IngestRecord]:
        """The records of those keys that have one, in no particular order: one query."""
        if not keys:
            return []
        rows = self.db.query(
            "SELECT doc FROM ingest_records WHERE bucket = ? AND key IN (SELECT value FROM json_each(?))",
            (bucket, dumps(list(keys))),
        )
        return [IngestRecord(**loads(row[0])) for row in rows]

    def list_ingest_records(
        self, catalog_id: str, *, status: str | None = None, limit: int = 100, token: str | None = None
    ) -> Page[IngestRecord]:
        """Failures first, newest first: one range of the ``ingest_records_recent`` index."""
        where = ["catalog_id = ?"]
        params: list[object] = [catalog_id]
        order = [OrderKey(_FAILED, True), OrderKey("json_extract(doc, '$.at')", True), *_KEY_ORDER]
        if status is not None:  # one value of the flag: its range of the index is in time order
            where += [f"{_FAILED} = ?", f"{_STATUS} = ?"]
            params += [int(status == "failed"), status]
            order = order[1:]
        page = keyset_page(
            self.db,
            Selection("ingest_records", "doc", where, params),
            kind="ingest_records",
            order=order,
            limit=limit,
            token=token,
        )
        return Page(items=[IngestRecord(**doc) for doc in page.items], next_token=page.next_token)

    # ------------------------------------------------------------------ jobs
    def get_job(self, job_id: str) -> Doc:
        row = self.db.query_one("SELECT doc FROM jobs WHERE id = ?", (job_id,))
        if row is None:
            raise NotFound(f"job {job_id!r} does not exist")
        return loads(row[0])

    def put_job(self, doc: Doc, *, expect_rev: int | None) -> Doc:
        job_id = require_str(doc, "id", "a job")
        created = doc.get("created") or ""
        with self.db.write() as conn:
            rev = next_rev(conn, "jobs", {"id": job_id}, expect_rev, f"job {job_id!r}")
            stored = {**doc, "rev": rev}
            conn.execute(
                "INSERT INTO jobs (id, catalog_id, task_id, status, asset_id, created, rev, doc) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET catalog_id = excluded.catalog_id, "
                "task_id = excluded.task_id, status = excluded.status, asset_id = excluded.asset_id, "
                "created = excluded.created, rev = excluded.rev, doc = excluded.doc",
                (
                    job_id,
                    doc.get("catalog_id"),
                    doc.get("task_id"),
                    doc.get("status"),
                    doc.get("asset_id"),
                    created,
                    rev,
                    dumps(stored),
                ),
            )
        return stored

    def list_jobs(
        self, *, filters: dict[str, str] | None = None, limit: int = 100, token: str | None = None
    ) -> Page[Doc]:
        unknown = [name for name in filters or {} if name not in JOB_FILTERS]
        if unknown:
            raise Invalid(f"cannot filter jobs by {unknown[0]!r}; use one of {', '.join(JOB_FILTERS)}")
        return table_page(
            self.db,
            "jobs",
            equal=filters or {},
            order=[OrderKey("created", descending=True), OrderKey("id", descending=True)],
            limit=limit,
            token=token,
        )

    # ------------------------------------------------------------------ lifecycle
    def purge_catalog(self, catalog_id: str, *, batch_size: int = 500) -> int:
        """Deletes assets, items, collections, audit events, ingest records and jobs of the catalog,
        then the catalog, at most ``batch_size`` rows per call, each call one transaction."""
        if batch_size < 1:
            raise Invalid("batch_size must be at least 1")
        deleted = 0
        with self.db.write() as conn:
            steps: list[tuple[str, str]] = [
                ("DELETE FROM assets WHERE seq IN (SELECT seq FROM assets WHERE catalog_id = ? LIMIT ?)", ""),
                (
                    "DELETE FROM item_bounds WHERE seq IN "
                    "(SELECT seq FROM items WHERE catalog_id = ? ORDER BY seq LIMIT ?)",
                    "bounds",
                ),
                (
                    "DELETE FROM items WHERE seq IN (SELECT seq FROM items WHERE catalog_id = ? ORDER BY seq LIMIT ?)",
                    "",
                ),
                (
                    "DELETE FROM collections WHERE catalog_id = ?1 AND id IN "
                    "(SELECT id FROM collections WHERE catalog_id = ?1 LIMIT ?2)",
                    "",
                ),
                ("DELETE FROM audit WHERE seq IN (SELECT seq FROM audit WHERE catalog_id = ? LIMIT ?)", ""),
                (
                    "DELETE FROM ingest_records WHERE (bucket, key) IN "
                    "(SELECT bucket, key FROM ingest_records WHERE catalog_id = ? LIMIT ?)",
                    "",
                ),
                ("DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE catalog_id = ? LIMIT ?)", ""),
            ]
            for sql, role in steps:
                room = batch_size - deleted
                if room <= 0:
                    break
                count = conn.execute(sql, (catalog_id, room)).rowcount
                if role != "bounds":  # R*Tree rows go with their items and are not counted
                    deleted += max(count, 0)
            if deleted < batch_size:
                deleted += conn.execute("DELETE FROM catalogs WHERE id = ?", (catalog_id,)).rowcount
        return deleted


def _ingest_row(record: IngestRecord) -> tuple[str, str, str | None, str]:
    # the fields are flat strings: no need for ``dataclasses.asdict``'s deep copy
    doc = {name: getattr(record, name) for name in _INGEST_FIELDS}
    return record.bucket, record.key, record.catalog_id, dumps(doc)
