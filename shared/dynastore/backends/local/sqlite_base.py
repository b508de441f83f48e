"""SQLite plumbing shared by the local metadata store and task queue.

One connection per thread (``threading.local``): the FastAPI threadpool, the task worker and the
folder watcher each get their own, so no connection is ever used by two threads at once. The
database runs in WAL mode (readers never block the writer) with a ``busy_timeout``; every write
opens with ``BEGIN IMMEDIATE`` so two writers queue on the lock instead of deadlocking on a
read-to-write upgrade. Nothing keeps a cursor open across calls: results are fetched in full.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import orjson

from dynastore.backends.local.grams import short_tokens
from dynastore.backends.local.sqlite_schema import PAGE_SIZE
from dynastore.domain.asset_record import stored_record_json
from dynastore.domain.filters import compile_like, geometry_intersects
from dynastore.domain.gc_pause import gc_paused as gc_paused  # re-exported
from dynastore.domain.limits import budget_exceeded, past_deadline
from dynastore.errors import Unavailable

BUSY_TIMEOUT_MS = 15_000
# Page cache per connection, in KiB. There is one connection per thread that touches the database
# (the request threadpool, anyio's default of 40, plus the worker and watcher threads), so the
# cache is kept modest: 8 MiB x ~42 threads bounds it near 340 MiB even when every thread is busy,
# where 64 MiB each grew to gigabytes under sustained search load. Hot pages not in it come from
# the OS page cache, which all connections share.
CACHE_SIZE_KIB = 8 * 1024
# Bytes of the database file read through a memory map: pages come straight from the OS page cache
# (shared by every connection) instead of being copied into each connection's cache (a page of
# 1,000 items by id reads 10-30 % faster). Virtual address space only; the WAL is read as before.
MMAP_SIZE = 1 << 30
# How many SQLite VM steps run between two checks of the search time budget (a check costs ~1 us;
# 10,000 steps take ~0.1 ms).
PROGRESS_STEPS = 10_000


def _py_lower(value: Any) -> Any:
    """Unicode lower case (SQLite's ``lower`` folds ASCII only); non-text passes through."""
    return value.lower() if isinstance(value, str) else value


def _py_like(pattern: str, casei: int, value: Any) -> int:
    """CQL2 LIKE with the exact semantics of ``domain.filters`` (``%``, ``_``, ``\\`` escapes),
    by the same linear-time matcher."""
    if not isinstance(value, str):
        return 0
    return 1 if compile_like(pattern, bool(casei))(value) else 0


def _asset_record(doc: Any) -> str | None:
    """The SQL function ``asset_record(doc)``: ``stored_record_json`` of a stored asset (migration 3)."""
    return stored_record_json(orjson.loads(doc)) if isinstance(doc, str) else None


def _progress() -> int:
    """SQLite progress handler: a non-zero answer interrupts the statement (search time budget)."""
    return 1 if past_deadline() else 0


@functools.lru_cache(maxsize=64)
def _geometry(text: str) -> Any:
    return orjson.loads(text)


def _geo_intersects(value_type: str | None, value_json: Any, geometry_json: str) -> int:
    """``domain.filters.geometry_intersects`` over a JSON value (object or array) of a row."""
    if value_type not in ("object", "array") or not isinstance(value_json, str):
        return 0
    try:
        value = orjson.loads(value_json)
    except orjson.JSONDecodeError:
        return 0
    return 1 if geometry_intersects(value, _geometry(geometry_json)) else 0


def _json_truthy(value_type: str | None, value: Any) -> bool:
    """Python truthiness of a JSON value given as (``json_type``, ``json_extract``)."""
    if value_type in (None, "null", "false"):
        return False
    if value_type == "object":
        return value != "{}"
    if value_type == "array":
        return value != "[]"
    if value_type in ("integer", "real"):
        return bool(value)
    if value_type == "text":
        return value != ""
    return True


def _item_geo_intersects(
    geom_type: str | None, geom_json: Any, bbox_type: str | None, bbox_json: Any, geometry_json: str
) -> int:
    """An item meets a geometry through ``geometry or bbox`` (``domain.search.item_matches``)."""
    if _json_truthy(geom_type, geom_json):
        return _geo_intersects(geom_type, geom_json, geometry_json)
    return _geo_intersects(bbox_type, bbox_json, geometry_json)


class SqliteDatabase:
    """A SQLite file shared by the threads of one process (and by other processes)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._closed = False
        self._savepoints = 0

    # ------------------------------------------------------------------ connections
    def connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if self._closed:
            raise Unavailable(f"the database {self.path} is closed")
        try:
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # a new file only: before WAL writes its header
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = OFF")
            conn.execute("PRAGMA temp_store = MEMORY")
            conn.execute(f"PRAGMA cache_size = -{CACHE_SIZE_KIB}")
            conn.execute(f"PRAGMA mmap_size = {MMAP_SIZE}")
        except sqlite3.Error as exc:
            raise Unavailable(f"cannot open the SQLite database {self.path}: {exc}") from exc
        conn.create_function("py_lower", 1, _py_lower, deterministic=True)
        conn.create_function("py_like", 3, _py_like, deterministic=True)
        conn.create_function("geo_intersects", 3, _geo_intersects, deterministic=True)
        conn.create_function("item_geo_intersects", 5, _item_geo_intersects, deterministic=True)
        conn.create_function("short_tokens", 1, short_tokens, deterministic=True)
        conn.create_function("asset_record", 1, _asset_record, deterministic=True)
        conn.set_progress_handler(_progress, PROGRESS_STEPS)
        self._local.conn = conn
        with self._lock:
            # connections of threads that have ended are closed here (nobody can use them any more)
            ended = [c for thread, c in self._connections if not thread.is_alive()]
            self._connections = [(t, c) for t, c in self._connections if t.is_alive()]
            self._connections.append((threading.current_thread(), conn))
        for old in ended:
            with suppress(sqlite3.Error):
                old.close()
        return conn

    def close(self) -> None:
        """Close every connection this object opened (from any thread)."""
        with self._lock:
            self._closed = True
            connections, self._connections = [c for _, c in self._connections], []
        for conn in connections:
            with suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()

    # ------------------------------------------------------------------ statements
    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``): committed on success, rolled back on error."""
        conn = self.connection()
        if conn.in_transaction:  # nested inside a write (``batch``): a savepoint, undone on error
            name = f"sp{id(conn)}_{self._savepoints}"
            self._savepoints += 1
            conn.execute(f"SAVEPOINT {name}")
            try:
                yield conn
            except BaseException:
                with suppress(sqlite3.Error):
                    conn.execute(f"ROLLBACK TO {name}")
                    conn.execute(f"RELEASE {name}")
                raise
            else:
                conn.execute(f"RELEASE {name}")
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise Unavailable(f"the database is busy: {exc}") from exc
        try:
            yield conn
        except BaseException:
            _rollback(conn)
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                _rollback(conn)
                raise Unavailable(f"the database could not commit: {exc}") from exc

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: the statements inside see one consistent snapshot."""
        conn = self.connection()
        if conn.in_transaction:
            yield conn
            return
        try:
            conn.execute("BEGIN")
        except sqlite3.OperationalError as exc:
            raise _translate(exc) from exc
        try:
            yield conn
        finally:
            _rollback(conn)

    def query(self, sql: str, params: Any = ()) -> list[Any]:
        """Run a read statement and fetch every row."""
        try:
            return self.connection().execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            raise _translate(exc) from exc

    def query_one(self, sql: str, params: Any = ()) -> Any:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def executescript(self, script: str) -> None:
        conn = self.connection()
        try:
            conn.executescript(script)
        except sqlite3.OperationalError as exc:
            raise _translate(exc) from exc

    def health(self) -> None:
        try:
            self.connection().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise Unavailable(f"SQLite database {self.path} is not usable: {exc}") from exc


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


def _translate(exc: sqlite3.OperationalError) -> Exception:
    text = str(exc)
    if "interrupted" in text and past_deadline():
        return budget_exceeded()
    if "locked" in text or "busy" in text:
        return Unavailable(f"the database is busy: {text}")
    return exc
