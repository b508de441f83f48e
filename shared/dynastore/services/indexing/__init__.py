"""Zero-touch indexing (DESIGN §5): read the facts (``facts``) → decide (``domain.indexing``, pure)
→ write (``writer``); ``service.IndexingService`` runs the three for each event or batch."""

from __future__ import annotations

from dynastore.services.indexing.documents import DESCRIPTIVE_FIELDS, Described, describe
from dynastore.services.indexing.outcome import IndexingStats, IngestOutcome, IngestStatus, OutcomeStatus
from dynastore.services.indexing.service import BATCH_SIZE, READ_THREADS, IndexingService

__all__ = [
    "BATCH_SIZE",
    "DESCRIPTIVE_FIELDS",
    "READ_THREADS",
    "Described",
    "IndexingService",
    "IndexingStats",
    "IngestOutcome",
    "IngestStatus",
    "OutcomeStatus",
    "describe",
]

