"""Side by side with stac-fastapi-pgstac: same data, same machine, interleaved runs, ratios peer/us.

    .venv/bin/python scripts/bench/vs_pgstac.py                 # 20,000 items x 5 assets + one 10,000-asset item
    .venv/bin/python scripts/bench/vs_pgstac.py --quick         # 2,000 items (smoke run)
    options: --runs N (20), --only load|reads|assets-1m, --assets-1m (add that mode), --keep,
             --peer-hydrate api|db, --items N, --big-assets N, --seed N

How it measures:

- The peer (``pgstac_env.py``): PostgreSQL 15 + PostGIS (Debian packages), pgstac migrated by pypgstac,
  stac-fastapi-pgstac under uvicorn (one worker). Us: this checkout's app on the local backend under
  uvicorn (one worker, a temporary data dir), in a subprocess like the peer.
- Data (``datagen.py``): deterministic NDJSON written once; both sides load those files. Peer:
  ``pypgstac load items`` (method insert). Us: ``dynastore load`` when the CLI has it, else
  FeatureCollection POSTs of 500 items over HTTP. "full load" times the items (+ the big item),
  not the catalog/collections.
- Reads: one httpx client per side (keep-alive), 2 warm-up calls, then ``--runs`` rounds of
  peer, us, peer, us, ... per workload; median and p95 (nearest rank) in ms; ratio = peer median /
  our median (> 1: we are faster). Bytes are the response body of the last run.
- ``--assets-1m``: 1,000,000 assets loaded in-process through the bulk path (``bulk.py``'s
  generator), then ``/assets/search?q=`` over HTTP for q lengths 1..6 (a frequent and an absent
  text per length): p50/p95 per q.

A report, not a test: it prints figures and never fails on them.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from scripts.bench import datagen  # noqa: E402
from scripts.bench.pgstac_env import Peer, free_port, log, peer_versions, wait_http  # noqa: E402

CATALOG = "bench"
KEY = "bench-key"
LOAD_BATCH = 500
# CASEI on both sides: pgstac 0.10 answers no match for `CASEI(platform) LIKE '%sat-9%'` (we answer 1 item in 20).
CQL2 = "CASEI(platform) LIKE CASEI('%sat-9%')"

Call = Callable[[], tuple[int, int]]  # one request; returns (body bytes, bytes received: compressed if it was)


# ------------------------------------------------------------------------------ pure parts (unit-tested)


def median_p95(samples: Sequence[float]) -> tuple[float, float]:
    """Median and nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def ratio(peer: float | None, us: float | None) -> str:
    if not peer or not us:
        return "—"
    value = peer / us
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value / 1000:.2f} s" if value >= 1_000 else f"{value:.1f} ms"


def fmt_bytes(value: int | None, wire: int | None = None) -> str:
    """The body's size, and what crossed the wire when the server compressed it."""
    if value is None:
        return ""

    def size(n: int) -> str:
        return f"{n / 1e6:.2f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"

    return size(value) + (f" ({size(wire)} sent)" if wire is not None and wire < value else "")


@dataclass
class Row:
    workload: str
    peer: list[float] = field(default_factory=list)  # ms
    us: list[float] = field(default_factory=list)
    peer_bytes: int | None = None
    us_bytes: int | None = None
    peer_wire: int | None = None
    us_wire: int | None = None


