"""Job records: create, read, compare-and-set updates, listing, results (inline or in the blob store).

Every change of a running job goes through ``JobRecords.update``: read, change, write with
``expect_rev``; a concurrent writer (the API dismissing, a heartbeat) makes it re-read and decide
again. That is what lets a dismissal from any process stop a job running in another one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson

from dynastore.config import Settings
from dynastore.domain import time as dtime
from dynastore.domain.asset import assets_path
from dynastore.domain.job import FINAL_STATUSES, Job
from dynastore.domain.search import Page
from dynastore.errors import Conflict, Invalid, NotFound, Unavailable
from dynastore.ports import BlobStore, Doc, MetadataStore

log = logging.getLogger(__name__)

RESULTS_PREFIX = ".jobs/"  # a hidden folder: zero-touch indexing ignores it
JOB_STATUSES = ("accepted", "running", "successful", "failed", "dismissed")
JOB_FILTERS = ("status", "task_id", "catalog_id", "asset_id")
MAX_CAS_ATTEMPTS = 50
NO_SUCH_JOB = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-job"


def is_final(doc: Doc) -> bool:
    return doc.get("status") in FINAL_STATUSES


class JobRecords:
    def __init__(self, store: MetadataStore, blobs: BlobStore, settings: Settings) -> None:
        self.store = store
        self.blobs = blobs
        self.settings = settings

    def create(self, job: Job) -> Doc:
        return self.store.put_job(job.to_doc(), expect_rev=0)

    def get(self, job_id: str) -> Doc:
        try:
            return self.store.get_job(job_id)
        except NotFound:
            raise NotFound(f"job {job_id!r} does not exist", type=NO_SUCH_JOB) from None

    def update(self, job_id: str, change: Callable[[Doc], Doc | None]) -> Doc | None:
        """Apply ``change`` to the current record until it lands; ``change`` returns None to leave it as is."""
        for _ in range(MAX_CAS_ATTEMPTS):
            current = self.get(job_id)
            changed = change(dict(current))
            if changed is None:
                return None
            changed["updated"] = dtime.now_iso()
            try:
                return self.store.put_job(changed, expect_rev=current.get("rev"))
            except Conflict:
                continue
        raise Unavailable(f"job {job_id!r} kept changing under {MAX_CAS_ATTEMPTS} attempts to update it")

    def list(self, *, filters: dict[str, str], limit: int, token: str | None) -> Page[Doc]:
        unknown = sorted(set(filters) - set(JOB_FILTERS))
        if unknown:
            raise Invalid(f"cannot filter jobs by {', '.join(unknown)}; filters: {', '.join(JOB_FILTERS)}")
        status = filters.get("status")
        if status is not None and status not in JOB_STATUSES:
            raise Invalid(f"status {status!r} is not one of {', '.join(JOB_STATUSES)}")
        return self.store.list_jobs(filters=filters or None, limit=limit, token=token)

    # --- results ----------------------------------------------------------------------------
    def pack_results(self, job_id: str, outputs: dict[str, Any]) -> dict[str, Any]:
        """The record fields for ``outputs``: inline when small, else a blob and a link."""
        body = orjson.dumps(outputs, option=orjson.OPT_NON_STR_KEYS)
        if len(body) <= self.settings.job_inline_results_bytes:
            return {"outputs": outputs, "results_href": None}
        key = f"{RESULTS_PREFIX}{job_id}/results.json"
        self.blobs.put(key, body, content_type="application/json")
        summary = {name: _summary(value) for name, value in outputs.items()}
        return {"outputs": summary, "results_href": self.blobs.href(key)}

    def load_results(self, doc: Doc) -> dict[str, Any]:
        href = doc.get("results_href")
        if href:
            key = self.blobs.key_for_href(href)
            if key is None:
                raise Unavailable(f"the results of job {doc['id']!r} are at {href!r}, which this service cannot read")
            try:
                results: dict[str, Any] = orjson.loads(self.blobs.get(key))
            except NotFound:
                raise NotFound(f"the results of job {doc['id']!r} were removed") from None
            return results
        return dict(doc.get("outputs") or {})

    def delete_results(self, doc: Doc) -> None:
        href = doc.get("results_href")
        key = self.blobs.key_for_href(href) if href else None
        if key:
            self.blobs.delete(key, missing_ok=True)


def _summary(value: Any) -> Any:
    """A short stand-in for a big output kept in the record (lists → their length)."""
    if isinstance(value, list):
        return {"count": len(value), "stored": "results_href"}
    if isinstance(value, dict) and len(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)) > 4096:
        return {"keys": len(value), "stored": "results_href"}
    return value


def status_document(doc: Doc, base_url: str = "") -> Doc:
    """The OGC API - Processes status info of a job, plus our own fields."""
    job_url = f"{base_url}/assets/jobs/{doc['id']}"
    links = [
        {"rel": "self", "href": job_url, "type": "application/json", "title": "job status"},
        {"rel": "monitor", "href": job_url, "type": "application/json"},
        {
            "rel": "http://www.opengis.net/def/rel/ogc/1.0/processes",
            "href": f"{base_url}/assets/tasks/{doc['task_id']}",
            "type": "application/json",
            "title": "task description",
        },
    ]
    if doc.get("status") == "successful":
        links.append(
            {
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/results",
                "href": f"{job_url}/results",
                "type": "application/json",
                "title": "results",
            }
        )
    if doc.get("asset_id"):
        links.append({"rel": "asset", "href": f"{base_url}{asset_path(doc)}", "type": "application/json"})
    rendered = {k: v for k, v in doc.items() if k not in ("runner", "heartbeat", "committing")}
    rendered.update(
        {
            "jobID": doc["id"],
            "processID": doc["task_id"],
            "type": "process",
            "running": doc.get("runner") is not None,
            "links": links,
        }
    )
    return rendered


def asset_path(doc: Doc) -> str:
    """The API path of the asset a job ran on."""
    return f"{assets_path(doc['catalog_id'], doc.get('collection_id'), doc.get('item_id'))}/{doc['asset_id']}"
