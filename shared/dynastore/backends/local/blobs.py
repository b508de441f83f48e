"""The local blob store: one folder is one bucket, a key is a relative path.

Design (what makes it safe):

- **Keys never escape the root.** A key is ``/``-separated, relative, with no empty, ``.`` or
  ``..`` segment, no backslash, NUL or control character, no segment longer than 255 bytes and at
  most 1024 bytes in all; segments starting with ``.dynastore`` are reserved. Paths are also
  checked after symlink resolution. Anything else raises ``Invalid``.
- **Atomic writes.** Bytes stream into a temp file (``.dynastore-tmp-*``) in the target folder,
  are fsynced, then published in one step: ``os.link`` for create-only writes (it fails if the
  name exists, so of two racing creators exactly one wins) and ``os.replace`` otherwise. Readers
  never see a half-written object.
- **Generation = the file's ``mtime_ns``.** ``put`` stamps the temp file with a strictly
  increasing value (``max(time_ns, previous + 1)``) before publishing it, so a file's generation
  survives without any record, and files copied in by hand (``cp``) have one too.
- **Object metadata** (md5, content type, custom metadata) lives in a hidden tree
  ``<root>/.dynastore-meta/<h[:2]>/<h>/<inode>.json`` with ``h = sha256(key)``. A record is keyed
  by the inode of the bytes it describes, written *before* the file is published (a rename or
  link keeps the inode), and trusted only while the file's size and mtime still match. So an
  object is never visible without its metadata, a losing create-only writer cannot clobber the
  winner's record, and a file replaced behind our back (``cp`` over it) is detected: its md5 is
  then computed lazily while streaming, and cached in a record when the file holds at least
  ``MD5_CACHE_MIN_BYTES`` (hashing a smaller file again costs less than writing, then reading, a
  record: bulk indexing of hand-copied small files would spend most of its time creating record
  folders). The meta tree and temp files are never listed.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import hashlib
import os
import shutil
import stat as stat_module
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast
from urllib.parse import quote_from_bytes, unquote, urlparse

import orjson

from dynastore.backends.checks import check_put_options, key_under
from dynastore.domain import time as dtime
from dynastore.domain.object_keys import RESERVED_PREFIX
from dynastore.domain.object_keys import check_key as check_object_key
from dynastore.errors import Conflict, Invalid, NotFound, PreconditionFailed, Unavailable
from dynastore.ports import BlobInfo, BlobStoreBase

META_DIR = ".dynastore-meta"
TMP_PREFIX = ".dynastore-tmp-"
MAX_SEGMENT_BYTES = 255
CHUNK = 1024 * 1024
RECORD_GRACE_SECONDS = 300
MD5_CACHE_MIN_BYTES = 256 * 1024  # files written behind our back get their md5 cached from this size on


def is_internal(relative_path: str) -> bool:
    """True for paths under the root that are not objects: temp files and the metadata tree.

    The folder watcher uses it to ignore what the store itself writes.
    """
    return any(part.startswith(RESERVED_PREFIX) for part in relative_path.replace(os.sep, "/").split("/"))


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe object key (``domain.object_keys``, plus a file name's
    segment limit), else raise ``Invalid`` saying why."""
    return check_object_key(key, max_segment_bytes=MAX_SEGMENT_BYTES)


def _check_prefix(prefix: str) -> str:
    if not isinstance(prefix, str):
        raise Invalid("a list prefix must be a string")
    if not prefix:
        return prefix
    if prefix.startswith("/") or any(ord(ch) < 0x20 or ch in "\x7f\\" for ch in prefix):
        raise Invalid(f"list prefix {prefix!r} must be relative and free of backslashes and control characters")
    if any(seg in (".", "..") for seg in prefix.split("/")[:-1]):
        raise Invalid(f"list prefix {prefix!r} contains a '.' or '..' segment")
    return prefix


def _iso_ns(mtime_ns: int) -> str:
    return dtime.isoformat(datetime.fromtimestamp(mtime_ns / 1e9, UTC))