def table(rows: Sequence[Row]) -> str:
    """A Markdown table: median and p95 per side, the ratio of medians, bytes."""
    lines = [
        "| workload | peer median | peer p95 | us median | us p95 | peer / us | bytes peer | bytes us |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        peer = median_p95(row.peer) if row.peer else (None, None)
        us = median_p95(row.us) if row.us else (None, None)
        cells = [
            row.workload,
            fmt_ms(peer[0]),
            fmt_ms(peer[1]),
            fmt_ms(us[0]),
            fmt_ms(us[1]),
            ratio(peer[0], us[0]),
            fmt_bytes(row.peer_bytes, row.peer_wire),
            fmt_bytes(row.us_bytes, row.us_wire),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def batches(lines: Iterator[bytes], size: int) -> Iterator[bytes]:
    """FeatureCollection bodies of ``size`` NDJSON lines each, spliced without re-encoding."""
    chunk: list[bytes] = []
    for line in lines:
        if line.strip():
            chunk.append(line.strip())
        if len(chunk) == size:
            yield b'{"type":"FeatureCollection","features":[' + b",".join(chunk) + b"]}"
            chunk = []
    if chunk:
        yield b'{"type":"FeatureCollection","features":[' + b",".join(chunk) + b"]}"


# ------------------------------------------------------------------------------ our side


def our_env(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DYNASTORE_BACKEND": "local",
        "DYNASTORE_DATA_DIR": str(data_dir),
        "DYNASTORE_API_KEYS": f"{KEY}:admin",
        "DYNASTORE_WATCH_BUCKET": "false",
        "DYNASTORE_HREF_ALLOWED_PREFIXES": datagen.HREF_BASE,
        "DYNASTORE_LOG_LEVEL": "WARNING",
    }


def serve_ours(port: int) -> int:
    """The ``--serve-ours`` subprocess: the app on uvicorn, settings from the environment."""
    import uvicorn

    from dynastore.api.app import create_app
    from dynastore.bootstrap import bootstrap

    uvicorn.run(create_app(bootstrap()), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    return 0


def dynastore_load_cli() -> list[str] | None:
    """``dynastore load`` when this checkout has it (its ``--help`` answers), else None."""
    exe = Path(sys.executable).with_name("dynastore")
    if not exe.exists():
        return None
    probe = subprocess.run([str(exe), "load", "--help"], capture_output=True, text=True)
    return [str(exe), "load"] if probe.returncode == 0 else None


@dataclass
class Ours:
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="dynastore-vs-pgstac-")))
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    load_method: str = ""

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Ours:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-ours", str(self.port)], env=our_env(self.data_dir)
        )
        wait_http(f"{self.url}/health", self.proc)
        log(f"dynastore (local backend) on {self.url}, data in {self.data_dir}")
        return self

    def prepare(self, client: Any) -> None:
        """The catalog and the two collections (not timed, like the peer's collections)."""
        client.post("/assets/catalogs", json={"id": CATALOG, "title": "vs pgstac"}).raise_for_status()
        for doc in datagen.collections():
            client.post(f"/stac/catalogs/{CATALOG}/collections", json=doc).raise_for_status()

    def load(self, client: Any, paths: dict[str, Path]) -> float:
        cli = dynastore_load_cli()
        files = [(paths["items"], datagen.COLLECTION), (paths["big"], datagen.BIG_COLLECTION)]
        started = time.perf_counter()
        if cli:
            self.load_method = "dynastore load --workers auto (CLI)"
            for path, collection in files:
                subprocess.run(
                    [*cli, str(path), "--catalog", CATALOG, "--collection", collection, "--workers", "auto"],
                    check=True,
                    env=our_env(self.data_dir),
                    stdout=subprocess.DEVNULL,
                )
            return time.perf_counter() - started
        self.load_method = f"FeatureCollection POST over HTTP, {LOAD_BATCH} items per request"
        for path, collection in files:
            with path.open("rb") as lines:
                for body in batches(iter(lines), LOAD_BATCH):
                    response = client.post(
                        f"/stac/catalogs/{CATALOG}/collections/{collection}/items",
                        content=body,
                        headers={"Content-Type": "application/json"},
                    )
                    if response.status_code >= 400:
                        raise SystemExit(f"our load failed: {response.status_code} {response.text[:500]}")
        return time.perf_counter() - started

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


# ------------------------------------------------------------------------------ workloads


def get(client: Any, path: str, **params: Any) -> Call:
    def call() -> tuple[int, int]:
        response = client.get(path, params=params)
        response.raise_for_status()
        return len(response.content), response.num_bytes_downloaded

    return call


def post(client: Any, path: str, body: dict[str, Any]) -> Call:
    def call() -> tuple[int, int]:
        response = client.post(path, json=body)
        response.raise_for_status()
        return len(response.content), response.num_bytes_downloaded

    return call


def interleave(name_calls: list[tuple[Row, str, Call]], runs: int, warmup: int = 2) -> None:
    """Warm up each call, then ``runs`` rounds calling each in turn; samples go to the rows."""
    for _, _, call in name_calls:
        for _ in range(warmup):
            call()
    for _ in range(runs):
        for row, side, call in name_calls:
            started = time.perf_counter()
            size, wire = call()
            elapsed = (time.perf_counter() - started) * 1000
            getattr(row, side).append(elapsed)
            setattr(row, f"{side}_bytes", size)
            setattr(row, f"{side}_wire", wire)


