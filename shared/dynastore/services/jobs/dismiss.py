"""Dismissing jobs (``DELETE /assets/jobs/{id}``, ``mode=dismiss``): status ``dismissed`` at once.

The record changes first; the runner (in any process) sees it on its next poll and stops the task.
A job already applying its results (``committing``) can no longer be dismissed.
"""

from __future__ import annotations

from dynastore.errors import Conflict, NotFound
from dynastore.ports import Doc
from dynastore.services.jobs.records import JobRecords, finished
from dynastore.services.jobs.results import JobResults
from dynastore.services.jobs.runner import JobRunner


class Dismissal:
    def __init__(self, records: JobRecords, results: JobResults, runner: JobRunner) -> None:
        self.records = records
        self.results = results
        self.runner = runner

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
            return {**finished(doc, "dismissed", f"dismissed by {actor}"), "runner": doc.get("runner")}

        before = self.records.get(job_id)
        updated = self.records.update(job_id, change)
        if updated is None:
            return self.records.get(job_id)
        if before.get("results_href"):
            self.results.delete(before)
        self.runner.cancel_local(job_id)  # fast path when it runs in this very process
        return updated

    def on_asset(self, asset: Doc, task_id: str, *, actor: str) -> Doc:
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
