"""Job records: create, read, compare-and-set updates, listing.

Every change of a running job goes through ``JobRecords.update``: read, change, write with
``expect_rev``; a concurrent writer (the API dismissing, a heartbeat) makes it re-read and decide
again. That is what lets a dismissal from any process stop a job running in another one.
"""

from __future__ import annotations

from collections.abc import Callable

from dynastore.domain import time as dtime
from dynastore.domain.job import FINAL_STATUSES, Job
from dynastore.domain.retry import retry_on_conflict
from dynastore.domain.search import Page
from dynastore.errors import Conflict, Invalid, NotFound
from dynastore.ports import Doc, MetadataStore

JOB_STATUSES = ("accepted", "running", "successful", "failed", "dismissed")
JOB_FILTERS = ("status", "task_id", "catalog_id", "asset_id")
# A job record has few writers (its runner's heartbeats and progress, one dismissal, the claim of
# a take-over), each a short read-decide-write: losing 50 races in a row means something is wrong.
JOB_CAS_ATTEMPTS = 50
OGC_EXCEPTION = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/"
NO_SUCH_JOB = OGC_EXCEPTION + "no-such-job"


class _LostRace(Exception):
    """Another writer changed the job record between this read and this write."""


def is_final(doc: Doc) -> bool:
    return doc.get("status") in FINAL_STATUSES


def finished(doc: Doc, status: str, message: str) -> Doc:
    """``doc`` ended with ``status`` (no runner any more)."""
    return {
        **doc,
        "status": status,
        "message": message,
        "finished": dtime.now_iso(),
        "runner": None,
        "committing": False,
    }


class JobRecords:
    def __init__(self, store: MetadataStore) -> None:
        self.store = store

    def create(self, job: Job) -> Doc:
        return self.store.put_job(job.to_doc(), expect_rev=0)

    def get(self, job_id: str) -> Doc:
        try:
            return self.store.get_job(job_id)
        except NotFound:
            raise NotFound(f"job {job_id!r} does not exist", type=NO_SUCH_JOB) from None

    def update(self, job_id: str, change: Callable[[Doc], Doc | None]) -> Doc | None:
        """Apply ``change`` to the current record until it lands; ``change`` returns None to leave it as is."""

        def step() -> Doc | None:
            current = self.get(job_id)
            changed = change(dict(current))  # a Conflict raised here is a refusal, not a lost race
            if changed is None:
                return None
            changed["updated"] = dtime.now_iso()
            try:
                return self.store.put_job(changed, expect_rev=current.get("rev"))
            except Conflict as exc:
                raise _LostRace(job_id) from exc

        return retry_on_conflict(
            step,
            attempts=JOB_CAS_ATTEMPTS,
            exhausted=f"job {job_id!r} kept changing under {JOB_CAS_ATTEMPTS} attempts to update it",
            retry_on=(_LostRace,),
        )

    def list(self, *, filters: dict[str, str], limit: int, token: str | None) -> Page[Doc]:
        unknown = sorted(set(filters) - set(JOB_FILTERS))
        if unknown:
            raise Invalid(f"cannot filter jobs by {', '.join(unknown)}; filters: {', '.join(JOB_FILTERS)}")
        status = filters.get("status")
        if status is not None and status not in JOB_STATUSES:
            raise Invalid(f"status {status!r} is not one of {', '.join(JOB_STATUSES)}")
        return self.store.list_jobs(filters=filters or None, limit=limit, token=token)