def reads(peer: Any, us: Any, items: int, big_assets: int, seed: int, runs: int) -> list[Row]:
    base = f"/stac/catalogs/{CATALOG}"
    big_path = f"/collections/{datagen.BIG_COLLECTION}/items/{datagen.BIG_ITEM}"
    ids = datagen.sample_ids(items, 1000, seed)
    asset_ids = [f"{i}.{key}" for i in ids for key in datagen.ASSET_KEYS]
    n = len(ids)
    big = Row(f"all {big_assets:,} assets of one item (peer: item GET; us: item assets, limit={big_assets})")
    big_item = Row("  … us: the item GET instead (embeds ≤ 100 assets + an assets link)")
    page = Row(f"search page of 100 (`collections={datagen.COLLECTION}&limit=100`)")
    cql = Row(f"`{CQL2}` page of 100 (cql2-text)")
    by_id = Row(f"{n:,} items by id (POST search `ids`, limit {n})")
    bulk = Row(f"  … us: `/assets/bulk-get` of those items' {len(asset_ids):,} assets")
    cql_params = {"collections": datagen.COLLECTION, "limit": 100, "filter": CQL2, "filter-lang": "cql2-text"}
    peer_big = get(peer, big_path)
    plan = [
        [
            (big, "peer", peer_big),
            (big, "us", get(us, f"{base}{big_path}/assets", limit=big_assets)),
            (big_item, "peer", peer_big),
            (big_item, "us", get(us, f"{base}{big_path}")),
        ],
        [
            (page, "peer", get(peer, "/search", collections=datagen.COLLECTION, limit=100)),
            (page, "us", get(us, f"{base}/search", collections=datagen.COLLECTION, limit=100)),
        ],
        [(cql, "peer", get(peer, "/search", **cql_params)), (cql, "us", get(us, f"{base}/search", **cql_params))],
        [
            (by_id, "peer", post(peer, "/search", {"ids": ids, "limit": n})),
            (by_id, "us", post(us, f"{base}/search", {"ids": ids, "limit": n})),
            (bulk, "us", post(us, "/assets/bulk-get", {"catalog_id": CATALOG, "ids": asset_ids})),
        ],
    ]
    check_answers(peer, us, base, cql_params, ids, asset_ids)
    for calls in plan:
        log(f"timing: {calls[0][0].workload}")
        interleave(calls, runs)
    return [big, big_item, page, cql, by_id, bulk]


def check_answers(peer: Any, us: Any, base: str, cql: dict[str, Any], ids: list[str], asset_ids: list[str]) -> None:
    """Both sides answer the same number of records (else the comparison is void): say so if not."""

    def count(response: Any, key: str = "features") -> int:
        response.raise_for_status()
        return len(response.json()[key])

    pairs = {
        "search page": (
            count(peer.get("/search", params={"collections": datagen.COLLECTION, "limit": 100})),
            count(us.get(f"{base}/search", params={"collections": datagen.COLLECTION, "limit": 100})),
        ),
        "cql2 page": (count(peer.get("/search", params=cql)), count(us.get(f"{base}/search", params=cql))),
        "ids": (
            count(peer.post("/search", json={"ids": ids, "limit": len(ids)})),
            count(us.post(f"{base}/search", json={"ids": ids, "limit": len(ids)})),
        ),
    }
    got = us.post("/assets/bulk-get", json={"catalog_id": CATALOG, "ids": asset_ids})
    pairs["bulk-get"] = (len(asset_ids), count(got, "assets"))
    for name, (a, b) in pairs.items():
        log(f"check {name}: peer {a}, us {b}" + ("" if a == b else "  <-- DIFFERENT"))


# ------------------------------------------------------------------------------ --assets-1m


def assets_1m(count: int, runs: int) -> str:
    from scripts.bench.bulk import load as bulk_load

    from dynastore.bootstrap import bootstrap
    from dynastore.config import Settings

    ours = Ours()
    ours.data_dir.mkdir(parents=True)
    try:
        settings = Settings(
            data_dir=ours.data_dir,
            backend="local",
            api_keys=f"{KEY}:admin",
            watch_bucket=False,
            href_allowed_prefixes="gs://bench-bucket/",  # where bulk.py's records point
        )
        services = bootstrap(settings)
        log(f"loading {count:,} assets in-process through the bulk path")
        seconds = bulk_load(services, CATALOG, count)
        services.close()
        log(f"loaded in {seconds:.1f} s ({count / seconds:,.0f} assets/s)")
        ours.start()
        import httpx

        lines = [
            f"load of {count:,} assets (in-process bulk path): {seconds:.1f} s ({count / seconds:,.0f}/s)",
            "",
            "| q | length | matches in page | median | p95 |",
            "|---|---|---|---|---|",
        ]
        with httpx.Client(base_url=ours.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=300) as client:
            for n in range(1, 7):
                for text in ("b04.ti"[:n], "zqzqzq"[:n]):
                    params: dict[str, Any] = {"q": text, "limit": 100, "catalog_id": CATALOG}
                    first = client.get("/assets/search", params=params)
                    if first.status_code >= 400:
                        lines.append(
                            f"| `{text}` | {n} | {first.status_code}: {first.json().get('detail', '')[:80]} | | |"
                        )
                        continue
                    samples = []
                    for _ in range(runs):
                        started = time.perf_counter()
                        client.get("/assets/search", params=params).raise_for_status()
                        samples.append((time.perf_counter() - started) * 1000)
                    med, p95 = median_p95(samples)
                    lines.append(f"| `{text}` | {n} | {len(first.json()['assets'])} | {fmt_ms(med)} | {fmt_ms(p95)} |")
                    log(lines[-1])
        return "\n".join(lines)
    finally:
        ours.stop()


