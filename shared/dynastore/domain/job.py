"""A Job: one execution of a task on an asset (OGC API - Processes job semantics)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from dynastore.domain import time as dtime

JobStatus = Literal["accepted", "running", "successful", "failed", "dismissed"]
FINAL_STATUSES = frozenset({"successful", "failed", "dismissed"})


class Job(BaseModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    task_id: str
    catalog_id: str
    asset_id: str | None = None
    collection_id: str | None = None
    item_id: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)
    status: JobStatus = "accepted"
    progress: int = Field(default=0, ge=0, le=100)
    message: str | None = None
    outputs: dict[str, Any] | None = None
    actor: str = "system"
    created: str = Field(default_factory=dtime.now_iso)
    updated: str = Field(default_factory=dtime.now_iso)
    started: str | None = None
    finished: str | None = None
    attempts: int = 0
    # Execution bookkeeping (TASKS): how it was requested, who runs it now, and where big results went.
    mode: Literal["async-execute", "sync-execute"] = "async-execute"
    runner: str | None = Field(default=None, description="the worker executing the job now; null when none is")
    heartbeat: str | None = Field(default=None, description="last sign of life of the runner")
    committing: bool = Field(default=False, description="the task finished and its writes are being applied")
    results_href: str | None = Field(default=None, description="blob holding results too large for the record")
    rev: int = 0

    def to_doc(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
