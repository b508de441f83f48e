"""Audit trail, storage-event claims, ingest records, jobs and catalog purge on Firestore (a mixin
of ``FirestoreMetadataStore``)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from dynastore.backends.claims import Held, claim_once, new_token
from dynastore.backends.gcp._errors import sdk_errors
from dynastore.backends.gcp.firestore_base import FirestoreBase
from dynastore.backends.gcp.firestore_common import (
    DELETE_BATCH,
    JOB_FILTERS,
    check_limit,
    chunks,
    job_fields,
    next_seq,
    require_str,
)
from dynastore.backends.gcp.firestore_scan import Filter, Order, Scan
from dynastore.domain.revisions import check_rev
from dynastore.domain.search import Page
from dynastore.errors import Invalid, NotFound
from dynastore.ports import INGEST_STATUSES, Doc, IngestRecord


class OtherRecords(FirestoreBase):
    # ------------------------------------------------------------------ audit trail
    def list_audit(
        self,
        catalog_id: str,
        *,
        record_type: str | None = None,
        record_id: str | None = None,
        limit: int = 100,
        token: str | None = None,
    ) -> Page[Doc]:
        filters: list[Filter] = [("catalog_id", "==", catalog_id)]
        if record_type is not None:
            filters.append(("record_type", "==", record_type))
        if record_id is not None:
            filters.append(("record_id", "==", record_id))
        return self._page(self._scan("audit", [filters], [("seq", "DESCENDING")]), limit, token)

    # ------------------------------------------------------------------ ingest state
    def claim_event(self, event_id: str, *, ttl_seconds: float) -> bool:
        """The rule (and why each attempt carries its own token): ``backends.claims``."""
        if not isinstance(event_id, str) or not event_id:
            raise Invalid("an event id must be a non-empty string")
        ref = self.col("events").document(hashlib.sha256(event_id.encode()).hexdigest())

        from google.api_core import exceptions as gexc

        now = datetime.now(UTC)
        token = new_token()
        claim = {
            "event_id": event_id,
            "claimed_at": now,
            "expires_at": now + timedelta(seconds=ttl_seconds),
            "claimant": token,
        }

        def create() -> bool:
            with sdk_errors("event claim"):
                try:
                    ref.create(claim)
                except gexc.AlreadyExists:
                    return False
            return True

        def read() -> Held | None:
            snapshot = self._snapshots([ref], "event claim")[ref.path]
            if snapshot is None or not snapshot.exists:
                return None
            data = snapshot.to_dict() or {}
            expires = data.get("expires_at")
            return Held(data.get("claimant"), expires.timestamp() if expires else 0.0, snapshot.update_time)

        def take_over(held: Held) -> bool:
            with sdk_errors("event claim"):
                try:
                    ref.update(claim, option=self.db.write_option(last_update_time=held.version))
                except (gexc.FailedPrecondition, gexc.NotFound):
                    return False
            return True

        return claim_once(token, now.timestamp(), create=create, read=read, take_over=take_over)

    def _ingest_ref(self, bucket: str, key: str) -> Any:
        return self.col("ingest").document(hashlib.sha256(f"{bucket}/{key}".encode()).hexdigest())

    def put_ingest_record(self, record: IngestRecord) -> None:
        data = dataclasses.asdict(record)
        with sdk_errors("ingest record"):
            self._ingest_ref(record.bucket, record.key).set({**data, "catalog_id": record.catalog_id or ""})

    def get_ingest_record(self, bucket: str, key: str) -> IngestRecord:
        data = self._get(self._ingest_ref(bucket, key), "ingest record")
        if data is None:
            raise NotFound(f"no ingest record for {key!r} in bucket {bucket!r}")
        return _ingest_record(data)

    def get_ingest_records(self, bucket: str, keys: Sequence[str]) -> list[IngestRecord]:
        """The records of those keys that have one, in no particular order: batched reads."""
        refs = [self._ingest_ref(bucket, key) for key in dict.fromkeys(keys)]
        return [_ingest_record(data) for data in self._get_all(refs, "ingest records").values()]

    def list_ingest_records(
        self, catalog_id: str, *, status: str | None = None, limit: int = 100, token: str | None = None
    ) -> Page[IngestRecord]:
        """Failures first, newest first: the failed records, then the others, each one query on the
        index ``(catalog_id, status, at DESC)``; the token names the phase and the position in it."""
        check_limit(limit)
        phases = [[status]] if status is not None else [["failed"], [s for s in INGEST_STATUSES if s != "failed"]]
        listing = status or "all"
        phase, inner = _ingest_position(token, listing, len(phases))
        found: list[IngestRecord] = []
        while phase < len(phases) and len(found) < limit:
            page = self._ingest_scan(catalog_id, phases[phase]).page(limit - len(found), inner, self.scan_budget)
            found.extend(_ingest_record(data) for data in page.items)
            if page.next_token is not None:
                return Page(found, f"{listing}.{phase}.{page.next_token}")
            phase, inner = phase + 1, None
        more = any(self._ingest_scan(catalog_id, p).page(1, None, 1).items for p in phases[phase:])
        return Page(found, f"{listing}.{phase}." if more else None)

    def _ingest_scan(self, catalog_id: str, statuses: list[str]) -> Scan:
        status: Filter = ("status", "==", statuses[0]) if len(statuses) == 1 else ("status", "in", statuses)
        return self._scan("ingest", [[("catalog_id", "==", catalog_id), status]], [("at", "DESCENDING")])

    # ------------------------------------------------------------------ jobs
    def get_job(self, job_id: str) -> Doc:
        what = f"job {job_id!r}"
        return self._get_existing(self.col("jobs").document(job_id), what, f"{what} does not exist")

    def put_job(self, doc: Doc, *, expect_rev: int | None) -> Doc:
        job_id = require_str(doc, "id", "a job")
        ref = self.col("jobs").document(job_id)
        what = f"job {job_id!r}"

        def plan(state: dict[str, dict[str, Any] | None]) -> tuple[Doc, dict[str, Any], list[Any]]:
            current = state[ref.path]
            rev = check_rev(current.get("rev") if current else None, expect_rev, what)
            stored = {**doc, "rev": rev}
            seq = int(current["seq"]) if current and current.get("seq") else next_seq()
            return stored, {ref.path: job_fields(stored, seq)}, []

        return cast(Doc, self._compare_and_set(what, [ref], plan))

    def list_jobs(
        self, *, filters: dict[str, str] | None = None, limit: int = 100, token: str | None = None
    ) -> Page[Doc]:
        native: list[Filter] = []
        for name, value in (filters or {}).items():
            if name not in JOB_FILTERS:
                raise Invalid(f"cannot filter jobs by {name!r}; use one of {', '.join(JOB_FILTERS)}")
            if value is not None:
                native.append((name, "==", value))
        order: list[Order] = [("created", "DESCENDING"), ("id", "DESCENDING")]
        return self._page(self._scan("jobs", [native], order), limit, token)

    # ------------------------------------------------------------------ lifecycle
    def purge_catalog(self, catalog_id: str, *, batch_size: int = 500) -> int:
        """Deletes assets, items, collections, audit events, ingest records and jobs of the catalog,
        then the catalog, at most ``batch_size`` documents per call."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        if batch_size < 1:
            raise Invalid("batch_size must be at least 1")
        deleted = 0
        for name in ("assets", "items", "collections", "audit", "ingest", "jobs"):
            room = batch_size - deleted
            if room <= 0:
                break
            query = self.col(name).where(filter=FieldFilter("catalog_id", "==", catalog_id)).select([]).limit(room)
            with sdk_errors("purge"):
                refs = [s.reference for s in query.stream()]
            self.stats.add(documents=len(refs), queries=1)
            for chunk in chunks(refs, DELETE_BATCH):
                batch = self.db.batch()
                for ref in chunk:
                    batch.delete(ref)
                with sdk_errors("purge"):
                    batch.commit()
            deleted += len(refs)
        if deleted < batch_size:
            ref = self.col("catalogs").document(catalog_id)
            if self._get(ref, "purge") is not None:
                with sdk_errors("purge"):
                    ref.delete()
                deleted += 1
        return deleted


def _ingest_record(data: dict[str, Any]) -> IngestRecord:
    fields = {f.name for f in dataclasses.fields(IngestRecord)}
    values = {k: v for k, v in data.items() if k in fields}
    values["catalog_id"] = values.get("catalog_id") or None
    return IngestRecord(**values)


def _ingest_position(token: str | None, listing: str, phases: int) -> tuple[int, str | None]:
    """The phase (0: failures, 1: the rest) and the scan token in it of a ``list_ingest_records``
    token (``{status or all}.{phase}.{scan token}``)."""
    if not token:
        return 0, None
    parts = token.split(".", 2)
    if len(parts) != 3 or not parts[1].isdigit() or int(parts[1]) > phases:
        raise Invalid("token is not a page token this listing returned; start again without it")
    if parts[0] != listing:
        raise Invalid("token belongs to a listing with another status filter; start again without it")
    return int(parts[1]), parts[2] or None