# ------------------------------------------------------------------------------ main


def machine() -> str:
    mem = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), "0"
    )
    load = os.getloadavg()
    return (
        f"{platform.node()}: {os.cpu_count()} CPUs, {int(mem) / 1024 / 1024:.0f} GiB RAM, "
        f"Python {platform.python_version()}, load average {load[0]:.1f} at the end"
    )


def our_version() -> str:
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return f"dynastore-assets (this checkout, {commit.stdout.strip() or 'unknown commit'})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 items (smoke run)")
    parser.add_argument("--items", type=int, default=None, help="small items (default 20,000; --quick 2,000)")
    parser.add_argument("--big-assets", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", choices=("load", "reads", "assets-1m"), default=None)
    parser.add_argument("--assets-1m", dest="assets_1m", action="store_true", help="also run the 1M-asset q search")
    parser.add_argument("--assets-count", type=int, default=1_000_000, help=argparse.SUPPRESS)
    parser.add_argument(
        "--peer-hydrate",
        choices=("db", "api"),
        default="api",
        help="api (default) measured faster here than db: page of 100 107 vs 328 ms, 300 ids 353 vs 971 ms",
    )
    parser.add_argument("--keep", action="store_true", help="leave both servers up until Ctrl-C")
    parser.add_argument("--serve-ours", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_ours is not None:
        return serve_ours(args.serve_ours)
    items = args.items or (2_000 if args.quick else 20_000)
    report = [f"# vs stac-fastapi-pgstac — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", ""]

    if args.only != "assets-1m":
        report += side_by_side(args, items)
    if args.only == "assets-1m" or args.assets_1m:
        report += [
            "",
            f"## our asset search, {args.assets_count:,} assets, {args.runs} runs per q",
            "",
            assets_1m(args.assets_count, args.runs),
        ]
    report += ["", machine()]
    print("\n".join(report))
    return 0


def side_by_side(args: argparse.Namespace, items: int) -> list[str]:
    import httpx

    workdir = Path(tempfile.mkdtemp(prefix="vs-pgstac-data-"))
    peer, ours = Peer(hydrate=args.peer_hydrate), Ours()
    try:
        started = time.perf_counter()
        paths = datagen.write(workdir, items, args.big_assets, args.seed)
        log(f"data: {items:,} items x 5 assets + 1 x {args.big_assets:,} in {time.perf_counter() - started:.1f} s")
        peer.start()
        ours.start()
        with contextlib.ExitStack() as stack:
            pc = stack.enter_context(httpx.Client(base_url=peer.url, timeout=600))
            uc = stack.enter_context(
                httpx.Client(base_url=ours.url, timeout=600, headers={"Authorization": f"Bearer {KEY}"})
            )
            ours.prepare(uc)
            log("loading the peer (pypgstac load items)")
            peer_load = peer.load(paths)
            log(f"peer load: {peer_load:.1f} s; loading us")
            our_load = ours.load(uc, paths)
            log(f"our load ({ours.load_method}): {our_load:.1f} s")
            total = items * len(datagen.ASSET_KEYS) + args.big_assets
            load_row = Row(
                f"full load, {items + 1:,} items + {total:,} assets (one run)", [peer_load * 1000], [our_load * 1000]
            )
            rows = [] if args.only == "reads" else [load_row]
            if args.only != "load":
                rows += reads(pc, uc, items, args.big_assets, args.seed, args.runs)
            versions = peer_versions(peer.bin_dir)
            lines = [
                f"{items:,} items x 5 assets + 1 item x {args.big_assets:,} assets, seed {args.seed}; "
                f"median and p95 of {args.runs} interleaved runs; peer / us > 1 means we are faster",
                "",
                table(rows),
                "",
                "peer: "
                + ", ".join(f"{k} {v}" for k, v in versions.items())
                + f"; hydration {args.peer_hydrate}; load: pypgstac load items --method insert",
                f"us: {our_version()}, local backend; load: {ours.load_method}",
            ]
            if args.keep:
                print("\n".join(lines), flush=True)
                log(
                    f"--keep: peer {peer.url} (psql -h 127.0.0.1 -p {peer.pg_port} -U postgres postgis), "
                    f"us {ours.url} (key {KEY}); Ctrl-C tears down"
                )
                signal.signal(signal.SIGTERM, signal.default_int_handler)
                with contextlib.suppress(KeyboardInterrupt):
                    while True:
                        time.sleep(3600)
            return lines
    finally:
        peer.stop()
        ours.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
