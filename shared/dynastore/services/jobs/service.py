"""``TaskService``: the use cases of tasks and jobs, over the parts of this package.

``execute`` validates the request, persists the job (``accepted``) *before* answering, then either
enqueues ``{"job_id"}`` on the backend's ``TaskQueue`` (``async-execute``) or runs it in this
process and waits for its results (``sync-execute``, see ``sync``). ``runner`` runs jobs from queue
deliveries, ``commit`` applies what a task staged, ``dismiss`` stops jobs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dynastore.config import Settings
from dynastore.domain.asset import asset_level
from dynastore.domain.job import Job
from dynastore.domain.search import Page
from dynastore.errors import DynastoreError, Invalid, Unavailable
from dynastore.ports import Doc
from dynastore.services.assets import Scope
from dynastore.services.jobs.commit import JobCommitter
from dynastore.services.jobs.dismiss import Dismissal
from dynastore.services.jobs.dispatch import JobDispatch
from dynastore.services.jobs.execute import ExecuteResult, prepare_inputs, resolve_mode
from dynastore.services.jobs.records import JobRecords, finished, is_final
from dynastore.services.jobs.results import JobResults
from dynastore.services.jobs.runner import JobRunner
from dynastore.services.jobs.sync import SyncWait
from dynastore.tasks.registry import TaskRegistry, default_registry

if TYPE_CHECKING:
    from dynastore.adapters import Adapters
    from dynastore.services.assets import AssetService
    from dynastore.services.catalogs import CatalogService


class TaskWorker:
    """The in-process queue consumer ``dynastore dev`` runs (a ``bootstrap.BackgroundWorker``)."""

    def __init__(self, service: TaskService, threads: int) -> None:
        self.service = service
        self.threads = threads

    def start(self) -> None:
        self.service.resume()
        self.service.queue.start_worker(self.service.handle_message, self.threads)

    def stop(self) -> None:
        self.service.shutdown()
        self.service.queue.stop()


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
        self.queue = adapters.queue
        self.assets = assets
        self.catalogs = catalogs
        self.registry = registry or default_registry()
        self.records = JobRecords(adapters.store)
        self.results_store = JobResults(adapters.blobs, settings)
        self.dispatch = JobDispatch(adapters.store, adapters.queue)
        self.runner = JobRunner(
            settings,
            adapters.store,
            records=self.records,
            results=self.results_store,
            registry=self.registry,
            assets=assets,
            committer=JobCommitter(adapters.store, adapters.blobs, assets, stac),
            dispatch=self.dispatch,
        )
        self.sync = SyncWait(
            settings, runner=self.runner, records=self.records, results=self.results_store, dispatch=self.dispatch
        )
        self.dismissal = Dismissal(self.records, self.results_store, self.runner)

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
    ) -> ExecuteResult:
        chosen, respond_async = resolve_mode(mode, prefer)
        task = self.registry.get(task_id)
        asset = self.assets.get(scope, asset_id)
        if chosen == "dismiss":
            return ExecuteResult("dismissed", self.dismissal.on_asset(asset, task_id, actor=actor))
        if chosen not in task.modes:
            raise Invalid(f"task {task_id!r} does not support {chosen}; it supports {', '.join(sorted(task.modes))}")
        level = asset_level(asset.get("collection_id"), asset.get("item_id"))
        if level not in task.levels:
            raise Invalid(f"task {task_id!r} runs on {', '.join(sorted(task.levels))} assets, not {level}-level ones")
        job = Job(
            task_id=task_id,
            catalog_id=asset["catalog_id"],
            asset_id=asset["id"],
            collection_id=asset.get("collection_id"),
            item_id=asset.get("item_id"),
            inputs=prepare_inputs(task, asset, body, max_record_bytes=self.settings.max_record_bytes),
            actor=actor,
            mode=chosen,  # type: ignore[arg-type]
        )
        created = self.records.create(job)
        if chosen == "async-execute":
            self._enqueue_or_fail(created)
            return ExecuteResult("accepted", self.records.get(job.id), respond_async=respond_async)
        return self.sync.run(job.id)

    def _enqueue_or_fail(self, job: Doc) -> None:
        try:
            self.dispatch.enqueue(job, dedup_key=job["id"])
        except Exception as exc:
            message = f"the job could not be queued: {exc}"
            self.records.update(job["id"], lambda d: finished(d, "failed", message) if not is_final(d) else None)
            if isinstance(exc, DynastoreError):
                raise
            raise Unavailable(message) from exc

    def queue_name(self, catalog_id: str) -> str:
        """The queue that carries the jobs of a catalog (its storage binding's, else the default)."""
        return self.dispatch.queue_name(catalog_id)

    # ------------------------------------------------------------------------------ jobs

    def get_job(self, job_id: str) -> Doc:
        return self.records.get(job_id)

    def list_jobs(self, *, filters: dict[str, str], limit: int = 100, token: str | None = None) -> Page[Doc]:
        return self.records.list(filters=filters, limit=limit, token=token)

    def results(self, job_id: str) -> Doc:
        return self.results_store.of_job(self.records.get(job_id))

    def dismiss(self, job_id: str, *, actor: str) -> Doc:
        """Stop a job (or forget a finished one's results): status ``dismissed``."""
        return self.dismissal.dismiss(job_id, actor=actor)

    # ------------------------------------------------------------------------------ queue side

    def handle_message(self, message: Any) -> None:
        """A queue delivery (the local worker, GCP ``run_task``). Idempotent: finished jobs are left alone."""
        self.runner.handle_message(message)

    def worker(self) -> TaskWorker | None:
        """The in-process worker for backends whose queue has one (local), unless ``worker_threads`` is 0."""
        if self.settings.worker_threads <= 0 or not self.queue.local_worker:
            return None
        return TaskWorker(self, self.settings.worker_threads)

    def resume(self) -> None:
        self.runner.resume()

    def shutdown(self, timeout: float = 10) -> None:
        """Interrupt this process's running jobs; they go back to the queue and resume elsewhere/later."""
        self.runner.interrupt(timeout)
        self.sync.shutdown()
