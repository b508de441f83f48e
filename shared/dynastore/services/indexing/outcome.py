"""What indexing reports: one ``IngestOutcome`` per event, and counters of the service's paths."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

from dynastore.ports import Doc, IngestRecord

OutcomeStatus = Literal["indexed", "unchanged", "deleted", "skipped", "stale", "duplicate", "failed"]


@dataclass(frozen=True)
class IngestOutcome:
    """What handling one event did (returned to the caller; the ingest record is the durable trace)."""

    key: str
    status: OutcomeStatus
    action: str | None = None  # index, update, move, missing, merge
    catalog_id: str | None = None
    asset_id: str | None = None
    detail: str | None = None

    def to_doc(self) -> Doc:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class IngestStatus:
    """An object key's ingest record and the asset it names: ``asset`` is None when the record names
    none, or (``purged``) names one that no longer exists."""

    record: IngestRecord
    asset: Doc | None = None
    purged: bool = False


@dataclass
class IndexingStats:
    """Counters since the service started: how many batch writes took the fast path (one atomic
    ``write_assets`` for the whole batch) and how many fell back to writing object by object."""

    batch_writes: int = 0
    batch_fallbacks: int = 0
    fallback_objects: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, *, fell_back: bool, objects: int = 0) -> None:
        with self._lock:
            if fell_back:
                self.batch_fallbacks += 1
                self.fallback_objects += objects
            else:
                self.batch_writes += 1

    def to_doc(self) -> dict[str, int]:
        with self._lock:
            return {"batch_writes": self.batch_writes, "batch_fallbacks": self.batch_fallbacks,
                    "fallback_objects": self.fallback_objects}

