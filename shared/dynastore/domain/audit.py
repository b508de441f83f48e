"""Audit events: who did what to which record, when. Every write leaves one."""

from __future__ import annotations

import os
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


def audit_doc(
    catalog_id: str,
    record_type: RecordType,
    record_id: str,
    action: str,
    actor: str = "system",
    *,
    at: str | None = None,
    **details: Any,
) -> dict[str, Any]:
    """The one builder of an audit event document: ``AuditEvent.to_doc()``'s shape and field order,
    built without a validation pass (every write leaves one, bulk writes thousands).

    ``at`` defaults to now; a detail whose value is None is left out (absent and null say the same)."""
    return {
        "id": os.urandom(16).hex(),
        "catalog_id": catalog_id,
        "record_type": record_type,
        "record_id": record_id,
        "action": action,
        "actor": actor,
        "at": at or dtime.now_iso(),
        "details": {k: v for k, v in details.items() if v is not None},
    }
