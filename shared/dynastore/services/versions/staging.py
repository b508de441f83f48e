"""Move semantics of a JSON publish (``{"files": [{"key": ...}]}``): once the versioned copy of an
uploaded object is written and indexed, the uploaded (staging) object is retired, so it does not
linger as a second, plain asset of the same bytes.

Crash-safe by order: the version's blob and records exist before the source is touched; then the
source's record is soft-deleted (an inactive record is neither a move source nor a move target for
indexing, and its bytes stay deleted on a re-index); then the object is deleted; then its delete is
applied so the key's ingest record says ``deleted`` (a late finalize event of that generation is
stale). A crash between any two steps leaves at worst the old state of the source, never a lost
version. The source is kept when it is itself a published version (a copy, not a move) or when it
changed since the publish read it.
"""

from __future__ import annotations

import logging

from dynastore.domain import time as dtime
from dynastore.domain.audit import audit_doc
from dynastore.domain.events import StorageEvent
from dynastore.domain.storage import parse_key
from dynastore.domain.versions import parse_versioned
from dynastore.errors import DynastoreError, NotFound
from dynastore.ports import AssetWrite, BlobStore, MetadataStore
from dynastore.services.indexing import IndexingService

log = logging.getLogger("dynastore.versions")
VIA = "publish"  # the audit detail ``via`` of a source retired by a publish


def retire_source(
    store: MetadataStore,
    indexing: IndexingService,
    blobs: BlobStore,
    key: str,
    generation: str | None,
    *,
    published_as: str,
    actor: str,
) -> bool:
    """Retire the staging object ``key`` (read at ``generation``) now published as ``published_as``;
    True when it was retired. Never raises for a storage or store problem: the version is safe, the
    source merely lingers (logged), as it did before."""
    if parse_versioned(key.rsplit("/", 1)[-1]) is not None:
        return False  # a published version is never deleted by a publish
    try:
        info = blobs.stat(key)
        if generation is not None and info.generation != generation:
            log.info("publish: %s changed since it was published as %s; kept", key, published_as)
            return False
        event = StorageEvent.from_blob(info)
        scope = parse_key(key)
        existing, _ = indexing.facts.resolve(scope, event, indexing.facts.ingest_record(info.bucket, key))
        if existing is not None and existing.get("status") == "active":
            now = dtime.now_iso()
            details = {"via": VIA, "published_as": published_as, "previous_status": "active"}
            store.write_assets(
                [AssetWrite({**existing, "status": "deleted", "deleted_at": now, "updated": now}, existing.get("rev"))],
                audits=[audit_doc(scope.catalog_id, "asset", existing["id"], "delete", actor, **details)],
            )
        blobs.delete(key, missing_ok=True)
        indexing.apply(event.model_copy(update={"kind": "deleted", "event_time": dtime.now_iso()}), observed=True)
    except NotFound:
        return False  # gone already (a second file of the publish named the same key)
    except DynastoreError as exc:
        log.warning("publish: the uploaded object %s was not retired (%s); it stays a plain asset", key, exc)
        return False
    return True
