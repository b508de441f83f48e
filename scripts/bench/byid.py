"""1,000 items by id (issue 14): POST ``/stac/catalogs/{c}/search`` with ``{"ids": [...], "limit": 1000}``
on the local backend, over uvicorn (``served_client``) and in-process (cProfile of the app call).

Loads ``datagen``'s items (20,000 x 5 assets by default, ``create_items`` like ``dynastore load``) into
``--data-dir`` once, then prints the median wall and CPU time of ``--runs`` requests over HTTP.

    .venv/bin/python scripts/bench/byid.py [--items 20000] [--runs 20] [--data-dir DIR] [--profile]

A report, not a test: it prints figures and never fails on them.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from dynastore.bootstrap import bootstrap
from dynastore.config import Settings

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as `python scripts/bench/<name>.py`

from scripts.bench import datagen  # noqa: E402
from scripts.bench.served import served_client  # noqa: E402

CATALOG = "vs-pgstac"
BATCH = 1000


def load(services: object, items: int, seed: int) -> None:
    stac = services.stac  # type: ignore[attr-defined]
    services.catalogs.create({"id": CATALOG, "title": "by id"}, actor="bench")  # type: ignore[attr-defined]
    for doc in datagen.collections():
        stac.create_collection(CATALOG, doc, actor="bench")
    batch: list[dict[str, object]] = []
    for doc in datagen.items(items, seed):
        batch.append(doc)
        if len(batch) == BATCH:
            stac.create_items(CATALOG, datagen.COLLECTION, batch, actor="bench", upsert=True)
            batch = []
    if batch:
        stac.create_items(CATALOG, datagen.COLLECTION, batch, actor="bench", upsert=True)


@contextmanager
def wrapped_answer(wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Iterator[None]:
    """The item search's answer (parse, search, render: the worker thread's part) replaced by ``wrap(answer)``."""
    from dynastore.api.routes import stac_search

    search = stac_search.SEARCHES[0]
    answer = search.answer
    object.__setattr__(search, "answer", wrap(answer))
    try:
        yield
    finally:
        object.__setattr__(search, "answer", answer)


def profiled_answer(profile: cProfile.Profile) -> AbstractContextManager[None]:
    return wrapped_answer(lambda answer: lambda *args: profile.runcall(answer, *args))


def timed_answer(samples: list[float]) -> AbstractContextManager[None]:
    """Append the worker thread's CPU milliseconds of each answer (less noisy than wall time)."""

    def wrap(answer: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any) -> Any:
            started = time.thread_time()
            try:
                return answer(*args)
            finally:
                samples.append((time.thread_time() - started) * 1000)

        return timed

    return wrapped_answer(wrap)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", default=None, help="reused when it holds the data already")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of 5 requests")
    parser.add_argument("--collections", action="store_true", help="also name the collection in the body")
    args = parser.parse_args()

    data_dir = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="dynastore-byid-"))
    settings = Settings(
        data_dir=data_dir,
        backend="local",
        api_keys="bench-key:admin",
        watch_bucket=False,
        href_allowed_prefixes=datagen.HREF_BASE,
    )
    services = bootstrap(settings)
    try:
        services.adapters.store.get_catalog(CATALOG)
    except Exception:
        print(f"generating {args.items:,} items x 5 assets in {data_dir}", file=sys.stderr)
        load(services, args.items, args.seed)
    ids = datagen.sample_ids(args.items, 1000, args.seed)
    body: dict[str, object] = {"ids": ids, "limit": len(ids)}
    if args.collections:
        body["collections"] = [datagen.COLLECTION]
    path = f"/stac/catalogs/{CATALOG}/search"
    with served_client(services) as client:
        first = client.post(path, json=body)
        first.raise_for_status()
        print(f"{len(first.json()['features'])} features, {len(first.content) / 1e6:.2f} MB")
        times, cpu = [], []
        for _ in range(args.runs):
            started, cpu_started = time.perf_counter(), time.process_time()
            client.post(path, json=body).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
        answer_cpu: list[float] = []
        with timed_answer(answer_cpu):
            for _ in range(args.runs):
                client.post(path, json=body).raise_for_status()
        print(
            f"POST search ids x{len(ids)}: median {statistics.median(times):.1f} ms (min {min(times):.1f}), "
            f"process cpu median {statistics.median(cpu):.1f} ms, answer thread cpu median "
            f"{statistics.median(answer_cpu):.1f} ms (min {min(answer_cpu):.1f}), runs {args.runs}"
        )
        if args.profile:
            profile = cProfile.Profile()
            with profiled_answer(profile):
                for _ in range(5):
                    client.post(path, json=body).raise_for_status()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    services.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
