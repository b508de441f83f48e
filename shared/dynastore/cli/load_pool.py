"""How ``dynastore load`` runs its batches: in this process (``--workers 1``), or on a pool of worker
processes that each bootstrap the service and run whole batches (parse, validate, build the rows,
write). SQLite has one writer at a time: a worker's write transaction (``BEGIN IMMEDIATE``) waits
on the lock (busy timeout) while the others parse and validate their next batch, so validation
and writing overlap. Every batch stays one all-or-nothing upsert; what was written is reported as
``Outcome``s, one per batch, in the order the batches finish."""

from __future__ import annotations

import argparse
import queue
import signal
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dynastore.errors import Conflict, DynastoreError
from dynastore.services.stac.bulk_load import parse_chunk

if TYPE_CHECKING:
    from dynastore.bootstrap import Services

# A write of a batch can meet another worker's write of the same item id (a file naming an item
# twice, in two batches written at once): the batch is then validated again against the stored item.
CONFLICT_ATTEMPTS = 3


@dataclass(frozen=True)
class Outcome:
    """One batch: records ``first`` .. ``last`` of the file (lines, or ``features`` indexes)."""

    first: int
    size: int  # records in the batch (lines, blank ones included)
    loaded: int  # items written (0 when the batch failed)
    error: str | None = None

    @property
    def last(self) -> int:
        return self.first + self.size - 1


Chunks = Iterable[tuple[int, list[Any]]]
Done = Callable[[Outcome], None]


def load_chunk(services: Services, args: argparse.Namespace, first: int, chunk: list[Any], lines: bool,
               attempts: int = 1) -> Outcome:
    """Parse, validate and write one batch (``file_chunks``), all-or-nothing, as an upsert."""
    for attempt in range(1, attempts + 1):
        try:
            batch = parse_chunk(chunk, first, lines=lines)
            if batch:  # a last chunk of blank lines only has no items
                services.stac.create_items(
                    args.catalog, args.collection, batch, actor="cli", upsert=True, lines=lines, first=first
                )
            return Outcome(first, len(chunk), len(batch))
        except Conflict as exc:
            if attempt == attempts:
                return Outcome(first, len(chunk), 0, exc.detail)
        except DynastoreError as exc:
            return Outcome(first, len(chunk), 0, exc.detail)
    raise AssertionError("unreachable")  # pragma: no cover


class Interrupted(Exception):
    """Ctrl-C: the load stopped. ``unsure``: the ``(first, last)`` records of batches that were being
    written when it stopped (each is written whole or not at all; a re-run settles it)."""

    def __init__(self, unsure: list[tuple[int, int]]) -> None:
        super().__init__("interrupted")
        self.unsure = unsure


class CtrlC:
    """While entered, the first Ctrl-C only sets ``requested`` (the load sends no more batches and
    finishes those being written, so what it reports is exact); the second raises KeyboardInterrupt."""

    def __init__(self) -> None:
        self.requested = False

    def __enter__(self) -> CtrlC:
        self._previous = signal.signal(signal.SIGINT, self._first)
        return self

    def _first(self, *_: object) -> None:
        self.requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)
        print("\ndynastore load: stopping after the batches being written (Ctrl-C again: at once)", file=sys.stderr)

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)


def load_serial(services: Services, args: argparse.Namespace, chunks: Chunks, lines: bool, done: Done,
                stop: CtrlC) -> None:
    """The batches one after the other, in this process; stops at the first failing one."""
    for first, chunk in chunks:
        if stop.requested:
            raise Interrupted([])
        try:
            outcome = load_chunk(services, args, first, chunk, lines)
        except BaseException:
            if stop.requested:  # the second Ctrl-C, inside the write (sqlite3 turns it into its own error)
                raise Interrupted([(first, first + len(chunk) - 1)]) from None
            raise
        done(outcome)
        if outcome.error is not None:
            return
    if stop.requested:
        raise Interrupted([])


def load_pooled(args: argparse.Namespace, chunks: Chunks, lines: bool, workers: int, done: Done,
                stop: CtrlC) -> None:
    """The batches on ``workers`` forked processes, at most two per worker in flight (the file is read
    as they go). After a failing batch, or Ctrl-C, nothing more is sent and the batches in flight
    finish (each reported). A second Ctrl-C terminates the workers at once (a batch being written is
    rolled back by SQLite, or was committed just before: ``unsure``)."""
    import multiprocessing

    results: queue.Queue[Outcome | BaseException] = queue.Queue()
    # fork: the workers start at once with everything imported; the caller opens no connection
    # and starts no thread before this (the progress bar starts after).
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_start_worker, initargs=(args,))
    in_flight: dict[int, int] = {}  # first record -> last record of each batch sent and not reported
    failed = False

    def collect() -> None:
        nonlocal failed
        got = results.get()
        if isinstance(got, BaseException):
            raise got
        del in_flight[got.first]
        failed = failed or got.error is not None
        done(got)

    try:
        for first, chunk in chunks:
            while len(in_flight) >= 2 * workers:
                collect()
            if failed or stop.requested:
                break
            in_flight[first] = first + len(chunk) - 1
            pool.apply_async(
                _load_in_worker, (first, chunk, lines), callback=results.put, error_callback=results.put
            )
        while in_flight:
            collect()
        pool.close()
        pool.join()
    except KeyboardInterrupt:
        raise Interrupted(sorted(in_flight.items())) from None
    finally:
        pool.terminate()
    if stop.requested:
        raise Interrupted([])


_worker: tuple[Services, argparse.Namespace] | None = None


def _start_worker(args: argparse.Namespace) -> None:
    from multiprocessing.util import Finalize

    from dynastore.cli.indexing import _services

    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it terminates the pool
    services = _services(args)
    Finalize(services, services.close, exitpriority=10)
    _worker = (services, args)


def _load_in_worker(first: int, chunk: list[Any], lines: bool) -> Outcome:
    assert _worker is not None, "the pool's initializer bootstraps the worker"
    services, args = _worker
    return load_chunk(services, args, first, chunk, lines, attempts=CONFLICT_ATTEMPTS)
