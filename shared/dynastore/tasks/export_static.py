"""``export-static``: the static STAC tree of a catalog, written into its own storage at ``{catalog}/_static/``.

The task runs on any asset of the catalog and exports the whole catalog (``services/static_export``
over a ``BlobTarget``). ``_static/`` is reserved: zero-touch indexing and the reconciler ignore it
(``domain.storage.ignored_reason``), so the tree never becomes assets. Object stores have no
symlinks, so ``<name>@latest<ext>`` is a copy of the newest version (the
``STAC_SYMLINK_FALLBACK=copy`` behaviour). Re-runs are incremental through
``_static/_export-manifest.json``.

Unlike other tasks it writes while it runs: the tree is not catalog data (no record changes), every
object is written whole, and a dismissed or failed run leaves a tree the next run completes.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from dynastore.domain.storage import STATIC_EXPORT_FOLDER
from dynastore.errors import Invalid
from dynastore.services.catalogs import CatalogStorage
from dynastore.services.static_export import StaticExporter
from dynastore.services.static_targets import BlobTarget
from dynastore.tasks.base import Task, TaskInputs
from dynastore.tasks.context import TaskContext


class ExportStaticOutputs(BaseModel):
    prefix: str = Field(description="the key prefix of the tree in the catalog's bucket, e.g. `demo/_static/`")
    catalog_json: str = Field(description="the URL of the tree's catalog.json (gs://, s3:// or file://)")
    collections: int
    items: int
    files_copied: int = Field(description="version files copied this run")
    files_unchanged: int = Field(description="version files already exported with the same content")
    documents_written: int = Field(description="catalog/collection/item JSON documents (re)written")
    alias_copies: int = Field(description="`@latest` copies (re)written")
    removed: int = Field(description="files of an earlier run no longer exported, deleted")
    errors: list[str] = Field(description="items that could not be exported (the rest was)")


class ExportStaticTask(Task):
    id = "export-static"
    title = "Static STAC export"
    description = (
        "Writes the catalog as a static STAC tree (catalog.json, collections/, items/ with every version's file and "
        "a copy per `@latest` alias) under `{catalog}/_static/` in the catalog's own storage; that prefix is never "
        "indexed. Incremental on re-run. Runs on any asset of the catalog; exports the whole catalog."
    )
    Inputs = TaskInputs
    Outputs = ExportStaticOutputs
    keywords = ("stac", "static", "export")

    def run(self, ctx: TaskContext, inputs: TaskInputs) -> ExportStaticOutputs:
        if ctx.store is None or ctx.blobs is None or ctx.settings is None or ctx.stac is None:
            raise Invalid("export-static needs the job runner's context (store, storage, settings, STAC service)")
        catalog = ctx.store.get_catalog(ctx.catalog_id)
        prefix = f"{CatalogStorage.prefix_of(catalog)}{STATIC_EXPORT_FOLDER}/"
        target = BlobTarget(ctx.blobs, prefix)
        exporter = StaticExporter(ctx.store, CatalogStorage(ctx.blobs), ctx.stac, ctx.settings)
        exporter.on_item = ctx.check_cancelled
        ctx.progress(1, f"exporting catalog {ctx.catalog_id!r} to {prefix}")
        report = exporter.export(target, ctx.catalog_id)
        ctx.progress(100, "exported")
        counts = report.to_doc()
        return ExportStaticOutputs(
            prefix=prefix,
            catalog_json=target.url("catalog.json"),
            **{k: counts[k] for k in ExportStaticOutputs.model_fields if k in counts},
        )
