"""Where the SQLite writer's time goes in a full load (issue 14): ``vs_pgstac.py``'s data (20,000
items x 5 assets + one item with 10,000 assets, ``datagen``) loaded in process on the local backend,
one ``dynastore load`` batch after another, with every statement timed. Prints the process CPU, the
wall time, the seconds the write lock was held, the SQL seconds and the statements by total time.

    .venv/bin/python scripts/bench/load_sql.py [--items 20000] [--big-assets 10000] [--batch 1000] [--top 12]

With ``dynastore load --workers auto`` the batches run side by side, but only one holds the write
lock at a time: the lock-held total is the part no number of workers can shorten. A report, not a
test (it never fails on the figures).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python scripts/bench/<name>.py`

from scripts.bench import datagen  # noqa: E402
from scripts.bench.load_workers import CATALOG, prepare, services  # noqa: E402

from dynastore.backends.local import sqlite_base  # noqa: E402
from dynastore.services.stac.bulk_load import file_chunks, parse_chunk  # noqa: E402

SECONDS: collections.defaultdict[str, float] = collections.defaultdict(float)
CALLS: collections.Counter[str] = collections.Counter()
HELD = [0.0]


def _name(sql: str, many: bool) -> str:
    text = re.sub(r"\s+", " ", sql.strip())
    text = re.sub(r"sp\d+_\d+", "sp", text)  # savepoint names
    return ("MANY " if many else "") + text[:100]


class _Rows(list[Any]):
    def fetchall(self) -> list[Any]:
        return list(self)

    def fetchone(self) -> Any:
        return self[0] if self else None


class _TimedConnection:
    """A connection whose ``execute``/``executemany`` are timed (a query's rows fetched inside the timing)."""

    def __init__(self, conn: Any) -> None:
        object.__setattr__(self, "_conn", conn)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def execute(self, sql: str, *args: Any) -> Any:
        started = time.perf_counter()
        cursor = self._conn.execute(sql, *args)
        result = _Rows(cursor.fetchall()) if cursor.description is not None else cursor
        SECONDS[_name(sql, False)] += time.perf_counter() - started
        CALLS[_name(sql, False)] += 1
        return result

    def executemany(self, sql: str, *args: Any) -> Any:
        started = time.perf_counter()
        result = self._conn.executemany(sql, *args)
        SECONDS[_name(sql, True)] += time.perf_counter() - started
        CALLS[_name(sql, True)] += 1
        return result


def _instrument() -> None:
    connection, write = sqlite_base.SqliteDatabase.connection, sqlite_base.SqliteDatabase.write

    def timed_connection(self: Any) -> Any:
        conn: Any = connection(self)
        if not isinstance(conn, _TimedConnection):
            conn = _TimedConnection(conn)
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def timed_write(self: Any) -> Iterator[Any]:
        outer = not self.connection().in_transaction
        started = time.perf_counter()
        with write(self) as conn:
            yield conn
        if outer:
            HELD[0] += time.perf_counter() - started

    sqlite_base.SqliteDatabase.connection = timed_connection  # type: ignore[method-assign]
    sqlite_base.SqliteDatabase.write = timed_write  # type: ignore[assignment,method-assign]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--big-assets", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dynastore-load-sql-"))
    try:
        paths = datagen.write(work / "files", args.items, args.big_assets, args.seed)
        data_dir = work / "data"
        prepare(data_dir)
        _instrument()
        svc = services(data_dir)
        wall, cpu = time.perf_counter(), time.process_time()
        for name, collection in (("items", datagen.COLLECTION), ("big", datagen.BIG_COLLECTION)):
            for first, chunk in file_chunks(paths[name], args.batch):
                batch = parse_chunk(chunk, first, lines=True)
                svc.stac.create_items(CATALOG, collection, batch, actor="bench", upsert=True, lines=True, first=first)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        svc.close()
        print(
            f"{args.items:,} items x 5 assets + 1 x {args.big_assets:,}, batches of {args.batch}: "
            f"{cpu:.2f} s CPU, {wall:.2f} s wall, write lock held {HELD[0]:.2f} s, SQL {sum(SECONDS.values()):.2f} s"
        )
        for statement, seconds in sorted(SECONDS.items(), key=lambda kv: -kv[1])[: args.top]:
            print(f"{seconds:7.3f} s {CALLS[statement]:5d}x  {statement}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
