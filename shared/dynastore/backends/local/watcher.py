"""The local event source: watch ``<data_dir>/bucket`` and feed the indexing service.

A ``watchdog`` observer reports file system changes; the watcher turns them into object keys,
waits until a key has been quiet for ``debounce_seconds`` (a copy writes many times), then asks
``IndexingService.index_key`` to look at the object as it is *now* (present → finalized, absent →
deleted). Temporary files, hidden folders and the blob store's own bookkeeping
(``.dynastore-*``) are ignored. A folder moved in or out is scanned (or reconciled) as a whole.

On ``start`` a reconcile of the whole bucket runs in the background, concurrently with live
events (both are safe together), so files that arrived while the service was down, or that a
killed service was in the middle of indexing, are caught up.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dynastore.backends.local.blobs import is_internal
from dynastore.domain.events import ignored_reason

if TYPE_CHECKING:
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers.api import BaseObserver

    from dynastore.services.indexing import IndexingService, IngestOutcome
    from dynastore.services.reconcile import Reconciler

log = logging.getLogger("dynastore.watcher")


class FolderWatcher:
    """A ``bootstrap.BackgroundWorker``: ``start`` returns at once, ``stop`` joins its threads."""

    def __init__(
        self,
        indexing: IndexingService,
        root: Path | str,
        *,
        reconciler: Reconciler | None = None,
        debounce_seconds: float = 0.25,
        on_outcome: Callable[[IngestOutcome], None] | None = None,
    ) -> None:
        self.indexing = indexing
        self.root = Path(root).resolve()
        self.reconciler = reconciler
        self.debounce_seconds = debounce_seconds
        self.on_outcome = on_outcome
        self._pending: dict[str, float] = {}  # key -> monotonic time of its last change
        self._scans: dict[str, float] = {}  # folder prefix -> last change (folder moved in)
        self._reconcile_catalogs: dict[str, float] = {}  # catalog -> last change (folder moved out)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._observer: BaseObserver | None = None
        self._threads: list[threading.Thread] = []
        self.startup_reconcile_done = threading.Event()

    # ------------------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        from watchdog.observers import Observer

        self.root.mkdir(parents=True, exist_ok=True)
        observer = Observer()
        observer.schedule(_handler(self), str(self.root), recursive=True)
        observer.daemon = True
        observer.start()
        self._observer = observer
        worker = threading.Thread(target=self._run, name="dynastore-watcher", daemon=True)
        worker.start()
        self._threads.append(worker)
        if self.reconciler is not None:
            catch_up = threading.Thread(target=self._startup_reconcile, name="dynastore-reconcile", daemon=True)
            catch_up.start()
            self._threads.append(catch_up)
        else:
            self.startup_reconcile_done.set()
        log.info("watching %s for new, changed and removed files", self.root)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()

    def idle(self) -> bool:
        """Nothing pending (tests and benchmarks poll this)."""
        with self._lock:
            return not (self._pending or self._scans or self._reconcile_catalogs)

    # ------------------------------------------------------------------------------ intake

    def key_for(self, path: str | bytes) -> str | None:
        """The object key of a path under the bucket folder, or None (outside, internal, ignored)."""
        rel = os.path.relpath(os.fsdecode(path), self.root)
        if rel in (".", "") or rel.startswith(".."):
            return None
        key = rel.replace(os.sep, "/")
        if is_internal(key) or ignored_reason(key) is not None:
            return None
        return key

    def touch(self, key: str) -> None:
        with self._lock:
            self._pending.pop(key, None)
            self._pending[key] = time.monotonic()
        self._wake.set()

    def touch_folder(self, prefix: str, *, gone: bool) -> None:
        with self._lock:
            if gone:
                self._reconcile_catalogs[prefix.split("/", 1)[0]] = time.monotonic()
            else:
                self._scans[prefix] = time.monotonic()
        self._wake.set()

    # ------------------------------------------------------------------------------ processing

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(timeout=self.debounce_seconds)
            self._wake.clear()
            self._drain()

    def _drain(self) -> None:
        while not self._stopping.is_set():
            ready_scans, ready_catalogs, ready_keys = self._take_ready()
            if not (ready_scans or ready_catalogs or ready_keys):
                return
            for prefix in ready_scans:
                for key in self._keys_under(prefix):
                    self.touch(key)
            for key in ready_keys:
                if self._stopping.is_set():
                    return
                self._index(key)
            for catalog_id in ready_catalogs:
                self._reconcile(catalog_id)

    def _take_ready(self) -> tuple[list[str], list[str], list[str]]:
        cutoff = time.monotonic() - self.debounce_seconds
        with self._lock:
            scans = [p for p, t in self._scans.items() if t <= cutoff]
            for prefix in scans:
                del self._scans[prefix]
            catalogs = [c for c, t in self._reconcile_catalogs.items() if t <= cutoff]
            for catalog_id in catalogs:
                del self._reconcile_catalogs[catalog_id]
            keys = [k for k, t in self._pending.items() if t <= cutoff]
            for key in keys:
                del self._pending[key]
        return scans, catalogs, keys

    def _index(self, key: str) -> None:
        try:
            outcome = self.indexing.index_key(key)
        except Exception:  # the watcher thread must survive anything
            log.exception("indexing %s failed", key)
            return
        if outcome.status == "failed":
            log.warning("could not index %s: %s", key, outcome.detail)
        if self.on_outcome is not None:
            self.on_outcome(outcome)

    def _keys_under(self, prefix: str) -> list[str]:
        list_keys = getattr(self.indexing.blobs, "list_keys", None)
        keys = list_keys(prefix) if callable(list_keys) else [i.key for i in self.indexing.blobs.list(prefix)]
        return [k for k in keys if ignored_reason(k) is None]

    def _startup_reconcile(self) -> None:
        try:
            if self.reconciler is not None:
                report = self.reconciler.run()
                log.info(
                    "startup reconcile: %d objects, %d indexed, %d unchanged, %d missing, %d failed",
                    report.scanned,
                    report.indexed,
                    report.unchanged,
                    report.missing,
                    report.failed,
                )
        except Exception:
            log.exception("startup reconcile failed")
        finally:
            self.startup_reconcile_done.set()

    def _reconcile(self, catalog_id: str) -> None:
        if self.reconciler is None:
            return
        try:
            self.reconciler.run(catalog_id)
        except Exception:
            log.exception("reconcile of %s after a folder left the bucket failed", catalog_id)


def _handler(watcher: FolderWatcher) -> FileSystemEventHandler:
    from watchdog.events import FileSystemEventHandler

    class Handler(FileSystemEventHandler):
        def dispatch(self, event: FileSystemEvent) -> None:
            _dispatch(watcher, event)

    return Handler()


def _dispatch(watcher: FolderWatcher, event: FileSystemEvent) -> None:
    kind = event.event_type
    if kind in ("opened", "closed_no_write"):
        return
    paths = [event.src_path]
    if kind == "moved":
        paths.append(getattr(event, "dest_path", ""))
    for index, path in enumerate(p for p in paths if p):
        key = watcher.key_for(path)
        if key is None:
            continue
        if event.is_directory:
            gone = kind == "deleted" or (kind == "moved" and index == 0)
            if gone:
                watcher.touch_folder(key + "/", gone=True)
            elif kind in ("created", "moved"):
                watcher.touch_folder(key + "/", gone=False)
            continue
        watcher.touch(key)
