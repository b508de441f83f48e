"""The context a task runs in: its asset, cancellation, progress, blob access and staged writes."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from dynastore.domain.asset import stored_key
from dynastore.errors import Invalid
from dynastore.tasks.base import JobDismissed

if TYPE_CHECKING:
    from dynastore.config import Settings
    from dynastore.ports import BlobStore, MetadataStore

ProgressCallback = Callable[[int, "str | None"], None]


@dataclass
class StagedAsset:
    """A new asset a task produced: a local file to upload to ``key`` and the asset's fields."""

    key: str
    path: Path
    fields: dict[str, Any]


@dataclass
class StagedFile:
    """A derived file a task produced that is no asset of its own (a preview): uploaded to ``key`` as is."""

    key: str
    path: Path
    content_type: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass
class StagedWrites:
    """What a task wants written; the runner commits it after the task returned."""

    collections: list[dict[str, Any]] = field(default_factory=list)  # STAC collections created if missing
    items: list[dict[str, Any]] = field(default_factory=list)  # STAC items, created or replaced
    assets: list[StagedAsset] = field(default_factory=list)
    files: list[StagedFile] = field(default_factory=list)  # derived files written before the asset update
    asset_update: dict[str, Any] = field(default_factory=dict)  # merged into the asset the task ran on
    catalog_id: str | None = None  # the catalog items and collections go to (default: the asset's)

    def is_empty(self) -> bool:
        return not (self.collections or self.items or self.assets or self.files or self.asset_update)


class TaskContext:
    """Handed to ``Task.run``. Built by the job runner, or directly by tests with a file path."""

    def __init__(
        self,
        *,
        asset: dict[str, Any],
        job_id: str = "local",
        blobs: BlobStore | None = None,
        store: MetadataStore | None = None,
        source_path: Path | None = None,
        cancel_event: threading.Event | None = None,
        on_progress: ProgressCallback | None = None,
        workdir: Path | None = None,
        settings: Settings | None = None,
        stac: Any = None,
    ) -> None:
        self.asset = asset
        self.job_id = job_id
        self.blobs = blobs
        self.store = store
        self.staged = StagedWrites()
        self.settings = settings  # the service's settings and StacService, for catalog-wide tasks (export-static)
        self.stac = stac
        self._source_path = source_path
        self._cancel = cancel_event or threading.Event()
        self._on_progress = on_progress
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix=f"dynastore-job-{job_id[:12]}-"))
        self.progress_percent = 0
        self.progress_message: str | None = None

    # --- identity of the asset -----------------------------------------------------------------
    @property
    def catalog_id(self) -> str:
        return str(self.asset["catalog_id"])

    @property
    def collection_id(self) -> str | None:
        return self.asset.get("collection_id")

    @property
    def item_id(self) -> str | None:
        return self.asset.get("item_id")

    # --- cooperative cancellation and progress --------------------------------------------------
    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        """Call between steps: raises ``JobDismissed`` once the job was dismissed."""
        if self._cancel.is_set():
            raise JobDismissed(self.job_id)

    def progress(self, percent: float, message: str | None = None) -> None:
        """Report progress (0-100) and check for cancellation."""
        self.progress_percent = max(0, min(100, int(percent)))
        if message is not None:
            self.progress_message = message
        if self._on_progress is not None:
            self._on_progress(self.progress_percent, self.progress_message)
        self.check_cancelled()

    # --- the asset's bytes ----------------------------------------------------------------------
    def blob_key(self) -> str:
        """The key of the asset's bytes in ``blobs``: its catalog's bucket, under its catalog's prefix.

        ``Invalid`` otherwise: a task reads only the bytes its own catalog stores (an asset record
        naming another catalog's key, or any other place, is refused)."""
        key = stored_key(self.asset, self.blobs, self._catalog_prefix()) if self.blobs is not None else None
        if key:
            return key
        raise Invalid(
            f"asset {self.asset.get('id')!r} points at {self.asset.get('href')!r}, which is not in the storage of "
            f"its catalog {self.catalog_id!r}; tasks run only on their own catalog's stored files"
        )

    def _catalog_prefix(self) -> str:
        """The key prefix of the asset's catalog (``{catalog}/`` unless its storage binding says otherwise)."""
        from dynastore.services.catalogs import CatalogStorage

        if self.store is None:
            return f"{self.catalog_id}/"
        return CatalogStorage.prefix_of(self.store.get_catalog(self.catalog_id))

    def local_copy(self) -> Path:
        """A local file with the asset's bytes (downloaded once into the job's work folder)."""
        if self._source_path is not None:
            return self._source_path
        if self.blobs is None:
            raise Invalid("this task context has no blob store to read the asset from")
        key = self.blob_key()
        name = Path(key).name or "asset"
        target = self.workdir / "source" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with self.blobs.open(key) as reader, target.open("wb") as out:
            while True:
                self.check_cancelled()
                chunk = reader.read(8 * 1024 * 1024)
                if not chunk:
                    break
                out.write(chunk)
        self._source_path = target
        return target

    def open_source(self) -> BinaryIO:
        """A streaming reader of the asset's bytes (no local copy)."""
        if self._source_path is not None:
            return self._source_path.open("rb")
        if self.blobs is None:
            raise Invalid("this task context has no blob store to read the asset from")
        return self.blobs.open(self.blob_key())

    def temp_path(self, name: str) -> Path:
        """A path for an output file, always directly in the job's ``out`` folder (``Invalid`` otherwise)."""
        folder = self.workdir / "out"
        path = folder / name
        if not name or Path(name).name != name or name in (".", "..") or path.resolve().parent != folder.resolve():
            raise Invalid(f"output file name {name!r} must be a plain file name")
        folder.mkdir(parents=True, exist_ok=True)
        return path

    # --- staging --------------------------------------------------------------------------------
    def stage_item(self, item: dict[str, Any]) -> None:
        self.staged.items.append(item)

    def stage_collection(self, collection: dict[str, Any]) -> None:
        self.staged.collections.append(collection)

    def stage_asset(self, key: str, path: Path, fields: dict[str, Any]) -> None:
        self.staged.assets.append(StagedAsset(key=key, path=path, fields=fields))

    def stage_file(self, key: str, path: Path, content_type: str, metadata: dict[str, str] | None = None) -> None:
        self.staged.files.append(StagedFile(key=key, path=path, content_type=content_type, metadata=metadata or {}))

    def update_asset(self, fields: dict[str, Any]) -> None:
        """Fields to merge into the asset the task ran on (``metadata`` is deep-merged)."""
        self.staged.asset_update = deep_merge(self.staged.asset_update, fields)

    def cleanup(self) -> None:
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` wins; nested dicts merge key by key; lists and scalars are replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
