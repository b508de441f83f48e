"""Task execution on assets as jobs (OGC API - Processes job semantics), on the backend's queue.

Life of a job:

1. ``execute`` validates the request, persists the job (``accepted``) *before* answering, then
   either enqueues ``{"job_id"}`` on the backend's ``TaskQueue`` (``async-execute``: 201 +
   ``Location``) or runs it in this process and answers with the results (``sync-execute``: 200;
   after ``settings.sync_execute_timeout_seconds`` it answers 201 and the job carries on).
2. A runner (``handle_message`` for queue deliveries: the local worker, GCP's ``run_task``) claims
   the job with a compare-and-set (``running``, ``runner``, ``heartbeat``), runs the task on a
   ``TaskContext`` and, while it runs, a monitor thread polls the job record: a dismissal written
   by any process sets the task's cancel flag, and the monitor writes heartbeats and progress.
3. The task stages its writes. Once it returned and the job was not dismissed, the runner marks
   the job ``committing`` (from then on a dismissal is refused), applies the staged writes and
   ``inputs.asset_metadata``, and marks the job ``successful``. A task that raises leaves nothing
   written and the job ``failed`` with its message.

Deliveries are at least once: a finished job is never run again; a job running elsewhere with a
fresh heartbeat is watched (a delayed message re-checks it) rather than run twice; a job whose
runner went silent for ``job_stale_seconds`` (a killed process) is taken over and run again.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import orjson
from pydantic import BaseModel, ValidationError

from dynastore.config import Settings
from dynastore.domain import time as dtime
from dynastore.domain.asset import Asset, asset_level
from dynastore.domain.ids import check_id
from dynastore.domain.job import Job
from dynastore.domain.search import Page
from dynastore.errors import Conflict, DynastoreError, Invalid, NotFound, Unavailable, Unprocessable
from dynastore.ports import AssetWrite, Doc
from dynastore.services.assets import SYSTEM_FIELDS, Scope, client_view, parse_fields
from dynastore.services.catalogs import audit_doc
from dynastore.services.jobs import JobRecords, is_final, status_document
from dynastore.services.patching import merge_patch, validation_detail
from dynastore.tasks.base import JobDismissed, Task
from dynastore.tasks.context import StagedWrites, TaskContext, deep_merge
from dynastore.tasks.registry import TaskRegistry, default_registry

if TYPE_CHECKING:
    from dynastore.bootstrap import Adapters
    from dynastore.services.assets import AssetService
    from dynastore.services.catalogs import CatalogService

log = logging.getLogger(__name__)

Mode = Literal["async-execute", "sync-execute", "dismiss"]
MODES: tuple[str, ...] = ("async-execute", "sync-execute", "dismiss")
DEFAULT_QUEUE = "dynastore-tasks"
OGC_EXCEPTION = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/"
MESSAGE_KIND = "job"
# asset_metadata may not touch what identifies the asset or what the service owns.
PROTECTED_ASSET_FIELDS = SYSTEM_FIELDS | {"id", "href"}


class _Busy(Exception):
    """The job is being run by a live runner; check again later."""


class _Interrupted(Exception):
    """This process is shutting down; the job goes back to the queue."""


@dataclass
class ExecuteResult:
    """What ``execute`` answers: the HTTP status, the body and (when a job exists) the job."""

    status_code: int
    body: Doc
    job: Doc | None = None
    headers: dict[str, str] = field(default_factory=dict)


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


@dataclass
class _CommitPlan:
    asset_patch: Doc
    staged: StagedWrites
    items: list[Doc] = field(default_factory=list)  # validated, in their stored form


class TaskWorker:
    """The in-process queue consumer ``dynastore dev`` runs (a ``bootstrap.BackgroundWorker``)."""

    def __init__(self, service: TaskService, threads: int) -> None:
        self.service = service
        self.threads = threads

    def start(self) -> None:
        self.service.resume()
        self.service.queue.start_worker(self.service.handle_message, self.threads)  # type: ignore[attr-defined]

    def stop(self) -> None:
        self.service.shutdown()
        self.service.queue.stop()  # type: ignore[attr-defined]


class TaskService:
    def __init__(
        self,
        settings: Settings,
        adapters: Adapters,
        *,
        assets: AssetService,
        catalogs: CatalogService,
        stac: Any = None,
        registry: TaskRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.store = adapters.store
        self.blobs = adapters.blobs
        self.queue = adapters.queue
        self.assets = assets
        self.catalogs = catalogs
        self.stac = stac
        self.registry = registry or default_registry()
        self.records = JobRecords(adapters.store, adapters.blobs, settings)
        self.runner_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._active: dict[str, _Active] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._executor: ThreadPoolExecutor | None = None

    # ------------------------------------------------------------------------------ task catalogue

    def list_tasks(self) -> list[Doc]:
        return [task.summary() for task in self.registry.all()]

    def describe_task(self, task_id: str) -> Doc:
        return self.registry.get(task_id).describe()

    # ------------------------------------------------------------------------------ execute

    def execute(
        self,
        scope: Scope,
        asset_id: str,
        task_id: str,
        body: Any,
        *,
        mode: str | None,
        prefer: str | None = None,
        actor: str,
        base_url: str = "",
    ) -> ExecuteResult:
        chosen, preference_applied = resolve_mode(mode, prefer)
        task = self.registry.get(task_id)
        asset = self.assets.get(scope, asset_id)
        if chosen == "dismiss":
            doc = self.dismiss_on_asset(asset, task_id, actor=actor)
            return ExecuteResult(200, status_document(doc, base_url), doc)
        if chosen not in task.modes:
            raise Invalid(f"task {task_id!r} does not support {chosen}; it supports {', '.join(sorted(task.modes))}")
        level = asset_level(asset.get("collection_id"), asset.get("item_id"))
        if level not in task.levels:
            raise Invalid(f"task {task_id!r} runs on {', '.join(sorted(task.levels))} assets, not {level}-level ones")
        inputs = self._prepare_inputs(task, asset, body)
        job = Job(
            task_id=task_id,
            catalog_id=asset["catalog_id"],
            asset_id=asset["id"],
            collection_id=asset.get("collection_id"),
            item_id=asset.get("item_id"),
            inputs=inputs,
            actor=actor,
            mode=chosen,  # type: ignore[arg-type]
        )
        created = self.records.create(job)
        headers = {"Location": f"{base_url}/assets/jobs/{job.id}"}
        if preference_applied:
            headers["Preference-Applied"] = "respond-async"
        if chosen == "async-execute":
            self._enqueue_or_fail(created)
            return ExecuteResult(201, status_document(self.records.get(job.id), base_url), created, headers)
        return self._run_sync(job.id, base_url, headers)

    def _prepare_inputs(self, task: Task, asset: Doc, body: Any) -> Doc:
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise Invalid('the execute body is a JSON object such as {"inputs": {...}}')
        unknown = sorted(set(body) - {"inputs", "outputs", "response", "subscriber"})
        if unknown:
            raise Invalid(f"unknown execute body members: {', '.join(unknown)} (expected inputs, outputs, response)")
        if body.get("response") not in (None, "document", "raw"):
            raise Invalid('response must be "document" or "raw"')
        raw_inputs = body.get("inputs")
        raw_inputs = {} if raw_inputs is None else raw_inputs
        if not isinstance(raw_inputs, dict):
            raise Invalid("inputs is a JSON object of input values")
        prepared = task.prepare_inputs(dict(raw_inputs), asset)
        try:
            validated = task.Inputs.model_validate(prepared)
        except ValidationError as exc:
            raise Invalid(validation_detail(exc, "inputs")) from None
        task.check_request(validated, asset)
        patch = asset_metadata_patch(
            validated.asset_metadata.model_dump(exclude_unset=True) if validated.asset_metadata else None
        )
        if patch:
            merged_asset_doc(asset, patch)  # a patch that would make the asset invalid is a 400 now, not a failed job
        return orjson.loads(orjson.dumps(prepared, default=str))  # type: ignore[no-any-return]

    def _enqueue_or_fail(self, job: Doc) -> None:
        try:
            self._enqueue(job, dedup_key=job["id"])
        except Exception as exc:
            message = f"the job could not be queued: {exc}"
            self.records.update(job["id"], lambda d: _finished(d, "failed", message) if not is_final(d) else None)
            if isinstance(exc, DynastoreError):
                raise
            raise Unavailable(message) from exc

    def _enqueue(self, job: Doc, *, dedup_key: str, delay_seconds: float = 0) -> str:
        message = {"kind": MESSAGE_KIND, "job_id": job["id"], "catalog_id": job["catalog_id"]}
        return self.queue.enqueue(
            self.queue_name(job["catalog_id"]), message, dedup_key=dedup_key, delay_seconds=delay_seconds
        )

    def queue_name(self, catalog_id: str) -> str:
        """The queue that carries the jobs of a catalog (its storage binding's, else the default)."""
        try:
            binding = self.store.get_catalog(catalog_id).get("storage") or {}
        except NotFound:
            binding = {}
        return str(binding.get("queue") or DEFAULT_QUEUE)

    def _run_sync(self, job_id: str, base_url: str, headers: dict[str, str]) -> ExecuteResult:
        future: Future[tuple[Doc | None, BaseException | None]] = self._pool().submit(self.run_job, job_id)
        try:
            doc, error = future.result(timeout=self.settings.sync_execute_timeout_seconds)
        except (FutureTimeout, _Busy):
            # Too slow for a synchronous answer: it carries on here; a delayed message takes it over
            # if this process goes away before it finishes.
            current = self.records.get(job_id)
            self._enqueue(current, dedup_key=f"{job_id}:sync", delay_seconds=self.settings.job_stale_seconds)
            return ExecuteResult(201, status_document(current, base_url), current, headers)
        doc = doc or self.records.get(job_id)
        if doc["status"] == "successful":
            results = self.records.load_results(doc)
            link = f'<{base_url}/assets/jobs/{job_id}>; rel="monitor"'
            return ExecuteResult(200, results, doc, {"Link": link, "X-Job-Id": job_id})
        if doc["status"] == "failed":
            detail = f"job {job_id} failed: {doc.get('message')}"
            if isinstance(error, DynastoreError):
                raise type(error)(detail, job_id=job_id)
            # The task itself broke on this asset: the job record says why; not a server fault.
            raise Unprocessable(detail, job_id=job_id)
        return ExecuteResult(200, status_document(doc, base_url), doc, headers)

    def _pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dynastore-sync-job")
            return self._executor

    # ------------------------------------------------------------------------------ jobs

    def get_job(self, job_id: str) -> Doc:
        return self.records.get(job_id)

    def list_jobs(self, *, filters: dict[str, str], limit: int = 100, token: str | None = None) -> Page[Doc]:
        return self.records.list(filters=filters, limit=limit, token=token)

    def results(self, job_id: str) -> Doc:
        doc = self.records.get(job_id)
        status = doc.get("status")
        if status == "successful":
            return self.records.load_results(doc)
        if status == "failed":
            raise NotFound(
                f"job {job_id} failed, it has no results: {doc.get('message')}", type=OGC_EXCEPTION + "result-not-ready"
            )
        if status == "dismissed":
            raise NotFound(f"job {job_id} was dismissed, it has no results", type=OGC_EXCEPTION + "no-such-job")
        raise NotFound(
            f"job {job_id} is {status}; its results are not ready yet", type=OGC_EXCEPTION + "result-not-ready"
        )

    def dismiss(self, job_id: str, *, actor: str) -> Doc:
        """Stop a job (or forget a finished one's results): status ``dismissed``."""

        def change(doc: Doc) -> Doc | None:
            status = doc.get("status")
            if status == "dismissed":
                return None
            if status == "running" and doc.get("committing"):
                raise Conflict(f"job {job_id} is applying its results and can no longer be dismissed")
            if status in ("successful", "failed"):
                message = f"dismissed by {actor} after it was {status}; its results were removed"
                return {**doc, "status": "dismissed", "message": message, "outputs": None, "results_href": None}
            # The runner (if any) clears ``runner`` once the task has actually stopped.
            return {**_finished(doc, "dismissed", f"dismissed by {actor}"), "runner": doc.get("runner")}

        before = self.records.get(job_id)
        updated = self.records.update(job_id, change)
        if updated is None:
            return self.records.get(job_id)
        if before.get("results_href"):
            self.records.delete_results(before)
        with self._lock:
            active = self._active.get(job_id)
        if active is not None:
            active.cancel.set()  # fast path when it runs in this very process
        return updated

    def dismiss_on_asset(self, asset: Doc, task_id: str, *, actor: str) -> Doc:
        """``mode=dismiss``: stop the pending jobs of this task on this asset (the newest is returned)."""
        found: list[Doc] = []
        for status in ("running", "accepted"):
            page = self.records.list(
                filters={
                    "status": status,
                    "task_id": task_id,
                    "catalog_id": asset["catalog_id"],
                    "asset_id": asset["id"],
                },
                limit=100,
                token=None,
            )
            found.extend(page.items)
        if not found:
            raise NotFound(f"no accepted or running {task_id!r} job on asset {asset['id']!r} to dismiss")
        dismissed = [self.dismiss(doc["id"], actor=actor) for doc in found]
        return max(dismissed, key=lambda d: d.get("created", ""))

    # ------------------------------------------------------------------------------ queue side

    def handle_message(self, message: Any) -> None:
        """A queue delivery (the local worker, GCP ``run_task``). Idempotent: finished jobs are left alone."""
        if isinstance(message, (bytes, str)):
            try:
                message = orjson.loads(message)
            except orjson.JSONDecodeError:
                log.error("dropping a task message that is not JSON: %r", message[:200])
                return
        if not isinstance(message, dict) or not message.get("job_id"):
            log.error("dropping a task message without a job_id: %r", message)
            return
        job_id = str(message["job_id"])
        try:
            self.run_job(job_id)
        except NotFound:
            log.warning("task message for job %s, which does not exist; dropped", job_id)
        except _Busy:
            watch = int(message.get("watch", 0)) + 1
            try:
                job = self.records.get(job_id)
            except NotFound:
                return
            self._enqueue(job, dedup_key=f"{job_id}:watch:{watch}", delay_seconds=self.settings.job_stale_seconds)
            log.info("job %s runs elsewhere; checking again in %ss", job_id, self.settings.job_stale_seconds)

    def worker(self) -> TaskWorker | None:
        """The in-process worker for backends whose queue has one (local), unless ``worker_threads`` is 0."""
        if self.settings.worker_threads <= 0 or not callable(getattr(self.queue, "start_worker", None)):
            return None
        return TaskWorker(self, self.settings.worker_threads)

    def resume(self) -> None:
        self._stopping.clear()

    def shutdown(self, timeout: float = 10) -> None:
        """Interrupt this process's running jobs; they go back to the queue and resume elsewhere/later."""
        self._stopping.set()
        with self._lock:
            active = list(self._active.values())
        for job in active:
            job.cancel.set()
        for job in active:
            job.done.wait(timeout)
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------------------ the runner

    def run_job(self, job_id: str) -> tuple[Doc | None, BaseException | None]:
        """Claim and run one job: (final record, the task's exception), or (None, None) when there was nothing to do."""
        if self._stopping.is_set():
            raise _Busy(job_id)
        with self._lock:
            if job_id in self._active:
                raise _Busy(job_id)
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
                    raise _Busy(job_id)
            if doc.get("attempts", 0) >= self.settings.task_max_attempts:
                gave_up.append(job_id)
                message = f"gave up after {doc.get('attempts')} attempts: the worker running it stopped each time"
                return _finished(doc, "failed", message)
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
            )
            monitor.start()
            outputs = _json_outputs(task, task.run(ctx, inputs))
            ctx.check_cancelled()
            plan = self._plan_commit(job, inputs, ctx)
            ctx.check_cancelled()
            if not self._mark_committing(job_id):
                raise JobDismissed(job_id)
            self._commit(job, ctx, plan)
            packed = self.records.pack_results(job_id, outputs)
            final = self.records.update(
                job_id, lambda d: {**_finished(d, "successful", "done"), **packed, "progress": 100}
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
                job_id, lambda d: _finished(d, "failed", message) if _mine(d, self.runner_id) else None
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
                self._enqueue(requeued, dedup_key=f"{job_id}:resume:{uuid.uuid4().hex[:8]}")
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

    # ------------------------------------------------------------------------------ commit

    def _plan_commit(self, job: Doc, inputs: Any, ctx: TaskContext) -> _CommitPlan:
        """Everything the commit will write, validated, before anything is written."""
        explicit = inputs.asset_metadata.model_dump(exclude_unset=True) if inputs.asset_metadata else None
        patch = deep_merge(ctx.staged.asset_update, asset_metadata_patch(explicit) or {})
        if patch:
            current = self.store.get_asset(job["catalog_id"], job["asset_id"])
            merged_asset_doc(current, patch)
        items: list[Doc] = []
        if ctx.staged.items or ctx.staged.collections:
            if self.stac is None:
                raise Unavailable("this deployment has no STAC service to write items")
            from dynastore.services.stac import STAC_VERSION

            for collection in ctx.staged.collections:
                collection["stac_version"] = STAC_VERSION
            catalog_id = ctx.staged.catalog_id or job["catalog_id"]
            checker = ItemChecker()
            for number, item in enumerate(ctx.staged.items, start=1):
                if number % 200 == 0:
                    ctx.check_cancelled()
                items.append(stored_item(item, catalog_id, STAC_VERSION, checker))
        blobs = ctx.blobs or self.blobs
        for staged in ctx.staged.assets:
            parse_fields({k: v for k, v in staged.fields.items() if k != "id"} | {"href": blobs.href(staged.key)})
        return _CommitPlan(asset_patch=patch, staged=ctx.staged, items=items)

    def _commit(self, job: Doc, ctx: TaskContext, plan: _CommitPlan) -> None:
        actor = f"{job.get('actor', 'system')}/job:{job['id']}"
        staged = plan.staged
        target_catalog = staged.catalog_id or job["catalog_id"]
        for collection in staged.collections:
            with contextlib.suppress(Conflict):  # created meanwhile (or by an earlier attempt of this job)
                self.stac.create_collection(target_catalog, collection, actor=actor)
        for item in plan.items:
            self._put_item(target_catalog, item, job, actor)
        for new in staged.assets:
            scope = Scope(job["catalog_id"], ctx.collection_id, ctx.item_id)
            fields = dict(new.fields)
            asset_id = fields.pop("id")
            blobs = ctx.blobs or self.blobs
            with new.path.open("rb") as data:
                blobs.put(new.key, data, content_type=fields.get("type"), metadata={"asset_id": asset_id})
            self.assets.put(scope, asset_id, {**fields, "href": blobs.href(new.key)}, actor=actor)
        if plan.asset_patch:
            self._merge_into_asset(job, plan.asset_patch)

    def _put_item(self, catalog_id: str, item: Doc, job: Doc, actor: str) -> Doc:
        """Create or replace one item (keeping ``created`` of an existing one), with its audit event."""
        for _ in range(5):
            try:
                current: Doc | None = self.store.get_item(catalog_id, item["collection"], item["id"])
            except NotFound:
                current = None
            doc = dict(item)
            if current is not None:
                created = (current.get("properties") or {}).get("created")
                doc["properties"] = {**doc["properties"], "created": created or doc["properties"]["created"]}
            action = "create" if current is None else "replace"
            audit = audit_doc(catalog_id, "item", item["id"], action, actor, job_id=job["id"], task_id=job["task_id"])
            try:
                return self.store.put_item(
                    catalog_id, doc, expect_rev=0 if current is None else current.get("rev"), audit=audit
                )
            except Conflict:
                continue
        raise Unavailable(f"item {item['id']!r} kept changing; the job's items could not be written")

    def _merge_into_asset(self, job: Doc, patch: Doc) -> Doc:
        for _ in range(20):
            current = self.store.get_asset(job["catalog_id"], job["asset_id"])
            doc = merged_asset_doc(current, patch)
            audit = audit_doc(
                job["catalog_id"],
                "asset",
                job["asset_id"],
                "task",
                job.get("actor", "system"),
                job_id=job["id"],
                task_id=job["task_id"],
                patch=patch,
            )
            try:
                return self.store.write_assets([AssetWrite(doc, current.get("rev"))], audits=[audit])[0]
            except Conflict:
                continue
        raise Unavailable(f"asset {job['asset_id']!r} kept changing; its task results could not be merged")


# ---------------------------------------------------------------------------------- helpers


def resolve_mode(mode: str | None, prefer: str | None) -> tuple[str, bool]:
    """(mode, whether ``Prefer: respond-async`` decided it). An explicit ``mode`` wins."""
    if mode is not None:
        if mode not in MODES:
            raise Invalid(f"mode {mode!r} is not one of {', '.join(MODES)}")
        return mode, False
    preferences = {p.strip().split("=", 1)[0].lower() for p in (prefer or "").split(",") if p.strip()}
    if "respond-async" in preferences:
        return "async-execute", True
    return "async-execute", False


def asset_metadata_patch(asset_metadata: Doc | None) -> Doc | None:
    """``inputs.asset_metadata`` → a merge patch of the asset (``properties`` go into ``metadata``)."""
    if not asset_metadata:
        return None
    protected = sorted(k for k in asset_metadata if k in PROTECTED_ASSET_FIELDS)
    if protected:
        raise Invalid(f"inputs.asset_metadata cannot set {', '.join(protected)}")
    patch = {k: v for k, v in asset_metadata.items() if k != "properties"}
    properties = asset_metadata.get("properties")
    if properties is not None:
        if not isinstance(properties, dict):
            raise Invalid("inputs.asset_metadata.properties is a JSON object")
        patch["metadata"] = deep_merge(properties, patch.get("metadata") or {})
    return patch


def merged_asset_doc(current: Doc, patch: Doc) -> Doc:
    """The stored asset after merging ``patch`` (RFC 7386, deep) into its client fields; ``Invalid`` if bad."""
    merged = merge_patch(client_view(current), patch)
    fields = parse_fields(merged)
    data = fields.model_dump(by_alias=False)
    data["id"] = current["id"]
    data["href"] = current["href"]
    try:
        asset = Asset(
            **data,
            catalog_id=current["catalog_id"],
            collection_id=current.get("collection_id"),
            item_id=current.get("item_id"),
            status=current.get("status", "active"),
            created=current.get("created") or dtime.now_iso(),
            updated=dtime.now_iso(),
            deleted_at=current.get("deleted_at"),
            storage=current.get("storage"),
            rev=current.get("rev", 0),
        )
    except ValidationError as exc:
        raise Invalid(validation_detail(exc, "asset")) from None
    return asset.to_doc()


def stored_item(item: Doc, catalog_id: str, stac_version: str, checker: ItemChecker | None = None) -> Doc:
    """A staged item in the form the STAC service stores, validated against the STAC Item schema."""
    now = dtime.now_iso()
    properties = dict(item.get("properties") or {})
    for name in ("datetime", "start_datetime", "end_datetime"):
        if isinstance(properties.get(name), str):
            properties[name] = dtime.normalize(properties[name], f"item {item.get('id')}: properties.{name}")
    properties.setdefault("created", now)
    properties["updated"] = now
    doc: Doc = {
        **{k: v for k, v in item.items() if k not in ("assets", "catalog_id", "rev")},
        "type": "Feature",
        "stac_version": stac_version,
        "stac_extensions": item.get("stac_extensions") or [],
        "properties": properties,
        "links": [],
    }
    if doc.get("geometry") is not None and doc.get("bbox") is None:
        from shapely.geometry import shape

        doc["bbox"] = list(shape(doc["geometry"]).bounds)
    check_id(str(doc.get("id") or ""), "item id")
    (checker or ItemChecker()).check(doc)
    doc["catalog_id"] = catalog_id
    return doc


class ItemChecker:
    """Validates staged items against the STAC Item schema, once per distinct shape.

    JSON Schema validation costs milliseconds an item. What the schema can reject in an item built
    here is its shape (members, geometry type, extensions) and the values of the properties the
    schema names (common metadata such as ``gsd`` or ``title``): one full validation per distinct
    combination of those covers every item. Date-times are normalized before, and each geometry is
    parsed by shapely.
    """

    def __init__(self) -> None:
        self._seen: set[bytes] = set()

    def check(self, doc: Doc) -> None:
        from shapely.geometry import shape

        geometry = doc.get("geometry")
        if geometry is not None:
            try:
                shape(geometry)
            except Exception as exc:  # shapely raises several types for malformed GeoJSON
                raise Invalid(f"item {doc.get('id')!r}: invalid geometry: {exc}") from None
        properties = doc.get("properties") or {}
        constrained = _schema_property_names()
        signature = orjson.dumps(
            [
                sorted(doc),
                (geometry or {}).get("type"),
                len(doc.get("bbox") or ()),
                doc.get("stac_extensions"),
                {
                    k: (v if k in constrained and k not in _TIME_FIELDS else type(v).__name__)
                    for k, v in properties.items()
                },
            ],
            option=orjson.OPT_SORT_KEYS,
            default=str,
        )
        if signature in self._seen:
            return
        check_stac_item(doc)
        self._seen.add(signature)


_TIME_FIELDS = frozenset({"datetime", "start_datetime", "end_datetime", "created", "updated"})


@functools.cache
def _schema_property_names() -> frozenset[str]:
    """Every member name the STAC Item schemas constrain anywhere."""
    _item_validator()
    from pystac.validation.stac_validator import JsonSchemaSTACValidator

    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    names.update(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for schema in JsonSchemaSTACValidator().schema_cache.values():
        walk(schema)
    return frozenset(names)


def check_stac_item(doc: Doc) -> None:
    """``Invalid`` unless ``doc`` is a valid STAC Item (a compiled validator: ~1 ms an item)."""
    body = {k: v for k, v in doc.items() if k not in ("collection", "catalog_id")}  # the link comes with rendering
    body.update(links=[], assets={})
    if not _item_validator().is_valid(body):
        from dynastore.services.stac import validate_stac

        validate_stac(body, "Item")  # raises Invalid with the reason
        raise Invalid(f"item {doc.get('id')!r} is not a valid STAC Item")


@functools.cache
def _item_validator() -> Any:
    import jsonschema
    import pystac
    from pystac.validation.stac_validator import JsonSchemaSTACValidator

    from dynastore.services.stac import STAC_VERSION

    validator = JsonSchemaSTACValidator()
    uri = validator.schema_uri_map.get_object_schema_uri(pystac.STACObjectType.ITEM, STAC_VERSION)
    schema = validator._get_schema(str(uri))
    return jsonschema.validators.validator_for(schema)(schema, registry=validator.registry)


def runner_is_gone(runner: str) -> bool:
    """Is ``runner`` (``host:pid:token``) a process of this host that no longer exists (a killed dev server)?"""
    parts = runner.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname():
        return False
    try:
        pid = int(parts[1])
    except ValueError:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _finished(doc: Doc, status: str, message: str) -> Doc:
    return {
        **doc,
        "status": status,
        "message": message,
        "finished": dtime.now_iso(),
        "runner": None,
        "committing": False,
    }


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
