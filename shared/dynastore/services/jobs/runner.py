"""Running a job: claim it, run its task, watch for a dismissal, commit its staged writes.

A runner (``handle_message`` for queue deliveries: the local worker, GCP's ``run_task``; or a
sync-execute) claims the job with a compare-and-set (``running``, ``runner``, ``heartbeat``), runs
the task on a ``TaskContext`` and, while it runs, a monitor thread polls the job record: a
dismissal written by any process sets the task's cancel flag, and the monitor writes heartbeats
and progress. Once the task returned and the job was not dismissed, the runner marks the job
``committing`` (from then on a dismissal is refused), applies the staged writes and marks the job
``successful``. A task that raises leaves nothing written and the job ``failed`` with its message.

Deliveries are at least once: a finished job is never run again; a job running elsewhere with a
fresh heartbeat is watched (a delayed message re-checks it) rather than run twice; a job whose
runner went silent for ``job_stale_seconds`` (a killed process) is taken over and run again.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import BaseModel, ValidationError

from dynastore.config import Settings
from dynastore.domain import time as dtime
from dynastore.errors import DynastoreError, Invalid, NotFound, Unavailable
from dynastore.ports import Doc, MetadataStore
from dynastore.process_ids import local_pid, new_process_id, pid_is_alive
from dynastore.services.jobs.commit import JobCommitter
from dynastore.services.jobs.dispatch import JobDispatch, parse_message
from dynastore.services.jobs.records import JobRecords, finished, is_final
from dynastore.services.jobs.results import JobResults
from dynastore.tasks.base import JobDismissed, Task
from dynastore.tasks.context import TaskContext
from dynastore.tasks.registry import TaskRegistry

if TYPE_CHECKING:
    from dynastore.services.assets import AssetService

log = logging.getLogger(__name__)


class Busy(Exception):
    """The job is being run by a live runner; check again later."""


@dataclass
class _Active:
    """A job this process is running."""

    job_id: str
    cancel: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    progress: int = 0
    message: str | None = None
    progress_dirty: bool = False

    def set_progress(self, percent: int, message: str | None) -> None:
        if percent != self.progress or message != self.message:
            self.progress, self.message, self.progress_dirty = percent, message, True


@dataclass(eq=False, repr=False)
class JobRunner:
    settings: Settings
    store: MetadataStore
    _: KW_ONLY
    records: JobRecords
    results: JobResults
    registry: TaskRegistry
    assets: AssetService
    committer: JobCommitter
    dispatch: JobDispatch
    runner_id: str = field(init=False, default_factory=new_process_id)
    _active: dict[str, _Active] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _stopping: threading.Event = field(init=False, default_factory=threading.Event)

    # ------------------------------------------------------------------------------ queue side

    def handle_message(self, message: Any) -> None:
        """A queue delivery. Idempotent: finished jobs are left alone."""
        parsed = parse_message(message)
        if parsed is None:
            return
        job_id = str(parsed["job_id"])
        try:
            self.run_job(job_id)
        except NotFound:
            log.warning("task message for job %s, which does not exist; dropped", job_id)
        except Busy:
            watch = int(parsed.get("watch", 0)) + 1
            try:
                job = self.records.get(job_id)
            except NotFound:
                return
            self.dispatch.enqueue(
                job, dedup_key=f"{job_id}:watch:{watch}", delay_seconds=self.settings.job_stale_seconds
            )
            log.info("job %s runs elsewhere; checking again in %ss", job_id, self.settings.job_stale_seconds)

    def cancel_local(self, job_id: str) -> None:
        """Set the cancel flag of ``job_id`` when it runs in this very process (the fast path of a dismissal)."""
        with self._lock:
            active = self._active.get(job_id)
        if active is not None:
            active.cancel.set()

    def resume(self) -> None:
        self._stopping.clear()

    def interrupt(self, timeout: float) -> None:
        """Stop this process's running jobs; they go back to the queue and resume elsewhere/later."""
        self._stopping.set()
        with self._lock:
            active = list(self._active.values())
        for job in active:
            job.cancel.set()
        for job in active:
            job.done.wait(timeout)

    # ------------------------------------------------------------------------------ the runner

    def run_job(self, job_id: str) -> tuple[Doc | None, BaseException | None]:
        """Claim and run one job: (final record, the task's exception), or (None, None) when there was nothing to do."""
        if self._stopping.is_set():
            raise Busy(job_id)
        with self._lock:
            if job_id in self._active:
                raise Busy(job_id)
            active = _Active(job_id)
            self._active[job_id] = active
        try:
            job = self._claim(job_id)
            if job is None:
                return None, None
            return self._run_claimed(job, active)
        finally:
            active.done.set()
            with self._lock:
                self._active.pop(job_id, None)

    def _claim(self, job_id: str) -> Doc | None:
        now = dtime.utcnow()
        gave_up: list[str] = []

        def change(doc: Doc) -> Doc | None:
            if is_final(doc):
                return None
            if doc.get("status") == "running" and doc.get("runner"):
                beat = doc.get("heartbeat") or doc.get("updated")
                fresh = beat and (now - dtime.parse_datetime(beat)).total_seconds() < self.settings.job_stale_seconds
                if fresh and doc["runner"] != self.runner_id and not runner_is_gone(doc["runner"]):
                    raise Busy(job_id)
            if doc.get("attempts", 0) >= self.settings.task_max_attempts:
                gave_up.append(job_id)
                message = f"gave up after {doc.get('attempts')} attempts: the worker running it stopped each time"
                return finished(doc, "failed", message)
            stamp = dtime.now_iso()
            return {
                **doc,
                "status": "running",
                "runner": self.runner_id,
                "heartbeat": stamp,
                "started": doc.get("started") or stamp,
                "attempts": doc.get("attempts", 0) + 1,
                "committing": False,
                "message": "running",
            }

        claimed = self.records.update(job_id, change)
        if claimed is None or gave_up:
            return None
        return claimed

    def _run_claimed(self, job: Doc, active: _Active) -> tuple[Doc | None, BaseException | None]:
        job_id = job["id"]
        ctx: TaskContext | None = None
        monitor = threading.Thread(target=self._monitor, args=(active,), name=f"job-monitor-{job_id[:8]}", daemon=True)
        try:
            task = self.registry.get(job["task_id"])
            try:
                asset = self.store.get_asset(job["catalog_id"], job["asset_id"])
            except NotFound:
                raise Invalid(f"asset {job['asset_id']!r} no longer exists") from None
            inputs = task.Inputs.model_validate(job.get("inputs") or {})
            ctx = TaskContext(
                asset=asset,
                job_id=job_id,
                blobs=self.assets.blobs_of(asset),  # the bucket of the asset's catalog: its bytes, the outputs
                store=self.store,
                cancel_event=active.cancel,
                on_progress=active.set_progress,
                settings=self.settings,
                stac=self.committer.stac,
            )
            monitor.start()
            outputs = _json_outputs(task, task.run(ctx, inputs))
            ctx.check_cancelled()
            plan = self.committer.plan(job, inputs, ctx)
            ctx.check_cancelled()
            if not self._mark_committing(job_id):
                raise JobDismissed(job_id)
            self.committer.apply(job, ctx, plan)
            packed = self.results.pack(job_id, outputs)
            final = self.records.update(
                job_id, lambda d: {**finished(d, "successful", "done"), **packed, "progress": 100}
            )
            return final, None
        except JobDismissed:
            return self._after_cancel(job_id), None
        except Exception as exc:
            if self._stopping.is_set() and isinstance(exc, Unavailable):
                return self._after_cancel(job_id), None
            log.info(
                "job %s (%s) failed: %s", job_id, job.get("task_id"), exc, exc_info=not isinstance(exc, DynastoreError)
            )
            message = exc.detail if isinstance(exc, DynastoreError) else f"{type(exc).__name__}: {exc}"
            failed = self.records.update(
                job_id, lambda d: finished(d, "failed", message) if _mine(d, self.runner_id) else None
            )
            return failed or self.records.get(job_id), exc
        finally:
            active.done.set()
            if monitor.is_alive():
                monitor.join(timeout=5)
            if ctx is not None:
                ctx.cleanup()

    def _after_cancel(self, job_id: str) -> Doc:
        """The task stopped on its cancel flag: dismissed by a user, or this process is shutting down."""
        current = self.records.get(job_id)
        if current.get("status") == "running" and current.get("runner") == self.runner_id and self._stopping.is_set():
            requeued = self.records.update(
                job_id,
                lambda d: (
                    {
                        **d,
                        "status": "accepted",
                        "runner": None,
                        "committing": False,
                        "attempts": max(0, d.get("attempts", 1) - 1),
                        "message": "interrupted by a shutdown; it resumes when a worker picks it up",
                    }
                    if _mine(d, self.runner_id)
                    else None
                ),
            )
            if requeued is not None:
                self.dispatch.enqueue(requeued, dedup_key=f"{job_id}:resume:{uuid.uuid4().hex[:8]}")
                return requeued
        released = self.records.update(
            job_id, lambda d: {**d, "runner": None} if d.get("runner") == self.runner_id else None
        )
        return released or self.records.get(job_id)

    def _monitor(self, active: _Active) -> None:
        """Poll the job record for a dismissal; write heartbeats and progress."""
        last_beat = dtime.utcnow()
        while not active.done.wait(self.settings.job_cancel_poll_seconds):
            try:
                doc = self.store.get_job(active.job_id)
                if not _mine(doc, self.runner_id):
                    active.cancel.set()  # dismissed (or taken over): stop at the next check
                    continue
                since = (dtime.utcnow() - last_beat).total_seconds()
                due = since >= self.settings.job_heartbeat_seconds
                # progress is written with the heartbeat, and at most once a second in between
                if not (due or (active.progress_dirty and since >= min(1.0, self.settings.job_heartbeat_seconds))):
                    continue
                active.progress_dirty = False
                progress, message = active.progress, active.message

                def beat(d: Doc, progress: int = progress, message: str | None = message) -> Doc | None:
                    if not _mine(d, self.runner_id):
                        active.cancel.set()
                        return None
                    return {
                        **d,
                        "heartbeat": dtime.now_iso(),
                        "progress": progress,
                        "message": message or d.get("message"),
                    }

                self.records.update(active.job_id, beat)
                last_beat = dtime.utcnow()
            except Exception:  # a flaky store must not kill the monitor; the next poll retries
                log.warning("job %s: monitor could not reach the job record", active.job_id, exc_info=True)

    def _mark_committing(self, job_id: str) -> bool:
        marked = self.records.update(
            job_id,
            lambda d: {**d, "committing": True, "message": "applying results"} if _mine(d, self.runner_id) else None,
        )
        return marked is not None


def runner_is_gone(runner: str) -> bool:
    """Is ``runner`` (``host:pid:token``) a process of this host that no longer exists (a killed dev server)?"""
    pid = local_pid(runner)
    return pid is not None and pid != os.getpid() and not pid_is_alive(pid)


def _mine(doc: Doc, runner_id: str) -> bool:
    return doc.get("status") == "running" and doc.get("runner") == runner_id


def _json_outputs(task: Task, out: Any) -> Doc:
    if isinstance(out, BaseModel):
        out = out.model_dump(mode="json", by_alias=True)
    if not isinstance(out, dict):
        raise TypeError(f"task {task.id!r} returned {type(out).__name__}, not a dict of outputs")
    try:
        task.Outputs.model_validate(out)
    except ValidationError as exc:
        raise TypeError(f"task {task.id!r} returned outputs that break its schema: {exc}") from None
    result: Doc = orjson.loads(
        orjson.dumps(out, default=str, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
    )
    return result
