"""The local event source: watch ``<data_dir>/bucket`` and feed the indexing service.

A ``watchdog`` observer reports file system changes; the watcher turns them into object keys,
waits until a key has been quiet for ``debounce_seconds`` (a copy writes many times), then asks
``IndexingService.index_key`` to look at the object as it is *now* (present → finalized, absent →
deleted). Temporary files, hidden folders and the blob store's own bookkeeping
(``.dynastore-*``) are ignored. A folder moved in or out is scanned (or reconciled) as a whole.

On ``start`` a reconcile of the whole bucket runs in the background, concurrently with live
events (both are safe together), so files that arrived while the service was down, or that a
killed service was in the middle of indexing, are caught up.

The bucket folder itself is watched without recursion and each top-level (catalog) folder
recursively, so the blob store's own bookkeeping tree (``.dynastore-meta``, one folder per key)
costs no inotify watch.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dynastore.backends.local.blobs import is_internal
from dynastore.domain.events import ignored_reason

if TYPE_CHECKING:
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers.api import BaseObserver, ObservedWatch

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
        self._handler: FileSystemEventHandler | None = None
        self._watches: dict[str, ObservedWatch] = {}  # top-level folder -> its recursive watch
        self._new_folders: set[str] = set()  # top-level folders to start watching
        self._threads: list[threading.Thread] = []
        self.startup_reconcile_done = threading.Event()

    # ------------------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        from watchdog.observers import Observer

        # watchdog re-adds a watch when a folder is re-created and warns about it: harmless noise.
        warnings.filterwarnings("ignore", message="Callback with id", category=RuntimeWarning)
        self.root.mkdir(parents=True, exist_ok=True)
        observer = Observer()
        self._handler = _handler(self)
        observer.schedule(self._handler, str(self.root), recursive=False)
        observer.daemon = True
        observer.start()
        self._observer = observer
        for entry in os.scandir(self.root):
            if entry.is_dir(follow_symlinks=False) and self._watchable(entry.name):
                self._watch_folder(entry.name)
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

    # ------------------------------------------------------------------------------ top-level folders

    @staticmethod
    def _watchable(name: str) -> bool:
        return not (is_internal(name) or name.startswith("."))

    def _watch_folder(self, name: str) -> None:
        if self._observer is None or self._handler is None or name in self._watches:
            return
        path = self.root / name
        if not path.is_dir():
            return
        try:
            self._watches[name] = self._observer.schedule(self._handler, str(path), recursive=True)
        except OSError:
            log.exception("cannot watch %s", path)

    def _unwatch_folder(self, name: str) -> None:
        watch = self._watches.pop(name, None)
        if watch is not None and self._observer is not None:
            with contextlib.suppress(KeyError, OSError):
                self._observer.unschedule(watch)

    def top_level_folder(self, name: str, *, gone: bool) -> None:
        """A folder appeared in (or left) the bucket root: watch it, and scan what it already holds."""
        if not self._watchable(name):
            return
        with self._lock:
            if gone:
                self._new_folders.discard(name)
            else:
                self._new_folders.add(name)
        self.touch_folder(name + "/", gone=gone)

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
            with self._lock:
                new_folders, self._new_folders = self._new_folders, set()
            for name in new_folders:
                self._watch_folder(name)  # before the scan: nothing written after it is missed
            ready_scans, ready_catalogs, ready_keys = self._take_ready()
            if not (ready_scans or ready_catalogs or ready_keys):
                return
            for prefix in ready_scans:
                for key in self._keys_under(prefix):
                    self.touch(key)
            if ready_keys:
                self._index(ready_keys)
            for catalog_id in ready_catalogs:
                if not (self.root / catalog_id).is_dir():
                    self._unwatch_folder(catalog_id)
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

    def _index(self, keys: list[str]) -> None:
        """Index keys as they are now, in batches (a copy of many files becomes few writes)."""
        try:
            outcomes = self.indexing.index_keys(keys)
        except Exception:  # the watcher thread must survive anything
            log.exception("indexing %d files failed", len(keys))
            return
        for outcome in outcomes:
            if outcome.status == "failed":
                log.warning("could not index %s: %s", outcome.key, outcome.detail)
            if self.on_outcome is not None:
                self.on_outcome(outcome)

    def _keys_under(self, prefix: str) -> list[str]:
        return [k for k in self.indexing.blobs.list_keys(prefix) if ignored_reason(k) is None]

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
            if "/" not in key:
                watcher.top_level_folder(key, gone=gone)
                continue
            if gone:
                watcher.touch_folder(key + "/", gone=True)
            elif kind in ("created", "moved"):
                watcher.touch_folder(key + "/", gone=False)
            continue
        watcher.touch(key)
