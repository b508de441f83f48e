"""A job's results: inline in its record when small, else a blob in the catalog's store and a link."""

from __future__ import annotations

from typing import Any

import orjson

from dynastore.config import Settings
from dynastore.errors import NotFound, Unavailable
from dynastore.ports import BlobStore, Doc
from dynastore.services.jobs.records import OGC_EXCEPTION

RESULTS_PREFIX = ".jobs/"  # a hidden folder: zero-touch indexing ignores it


class JobResults:
    def __init__(self, blobs: BlobStore, settings: Settings) -> None:
        self.blobs = blobs
        self.settings = settings

    def pack(self, job_id: str, outputs: dict[str, Any]) -> dict[str, Any]:
        """The record fields for ``outputs``: inline when small, else a blob and a link."""
        body = orjson.dumps(outputs, option=orjson.OPT_NON_STR_KEYS)
        if len(body) <= self.settings.job_inline_results_bytes:
            return {"outputs": outputs, "results_href": None}
        key = f"{RESULTS_PREFIX}{job_id}/results.json"
        self.blobs.put(key, body, content_type="application/json")
        summary = {name: _summary(value) for name, value in outputs.items()}
        return {"outputs": summary, "results_href": self.blobs.href(key)}

    def load(self, doc: Doc) -> dict[str, Any]:
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

    def delete(self, doc: Doc) -> None:
        href = doc.get("results_href")
        key = self.blobs.key_for_href(href) if href else None
        if key:
            self.blobs.delete(key, missing_ok=True)

    def of_job(self, doc: Doc) -> dict[str, Any]:
        """The results of the job ``doc``; ``NotFound`` (with the OGC exception type) unless it succeeded."""
        job_id, status = doc["id"], doc.get("status")
        if status == "successful":
            return self.load(doc)
        if status == "failed":
            raise NotFound(
                f"job {job_id} failed, it has no results: {doc.get('message')}", type=OGC_EXCEPTION + "result-not-ready"
            )
        if status == "dismissed":
            raise NotFound(f"job {job_id} was dismissed, it has no results", type=OGC_EXCEPTION + "no-such-job")
        raise NotFound(
            f"job {job_id} is {status}; its results are not ready yet", type=OGC_EXCEPTION + "result-not-ready"
        )


def _summary(value: Any) -> Any:
    """A short stand-in for a big output kept in the record (lists → their length)."""
    if isinstance(value, list):
        return {"count": len(value), "stored": "results_href"}
    if isinstance(value, dict) and len(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)) > 4096:
        return {"keys": len(value), "stored": "results_href"}
    return value
