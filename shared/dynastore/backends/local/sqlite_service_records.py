"""Service records (``MetadataStore.get_record`` ...) of the SQLite metadata store: one table keyed by
(kind, id), created on first use so older data folders need no migration."""

from __future__ import annotations

from dynastore.backends.checks import check_record_kind, require_str
from dynastore.backends.local.sqlite_base import SqliteDatabase
from dynastore.backends.local.sqlite_common import OrderKey, dumps, loads, next_rev, table_page
from dynastore.domain.ids import check_id
from dynastore.domain.search import Page
from dynastore.errors import NotFound
from dynastore.ports import Doc

SERVICE_RECORDS_SCHEMA = """
CREATE TABLE IF NOT EXISTS service_records (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    rev INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
"""


class ServiceRecords:
    db: SqliteDatabase
    _service_records_ready: bool = False

    def _service_records(self) -> None:
        if not self._service_records_ready:
            self.db.executescript(f"BEGIN IMMEDIATE; {SERVICE_RECORDS_SCHEMA} COMMIT;")
            self._service_records_ready = True

    def get_record(self, kind: str, record_id: str) -> Doc:
        self._service_records()
        row = self.db.query_one(
            "SELECT doc FROM service_records WHERE kind = ? AND id = ?", (check_record_kind(kind), record_id)
        )
        if row is None:
            raise NotFound(f"{kind} record {record_id!r} does not exist")
        return loads(row[0])

    def put_record(self, kind: str, doc: Doc, *, expect_rev: int | None) -> Doc:
        self._service_records()
        record_id = check_id(require_str(doc, "id", f"a {check_record_kind(kind)} record"), f"{kind} id")
        with self.db.write() as conn:
            what = f"{kind} {record_id!r}"
            rev = next_rev(conn, "service_records", {"kind": kind, "id": record_id}, expect_rev, what)
            stored = {**doc, "rev": rev}
            conn.execute(
                "INSERT INTO service_records (kind, id, rev, doc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kind, id) DO UPDATE SET rev = excluded.rev, doc = excluded.doc",
                (kind, record_id, rev, dumps(stored)),
            )
        return stored

    def delete_record(self, kind: str, record_id: str) -> None:
        self._service_records()
        with self.db.write() as conn:
            gone = conn.execute(
                "DELETE FROM service_records WHERE kind = ? AND id = ?", (check_record_kind(kind), record_id)
            ).rowcount
        if not gone:
            raise NotFound(f"{kind} record {record_id!r} does not exist")

    def list_records(self, kind: str, *, limit: int = 100, token: str | None = None) -> Page[Doc]:
        self._service_records()
        return table_page(
            self.db,
            "service_records",
            equal={"kind": check_record_kind(kind)},
            order=[OrderKey("id")],
            limit=limit,
            token=token,
        )
