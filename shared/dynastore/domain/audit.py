"""Audit events: who did what to which record, when. Every write leaves one."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
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
    return audit_docs(catalog_id, record_type, actor, at=at, **details)(record_id, action)


def audit_docs(
    catalog_id: str, record_type: RecordType, actor: str = "system", *, at: str | None = None, **details: Any
) -> Callable[[str, str], dict[str, Any]]:
    """``audit_doc`` with all but the record id and action fixed, as a function of those two (the
    thousands of entries of one bulk write share the rest): the same documents, built faster."""
    kept = {k: v for k, v in details.items() if v is not None}

    def audit(record_id: str, action: str) -> dict[str, Any]:
        return {
            "id": new_audit_id(),
            "catalog_id": catalog_id,
            "record_type": record_type,
            "record_id": record_id,
            "action": action,
            "actor": actor,
            "at": at or dtime.now_iso(),
            "details": kept.copy(),
        }

    return audit


_ID_POOL: list[str] = []  # random audit ids drawn ahead, 256 per read of os.urandom
os.register_at_fork(after_in_child=_ID_POOL.clear)  # a forked worker draws its own


def new_audit_id() -> str:
    """32 random hex digits (an audit event id); ``list.pop`` hands each one out once across threads."""
    try:
        return _ID_POOL.pop()
    except IndexError:
        text = os.urandom(16 * 256).hex()
        _ID_POOL.extend([text[i : i + 32] for i in range(0, len(text), 32)])
        return _ID_POOL.pop()
