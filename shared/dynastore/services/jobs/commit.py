"""Applying what a task staged: validate everything first (``plan``), then write it (``apply``).

A task never writes while it runs; it stages items, collections, new assets and a change of its
asset on its ``TaskContext``. The runner plans the commit (every item validated against the STAC
Item schema, the merged asset checked) before it marks the job ``committing``, so a bad staged
write fails the job with nothing written.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from dynastore.domain import time as dtime
from dynastore.domain.asset import Asset, asset_doc
from dynastore.domain.audit import audit_doc
from dynastore.domain.retry import retry_on_conflict
from dynastore.errors import Conflict, Invalid, NotFound, Unavailable
from dynastore.ports import AssetWrite, BlobStore, Doc, MetadataStore
from dynastore.services.assets import SYSTEM_FIELDS, Scope, client_view, parse_fields
from dynastore.services.jobs.items import ItemChecker, stored_item
from dynastore.services.patching import merge_patch, validation_detail
from dynastore.tasks.context import StagedWrites, TaskContext, deep_merge

if TYPE_CHECKING:
    from dynastore.services.assets import AssetService

# asset_metadata may not touch what identifies the asset or what the service owns.
PROTECTED_ASSET_FIELDS = SYSTEM_FIELDS | {"id", "href"}
# An item a job writes is rarely written by anyone else at the same moment: a few lost races mean
# a concurrent writer keeps replacing it, and the job should fail (and be retried) rather than spin.
ITEM_WRITE_ATTEMPTS = 5
# The job's asset is a hot record (uploads, metadata edits, the indexer and other jobs on it all
# write it), so the merge of the task's results tolerates more lost races before giving up.
ASSET_MERGE_ATTEMPTS = 20


@dataclass
class CommitPlan:
    asset_patch: Doc
    staged: StagedWrites
    items: list[Doc] = field(default_factory=list)  # validated, in their stored form


class JobCommitter:
    """Plans and applies a finished task's staged writes and ``inputs.asset_metadata``."""

    def __init__(self, store: MetadataStore, blobs: BlobStore, assets: AssetService, stac: Any) -> None:
        self.store = store
        self.blobs = blobs
        self.assets = assets
        self.stac = stac

    def plan(self, job: Doc, inputs: Any, ctx: TaskContext) -> CommitPlan:
        """Everything the commit will write, validated, before anything is written."""
        explicit = inputs.asset_metadata.model_dump(exclude_unset=True) if inputs.asset_metadata else None
        patch = deep_merge(ctx.staged.asset_update, asset_metadata_patch(explicit) or {})
        if patch:
            current = self.store.get_asset(job["catalog_id"], job["asset_id"])
            self.assets.records.sized(merged_asset_doc(current, patch))
        items: list[Doc] = []
        if ctx.staged.items or ctx.staged.collections:
            if self.stac is None:
                raise Unavailable("this deployment has no STAC service to write items")
            from dynastore.services.stac import STAC_VERSION

            for collection in ctx.staged.collections:
                collection["stac_version"] = STAC_VERSION
            catalog_id = ctx.staged.catalog_id or job["catalog_id"]
            checker = ItemChecker()
            for number, item in enumerate(ctx.staged.items, start=1):
                if number % 200 == 0:
                    ctx.check_cancelled()
                items.append(stored_item(item, catalog_id, STAC_VERSION, checker))
        blobs = ctx.blobs or self.blobs
        for staged in ctx.staged.assets:
            parse_fields({k: v for k, v in staged.fields.items() if k != "id"} | {"href": blobs.href(staged.key)})
        return CommitPlan(asset_patch=patch, staged=ctx.staged, items=items)

    def apply(self, job: Doc, ctx: TaskContext, plan: CommitPlan) -> None:
        actor = f"{job.get('actor', 'system')}/job:{job['id']}"
        staged = plan.staged
        target_catalog = staged.catalog_id or job["catalog_id"]
        for collection in staged.collections:
            with contextlib.suppress(Conflict):  # created meanwhile (or by an earlier attempt of this job)
                self.stac.create_collection(target_catalog, collection, actor=actor)
        for item in plan.items:
            self._put_item(target_catalog, item, job, actor)
        for new in staged.assets:
            scope = Scope(job["catalog_id"], ctx.collection_id, ctx.item_id)
            fields = dict(new.fields)
            asset_id = fields.pop("id")
            blobs = ctx.blobs or self.blobs
            with new.path.open("rb") as data:
                blobs.put(new.key, data, content_type=fields.get("type"), metadata={"asset_id": asset_id})
            self.assets.put(scope, asset_id, {**fields, "href": blobs.href(new.key)}, actor=actor)
        for derived in staged.files:  # before the asset update that may name them
            with derived.path.open("rb") as data:
                (ctx.blobs or self.blobs).put(
                    derived.key, data, content_type=derived.content_type, metadata=derived.metadata
                )
        if plan.asset_patch:
            self._merge_into_asset(job, plan.asset_patch)

    def _put_item(self, catalog_id: str, item: Doc, job: Doc, actor: str) -> Doc:
        """Create or replace one item (keeping ``created`` of an existing one), with its audit event."""

        def step() -> Doc:
            try:
                current: Doc | None = self.store.get_item(catalog_id, item["collection"], item["id"])
            except NotFound:
                current = None
            doc = dict(item)
            if current is not None:
                created = (current.get("properties") or {}).get("created")
                doc["properties"] = {**doc["properties"], "created": created or doc["properties"]["created"]}
            action = "create" if current is None else "replace"
            audit = audit_doc(catalog_id, "item", item["id"], action, actor, job_id=job["id"], task_id=job["task_id"])
            return self.store.put_item(
                catalog_id, doc, expect_rev=0 if current is None else current.get("rev"), audit=audit
            )

        return retry_on_conflict(
            step,
            attempts=ITEM_WRITE_ATTEMPTS,
            exhausted=f"item {item['id']!r} kept changing; the job's items could not be written",
        )

    def _merge_into_asset(self, job: Doc, patch: Doc) -> Doc:
        def step() -> Doc:
            current = self.store.get_asset(job["catalog_id"], job["asset_id"])
            doc = self.assets.records.sized(merged_asset_doc(current, patch))
            audit = audit_doc(
                job["catalog_id"],
                "asset",
                job["asset_id"],
                "task",
                job.get("actor", "system"),
                job_id=job["id"],
                task_id=job["task_id"],
                patch=patch,
            )
            return self.store.write_assets([AssetWrite(doc, current.get("rev"))], audits=[audit])[0]

        return retry_on_conflict(
            step,
            attempts=ASSET_MERGE_ATTEMPTS,
            exhausted=f"asset {job['asset_id']!r} kept changing; its task results could not be merged",
        )