class FolderBlobStore(BlobStoreBase):
    """``ports.BlobStore`` over a folder (see the module docstring for the design)."""

    root: Path  # the bucket folder
    local_reads = True  # reads are local system calls, not network round trips

    def __init__(self, root: Path | str, bucket: str = "local") -> None:
        self.bucket = bucket
        root_path = Path(root)
        root_path.mkdir(parents=True, exist_ok=True)
        self.root = root_path.resolve()
        self._root_str = str(self.root)
        self._meta_root = self.root / META_DIR
        self._meta_root_str = str(self._meta_root)
        self._gen_lock = threading.Lock()
        self._last_generation = 0

    # ------------------------------------------------------------------ paths
    def path_for(self, key: str) -> Path:
        """The file of a key (validated; never outside the root)."""
        return self.root / check_key(key)

    def _inside(self, path: Path | str) -> bool:
        text = os.fspath(path)
        if text.startswith(self._root_str + os.sep) and self._plain_stat(text) is not None:
            return True  # nothing below the root is a symlink: no need to resolve the whole path
        real = os.path.realpath(path)
        return real == self._root_str or real.startswith(self._root_str + os.sep)

    def _plain_stat(self, path: str) -> os.stat_result | None:
        """``lstat`` of each component of ``path`` below the (resolved) root, and the last result
        when none of them is a symlink (then ``path`` is inside the root as it stands); None when
        one is a symlink, a component is ``.``/``..``/empty, or a component cannot be read (the
        caller then resolves the path the careful way, ``realpath``).

        Cheaper than ``realpath``, which lstat-s every component of the absolute path in Python.
        """
        current = self._root_str
        st: os.stat_result | None = None
        try:
            for part in path[len(current) + 1 :].split(os.sep):
                if part in ("", ".", ".."):
                    return None
                current = f"{current}{os.sep}{part}"
                st = os.lstat(current)
                if stat_module.S_ISLNK(st.st_mode):
                    return None
        except OSError:
            return None
        return st

    def _existing_file(self, key: str) -> tuple[str, os.stat_result]:
        path = f"{self._root_str}{os.sep}{check_key(key)}"
        st = self._plain_stat(path)
        if st is None:  # a symlink on the way (or gone): follow it and check where it lands
            try:
                st = os.stat(path)
            except (FileNotFoundError, NotADirectoryError) as exc:
                raise NotFound(f"object {key!r} does not exist in bucket {self.bucket!r}") from exc
            if not _is_regular(st) or not self._inside(path):
                raise NotFound(f"object {key!r} does not exist in bucket {self.bucket!r}")
        elif not _is_regular(st):
            raise NotFound(f"object {key!r} does not exist in bucket {self.bucket!r}")
        return path, st

    def _meta_dir(self, key: str) -> Path:
        return Path(self._meta_dir_str(key))

    def _meta_dir_str(self, key: str) -> str:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return f"{self._meta_root_str}{os.sep}{digest[:2]}{os.sep}{digest}"

    # ------------------------------------------------------------------ metadata records
    def _read_record(self, key: str, st: os.stat_result) -> dict[str, Any] | None:
        try:
            raw = _read_small_file(f"{self._meta_dir_str(key)}{os.sep}{st.st_ino}.json")
            record = cast(dict[str, Any], orjson.loads(raw))
        except (OSError, orjson.JSONDecodeError):
            return None
        if not isinstance(record, dict):
            return None
        if record.get("key") != key or record.get("size") != st.st_size or record.get("mtime_ns") != st.st_mtime_ns:
            return None
        return record

    def _write_record(self, key: str, ino: int, record: dict[str, Any]) -> Path:
        folder = self._meta_dir(key)
        target = folder / f"{ino}.json"
        body = orjson.dumps(record)
        for attempt in range(3):
            tmp = folder / f"{TMP_PREFIX}{uuid.uuid4().hex}"
            try:
                folder.mkdir(parents=True, exist_ok=True)
                tmp.write_bytes(body)
                os.replace(tmp, target)
                return target
            except FileNotFoundError:  # a concurrent delete of the key removed the folder: again
                if attempt == 2:
                    raise
        return target

    def _prune_records(self, key: str, keep_ino: int | None) -> None:
        """Drop records of bytes that are gone. After a put, only records older than a grace
        period go: a concurrent writer may have just written its own, about to publish it."""
        folder = self._meta_dir(key)
        if keep_ino is None:
            shutil.rmtree(folder, ignore_errors=True)
            return
        cutoff = time.time() - RECORD_GRACE_SECONDS
        with contextlib.suppress(OSError):
            for entry in os.scandir(folder):
                if entry.name == f"{keep_ino}.json":
                    continue
                with contextlib.suppress(OSError):
                    if entry.stat().st_mtime < cutoff:
                        os.unlink(entry.path)

    def _info(self, key: str, st: os.stat_result, record: dict[str, Any] | None) -> BlobInfo:
        record = record or {}
        md5 = record.get("md5")
        return BlobInfo(
            bucket=self.bucket,
            key=key,
            size=st.st_size,
            generation=str(st.st_mtime_ns),
            etag=md5,
            md5=md5,
            content_type=record.get("content_type"),
            metadata=dict(record.get("metadata") or {}),
            updated=_iso_ns(st.st_mtime_ns),
        )

    def _describe(self, key: str) -> BlobInfo:
        """stat + metadata; files written behind our back get their md5 computed (and cached if large)."""
        path, st = self._existing_file(key)
        record = self._read_record(key, st)
        if record is not None:
            return self._info(key, st, record)
        for _ in range(3):
            digest = hashlib.md5()
            try:
                with open(path, "rb") as handle:
                    for chunk in iter(lambda: handle.read(CHUNK), b""):
                        digest.update(chunk)
                after = os.stat(path)
            except FileNotFoundError as exc:
                raise NotFound(f"object {key!r} does not exist in bucket {self.bucket!r}") from exc
            stable = (after.st_ino, after.st_size, after.st_mtime_ns) == (st.st_ino, st.st_size, st.st_mtime_ns)
            if stable:
                break
            st = after  # still being written: hash again
        record = {
            "key": key,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "md5": digest.hexdigest(),
            "content_type": None,
            "metadata": {},
        }
        if stable and (st.st_size >= MD5_CACHE_MIN_BYTES or self._has_record(key, st.st_ino)):
            # (a stale record of this inode, for bytes replaced in place, is replaced rather than left behind)
            with contextlib.suppress(OSError):
                self._write_record(key, st.st_ino, record)
        return self._info(key, st, record)

    def _has_record(self, key: str, ino: int) -> bool:
        return os.path.lexists(f"{self._meta_dir_str(key)}{os.sep}{ino}.json")

    # ------------------------------------------------------------------ writes
    def _next_generation(self, previous: int) -> int:
        with self._gen_lock:
            generation = max(time.time_ns(), previous + 1, self._last_generation + 1)
            self._last_generation = generation
            return generation

    def put(
        self,
        key: str,
        data: bytes | BinaryIO,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        if_generation_match: int | None = None,
    ) -> BlobInfo:
        path = self.path_for(key)
        metadata = dict(metadata or {})
        check_put_options(metadata, if_generation_match)
        if if_generation_match == 0 and os.path.lexists(path):
            raise Conflict(f"object {key!r} already exists")
        folder = self._make_parent(path, key)
        tmp = folder / f"{TMP_PREFIX}{uuid.uuid4().hex}"
        record_path: Path | None = None
        try:
            size, md5 = _write_file(tmp, data)
            previous = _mtime_ns(path)
            generation = self._next_generation(previous)
            os.utime(tmp, ns=(generation, generation))
            st = os.stat(tmp)
            record = {
                "key": key,
                "size": size,
                "mtime_ns": st.st_mtime_ns,
                "md5": md5,
                "content_type": content_type,
                "metadata": metadata,
            }
            record_path = self._write_record(key, st.st_ino, record)
            if if_generation_match == 0:
                self._publish_create_only(tmp, path, key)
            elif if_generation_match is not None:
                self._publish_if_generation(tmp, path, key, if_generation_match)
            else:
                os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            if record_path is not None:
                with contextlib.suppress(OSError):
                    os.unlink(record_path)
            raise
        self._prune_records(key, keep_ino=st.st_ino)
        return self._info(key, st, record)

    def _make_parent(self, path: Path, key: str) -> Path:
        folder = path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise Conflict(f"object key {key!r} runs through an existing object") from exc
        except OSError as exc:
            raise Unavailable(f"cannot create folder for {key!r}: {exc}") from exc
        if not self._inside(folder):
            raise Invalid(f"object key {key!r} resolves outside the bucket")
        return folder

    def _publish_create_only(self, tmp: Path, path: Path, key: str) -> None:
        try:
            os.link(tmp, path)
        except FileExistsError as exc:
            raise Conflict(f"object {key!r} already exists") from exc
        except OSError:  # a filesystem without hard links: fall back to a locked check-and-rename
            with self._bucket_lock():
                if os.path.lexists(path):
                    raise Conflict(f"object {key!r} already exists") from None
                os.replace(tmp, path)
                return
        os.unlink(tmp)

    def _publish_if_generation(self, tmp: Path, path: Path, key: str, expected: int) -> None:
        with self._bucket_lock():
            current = _mtime_ns(path)
            if current != expected:
                raise PreconditionFailed(f"object {key!r} is at generation {current or 'absent'}, not {expected}")
            os.replace(tmp, path)

    @contextlib.contextmanager
    def _bucket_lock(self) -> Iterator[None]:
        """A cross-process lock for conditional writes (rare: create-only uses ``os.link``)."""
        self._meta_root.mkdir(parents=True, exist_ok=True)
        with open(self._meta_root / ".lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # ------------------------------------------------------------------ reads
    def open(self, key: str) -> BinaryIO:
        path, _ = self._existing_file(key)
        try:
            return open(path, "rb")
        except FileNotFoundError as exc:
            raise NotFound(f"object {key!r} does not exist in bucket {self.bucket!r}") from exc

    def get(self, key: str) -> bytes:
        with self.open(key) as handle:
            return handle.read()

    def stat(self, key: str) -> BlobInfo:
        return self._describe(key)

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        for key in self.list_keys(prefix):
            try:
                yield self._describe(key)
            except NotFound:
                continue  # deleted while we were listing

    def list_keys(self, prefix: str = "") -> builtins.list[str]:
        """Every object key under ``prefix``, in key order (no stat, no hashing)."""
        _check_prefix(prefix)
        start = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not start.is_dir() or not self._inside(start):
            return []
        keys: builtins.list[str] = []
        for folder, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(RESERVED_PREFIX)]
            rel_folder = os.path.relpath(folder, self.root)
            for name in filenames:
                if name.startswith(RESERVED_PREFIX):
                    continue
                key = name if rel_folder == "." else f"{rel_folder}/{name}"
                if not key.startswith(prefix):
                    continue
                full = os.path.join(folder, name)
                if os.path.islink(full) and not self._inside(full):
                    continue
                try:
                    check_key(key)
                except Invalid:
                    continue  # not addressable as a key (e.g. a backslash in a file name)
                keys.append(key)
        keys.sort()
        return keys

    # ------------------------------------------------------------------ delete and copy
    def delete(self, key: str, *, missing_ok: bool = True) -> None:
        path = self.path_for(key)
        try:
            if not _is_regular(os.lstat(path)) and not os.path.islink(path):
                raise FileNotFoundError(key)
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError) as exc:
            if not missing_ok:
                raise NotFound(f"object {key!r} does not exist in bucket {self.bucket!r}") from exc
        self._prune_records(key, keep_ino=None)
        self._prune_folders(path.parent)

    def _prune_folders(self, folder: Path) -> None:
        """Remove empty folders up to (not including) the first level: catalog folders stay."""
        while folder != self.root and folder.parent != self.root:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix`` (and, for a folder prefix, the folder). Idempotent."""
        count = 0
        for key in self.list_keys(prefix):
            self.delete(key)
            count += 1
        if prefix.endswith("/"):
            folder = self.root / prefix.rstrip("/")
            if folder.is_dir() and self._inside(folder) and folder != self.root:
                shutil.rmtree(folder, ignore_errors=True)
        return count

    def copy(self, source_key: str, dest_key: str) -> BlobInfo:
        info = self.stat(source_key)
        check_key(dest_key)
        with self.open(source_key) as handle:
            return self.put(dest_key, handle, content_type=info.content_type, metadata=info.metadata)

    # ------------------------------------------------------------------ addressing
    def href(self, key: str) -> str:
        # what ``path_for(key).as_uri()`` gives, without building a Path
        return "file://" + quote_from_bytes(os.fsencode(f"{self._root_str}{os.sep}{check_key(key)}"))

    def key_for_href(self, href: str) -> str | None:
        if not isinstance(href, str) or not href.startswith("file://"):
            return None
        return key_under(unquote(urlparse(href).path), self._root_str.rstrip("/") + "/", check_key)

    def signed_url(
        self,
        key: str,
        *,
        method: Literal["GET", "PUT"] = "GET",
        expires_seconds: int = 900,
        content_type: str | None = None,
    ) -> str | None:
        """Always None: the local API streams bytes itself."""
        check_key(key)
        return None

    def health(self) -> None:
        if not self.root.is_dir() or not os.access(self.root, os.W_OK | os.X_OK):
            raise Unavailable(f"the bucket folder {self.root} is missing or not writable")

    def for_bucket(self, bucket: str) -> FolderBlobStore:
        """This store for its own name; the local backend has no other bucket (``NotFound``)."""
        if bucket == self.bucket:
            return self
        if not isinstance(bucket, str) or not bucket:
            raise Invalid("a bucket name must be a non-empty string")
        raise NotFound(
            f"bucket {bucket!r} does not exist: the local backend has one bucket, {self.bucket!r} ({self.root})"
        )

    def close(self) -> None:
        """Nothing to release."""


def _is_regular(st: os.stat_result) -> bool:
    return stat_module.S_ISREG(st.st_mode)


def _read_small_file(path: str) -> bytes:
    """The bytes of a small file with plain system calls (``open()`` builds two file objects first)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _mtime_ns(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except (FileNotFoundError, NotADirectoryError):
        return 0


def _write_file(tmp: Path, data: bytes | BinaryIO) -> tuple[int, str]:
    """Stream ``data`` into a new file (fsynced); returns (size, md5 hex)."""
    digest = hashlib.md5()
    size = 0
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as out:
        if isinstance(data, bytes | bytearray | memoryview):
            chunk = bytes(data)
            out.write(chunk)
            digest.update(chunk)
            size = len(chunk)
        else:
            for piece in iter(lambda: data.read(CHUNK), b""):
                out.write(piece)
                digest.update(piece)
                size += len(piece)
        out.flush()
        os.fsync(out.fileno())
    return size, digest.hexdigest()
