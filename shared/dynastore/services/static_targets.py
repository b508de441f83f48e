"""Where a static export writes (``services/static_export.py``): a local folder or a blob-store prefix.

The exporter speaks in paths relative to the export root (``catalog.json``,
``items/<col>/<item>/item.json`` ...); a target turns them into files or objects. Every write is
atomic per file (a folder writes a temporary name and renames it; an object store's put is atomic).
Object stores have no symlinks (``supports_symlinks`` False): the exporter writes the ``@latest``
aliases as copies there, the ``STAC_SYMLINK_FALLBACK=copy`` behaviour.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import BinaryIO, Protocol

from dynastore.errors import Invalid, NotFound
from dynastore.ports import BlobStore

_TMP = ".dynastore-tmp-"
_CHUNK = 1024 * 1024


def _check_rel(rel: str) -> str:
    if not rel or rel.startswith("/") or any(part in ("", ".", "..") for part in rel.split("/")):
        raise Invalid(f"export path {rel!r} leaves the export root")
    return rel


def _content_type(rel: str) -> str | None:
    if rel.endswith((".geojson", "/item.json")):
        return "application/geo+json"
    return "application/json" if rel.endswith(".json") else None


class ExportTarget(Protocol):
    manifest: str  # the name of the manifest file at the export root
    supports_symlinks: bool

    def read(self, rel: str) -> bytes | None:
        """The bytes at ``rel``, None when absent (or a symlink)."""
        ...

    def size(self, rel: str) -> int | None:
        """The size of the regular file at ``rel``; None when absent or a symlink."""
        ...

    def link_target(self, rel: str) -> str | None:
        """Where the symlink at ``rel`` points; None when it is not one."""
        ...

    def write(self, rel: str, reader: BinaryIO) -> int:
        """Write ``reader``'s bytes to ``rel`` atomically; returns the size."""
        ...

    def copy_blob(self, blobs: BlobStore, key: str, rel: str) -> int:
        """Copy the object ``key`` of ``blobs`` to ``rel``; returns the size."""
        ...

    def copy(self, source_rel: str, rel: str) -> None: ...

    def symlink(self, rel: str, target: str) -> None:
        """A relative symlink ``rel`` -> ``target``; ``OSError``/``NotImplementedError`` where impossible."""
        ...

    def remove(self, rel: str) -> bool:
        """Delete ``rel``; False when it was not there."""
        ...

    def prune(self, rels: list[str]) -> None:
        """Remove the folders that the deletion of ``rels`` left empty (object stores have none)."""
        ...

    def url(self, rel: str) -> str: ...


class FolderTarget:
    """A local folder (the ``dynastore export-static DIR`` command)."""

    manifest = ".dynastore-export.json"
    supports_symlinks = True

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()

    def path(self, rel: str) -> Path:
        path = self.root / _check_rel(rel)
        if not path.resolve().is_relative_to(self.root):
            raise Invalid(f"export path {rel!r} leaves the export folder")
        return path

    def read(self, rel: str) -> bytes | None:
        path = self.path(rel)
        if os.path.islink(path):
            return None
        try:
            return path.read_bytes()
        except OSError:
            return None

    def size(self, rel: str) -> int | None:
        path = self.path(rel)
        try:
            st = os.lstat(path)
        except OSError:
            return None
        return None if os.path.islink(path) else st.st_size

    def link_target(self, rel: str) -> str | None:
        path = self.path(rel)
        return os.readlink(path) if os.path.islink(path) else None

    def _tmp(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.with_name(f"{_TMP}{uuid.uuid4().hex}")

    def write(self, rel: str, reader: BinaryIO) -> int:
        path = self.path(rel)
        tmp = self._tmp(path)
        size = 0
        try:
            with open(tmp, "wb") as out:
                for chunk in iter(lambda: reader.read(_CHUNK), b""):
                    out.write(chunk)
                    size += len(chunk)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return size

    def copy_blob(self, blobs: BlobStore, key: str, rel: str) -> int:
        with blobs.open(key) as reader:
            return self.write(rel, reader)

    def copy(self, source_rel: str, rel: str) -> None:
        path = self.path(rel)
        tmp = self._tmp(path)
        try:
            shutil.copyfile(self.path(source_rel), tmp)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def symlink(self, rel: str, target: str) -> None:
        path = self.path(rel)
        tmp = self._tmp(path)
        try:
            os.symlink(target, tmp)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def remove(self, rel: str) -> bool:
        try:
            os.unlink(self.path(rel))
        except (FileNotFoundError, Invalid):
            return False
        return True

    def prune(self, rels: list[str]) -> None:
        folders = {(self.root / rel).parent for rel in rels}
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            while folder != self.root and folder.is_relative_to(self.root):
                try:
                    folder.rmdir()
                except OSError:
                    break
                folder = folder.parent

    def url(self, rel: str) -> str:
        return self.path(rel).as_uri()


class BlobTarget:
    """Objects under ``prefix`` in a blob store (the ``export-static`` task: ``{catalog}/_static/``).

    The manifest cannot be named ``.dynastore-*`` (a reserved key segment), hence its own name."""

    manifest = "_export-manifest.json"
    supports_symlinks = False

    def __init__(self, blobs: BlobStore, prefix: str) -> None:
        self.blobs = blobs
        self.prefix = prefix if prefix.endswith("/") else f"{prefix}/"

    def key(self, rel: str) -> str:
        return f"{self.prefix}{_check_rel(rel)}"

    def read(self, rel: str) -> bytes | None:
        try:
            return self.blobs.get(self.key(rel))
        except NotFound:
            return None

    def size(self, rel: str) -> int | None:
        try:
            return self.blobs.stat(self.key(rel)).size
        except NotFound:
            return None

    def link_target(self, rel: str) -> str | None:
        return None

    def write(self, rel: str, reader: BinaryIO) -> int:
        return self.blobs.put(self.key(rel), reader, content_type=_content_type(rel)).size

    def copy_blob(self, blobs: BlobStore, key: str, rel: str) -> int:
        if blobs.bucket == self.blobs.bucket:
            return self.blobs.copy(key, self.key(rel)).size  # server-side, no bytes through this process
        with blobs.open(key) as reader:
            return self.write(rel, reader)

    def copy(self, source_rel: str, rel: str) -> None:
        self.blobs.copy(self.key(source_rel), self.key(rel))

    def symlink(self, rel: str, target: str) -> None:
        raise NotImplementedError("object stores have no symlinks")

    def remove(self, rel: str) -> bool:
        try:
            key = self.key(rel)
        except Invalid:
            return False
        existed = self.size(rel) is not None
        self.blobs.delete(key, missing_ok=True)
        return existed

    def prune(self, rels: list[str]) -> None:
        return None

    def url(self, rel: str) -> str:
        return self.blobs.href(self.key(rel))
