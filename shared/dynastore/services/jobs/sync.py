"""sync-execute: run the job in this process and wait for it, up to ``sync_execute_timeout_seconds``.

Past the timeout the job carries on here and the caller gets it as ``accepted``; a delayed queue
message takes it over should this process go away before it finishes.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import KW_ONLY, dataclass, field

from dynastore.config import Settings
from dynastore.errors import DynastoreError, Unprocessable
from dynastore.ports import Doc
from dynastore.services.jobs.dispatch import JobDispatch
from dynastore.services.jobs.execute import ExecuteResult
from dynastore.services.jobs.records import JobRecords
from dynastore.services.jobs.results import JobResults
from dynastore.services.jobs.runner import Busy, JobRunner

SYNC_THREADS = 8


@dataclass(eq=False, repr=False)
class SyncWait:
    settings: Settings
    _: KW_ONLY
    runner: JobRunner
    records: JobRecords
    results: JobResults
    dispatch: JobDispatch
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _executor: ThreadPoolExecutor | None = field(init=False, default=None)

    def run(self, job_id: str) -> ExecuteResult:
        """Run ``job_id`` and wait for it. A failed job raises (``Unprocessable``, or the task's own error)."""
        future: Future[tuple[Doc | None, BaseException | None]] = self._pool().submit(self.runner.run_job, job_id)
        try:
            doc, error = future.result(timeout=self.settings.sync_execute_timeout_seconds)
        except (FutureTimeout, Busy):
            # Too slow for a synchronous answer: it carries on here; a delayed message takes it over
            # if this process goes away before it finishes.
            current = self.records.get(job_id)
            self.dispatch.enqueue(current, dedup_key=f"{job_id}:sync", delay_seconds=self.settings.job_stale_seconds)
            return ExecuteResult("accepted", current)
        doc = doc or self.records.get(job_id)
        if doc["status"] == "successful":
            return ExecuteResult("completed", doc, self.results.load(doc))
        if doc["status"] == "failed":
            detail = f"job {job_id} failed: {doc.get('message')}"
            if isinstance(error, DynastoreError):
                raise type(error)(detail, job_id=job_id)
            # The task itself broke on this asset: the job record says why; not a server fault.
            raise Unprocessable(detail, job_id=job_id)
        return ExecuteResult("ended", doc)

    def shutdown(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=SYNC_THREADS, thread_name_prefix="dynastore-sync-job")
            return self._executor
