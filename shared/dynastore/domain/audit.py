"""Audit events: who did what to which record, when. Every write leaves one."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from dynastore.domain import time as dtime

RecordType = Literal["catalog", "collection", "item", "asset", "job"]


class AuditEvent(BaseModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    catalog_id: str
    record_type: RecordType
    record_id: str
    action: str = Field(description="create, update, delete, restore, hard_delete, index, move, missing, retire, ...")
    actor: str = "system"
    at: str = Field(default_factory=dtime.now_iso)
    details: dict[str, Any] = Field(default_factory=dict)

    def to_doc(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