def asset_metadata_patch(asset_metadata: Doc | None) -> Doc | None:
    """``inputs.asset_metadata`` → a merge patch of the asset (``properties`` go into ``metadata``)."""
    if not asset_metadata:
        return None
    protected = sorted(k for k in asset_metadata if k in PROTECTED_ASSET_FIELDS)
    if protected:
        raise Invalid(f"inputs.asset_metadata cannot set {', '.join(protected)}")
    patch = {k: v for k, v in asset_metadata.items() if k != "properties"}
    properties = asset_metadata.get("properties")
    if properties is not None:
        if not isinstance(properties, dict):
            raise Invalid("inputs.asset_metadata.properties is a JSON object")
        patch["metadata"] = deep_merge(properties, patch.get("metadata") or {})
    return patch


def merged_asset_doc(current: Doc, patch: Doc) -> Doc:
    """The stored asset after merging ``patch`` (RFC 7386, deep) into its client fields; ``Invalid`` if bad."""
    merged = merge_patch(client_view(current), patch)
    fields = parse_fields(merged)
    doc = asset_doc(
        current["id"],
        fields.model_copy(update={"href": current["href"]}),
        catalog_id=current["catalog_id"],
        collection_id=current.get("collection_id"),
        item_id=current.get("item_id"),
        status=current.get("status", "active"),
        created=current.get("created") or dtime.now_iso(),
        updated=dtime.now_iso(),
        deleted_at=current.get("deleted_at"),
        storage=current.get("storage"),
        rev=current.get("rev", 0),
    )
    try:  # the stored system fields are validated too (this path is not a bulk one)
        return Asset.from_doc(doc).to_doc()
    except ValidationError as exc:
        raise Invalid(validation_detail(exc, "asset")) from None
