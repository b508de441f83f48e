"""The peer for ``vs_pgstac.py``: PostgreSQL 15 + PostGIS + pgstac + stac-fastapi-pgstac, set up here.

On a Debian 12 machine without docker: ``apt-get install postgresql-15-postgis-3`` (when PostGIS is
missing), a side venv ``.bench-venvs/pgstac`` (gitignored) with the pinned peer packages, ``initdb``
into a temporary folder as an unprivileged OS user (initdb refuses root; the ``postgres`` user
the Debian package creates, else one made with ``useradd``), postgres on a free port,
``pypgstac migrate``, then the app under uvicorn on another free port. ``Peer.stop()`` tears it all
down (the temporary folder included).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".bench-venvs" / "pgstac"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PEER_PACKAGES = ("stac-fastapi-pgstac==7.2.0", "pypgstac[psycopg]==0.10.0", "uvicorn")
PG_USER_CANDIDATES = ("postgres", "dynastore-bench")
# A modest, stated tuning (the defaults are 128 MB of buffers and 1 GB of WAL between checkpoints).
PG_SETTINGS = {
    "shared_buffers": "1GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "4GB",
    "effective_cache_size": "4GB",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log(message: str) -> None:
    print(f"[vs_pgstac] {message}", file=sys.stderr, flush=True)


def ensure_postgis() -> None:
    if not (PG_BIN / "initdb").exists():
        raise SystemExit(f"PostgreSQL 15 not found in {PG_BIN}")
    if not Path("/usr/share/postgresql/15/extension/postgis.control").exists():
        log("installing postgresql-15-postgis-3 (apt-get)")
        subprocess.run(["apt-get", "install", "-y", "postgresql-15-postgis-3"], check=True, stdout=subprocess.DEVNULL)


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        log(f"creating {VENV} with {', '.join(PEER_PACKAGES)}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True)
    return VENV / "bin"


def peer_versions(bin_dir: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m; "
        "print(m.version('stac-fastapi-pgstac'), m.version('pypgstac'), m.version('stac-fastapi-api'))"
    )
    out = subprocess.run([str(bin_dir / "python"), "-c", code], check=True, capture_output=True, text=True).stdout
    fastapi_pgstac, pypgstac, api = out.split()
    server = subprocess.run([str(PG_BIN / "postgres"), "--version"], capture_output=True, text=True).stdout.strip()
    return {"stac-fastapi-pgstac": fastapi_pgstac, "pypgstac/pgstac": pypgstac, "stac-fastapi": api, "postgres": server}


def os_user() -> str:
    """An unprivileged OS user to run postgres as (root only; otherwise the current user)."""
    if os.geteuid() != 0:
        return ""
    for name in PG_USER_CANDIDATES:
        if subprocess.run(["id", "-u", name], capture_output=True).returncode == 0:
            return name
    subprocess.run(["useradd", "--system", "--no-create-home", PG_USER_CANDIDATES[-1]], check=True)
    return PG_USER_CANDIDATES[-1]


def _as(user: str, argv: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *argv] if user else argv


def wait_http(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60.0) -> None:
    """Until ``url`` answers below 500; a SystemExit when ``proc`` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{proc.args!r} exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status < 500:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.2)


@dataclass
class Peer:
    hydrate: str = "api"  # "api": stac-fastapi hydrates (USE_API_HYDRATE=true, the faster here); "db": pgstac
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="pgstac-bench-")))
    pg_port: int = 0
    api_port: int = 0
    user: str = ""
    bin_dir: Path = VENV / "bin"
    api: subprocess.Popen[bytes] | None = None

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.pg_port}/postgis"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def env(self) -> dict[str, str]:
        pg = {"PGUSER": "postgres", "PGPASSWORD": "bench", "PGHOST": "127.0.0.1", "PGDATABASE": "postgis"}
        return {**os.environ, **pg, "PGPORT": str(self.pg_port)}

    def start(self) -> Peer:
        ensure_postgis()
        self.bin_dir = ensure_venv()
        self.user = os_user()
        data = self.workdir / "pgdata"
        if self.user:
            shutil.chown(self.workdir, self.user)
        subprocess.run(
            _as(self.user, [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.pg_port = free_port()
        options = f"-p {self.pg_port} -k {self.workdir} -c listen_addresses=127.0.0.1 " + " ".join(
            f"-c {k}={v}" for k, v in PG_SETTINGS.items()
        )
        log(f"postgres on port {self.pg_port} as {self.user or 'current user'} in {data}")
        subprocess.run(
            _as(
                self.user,
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(self.workdir / "pg.log"),
                    "-w",
                    "start",
                ],
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres", "postgis"],
            check=True,
        )
        started = time.perf_counter()
        subprocess.run(
            [str(self.bin_dir / "pypgstac"), "migrate", "--dsn", self.dsn],
            check=True,
            env=self.env(),
            stdout=subprocess.DEVNULL,
        )
        log(f"pypgstac migrate: {time.perf_counter() - started:.1f} s")
        self.start_api()
        return self

    def start_api(self) -> None:
        self.api_port = free_port()
        env = {
            **self.env(),
            "USE_API_HYDRATE": "true" if self.hydrate == "api" else "false",
            "STAC_FASTAPI_TITLE": "pgstac bench",
            "STAC_FASTAPI_DESCRIPTION": "vs_pgstac.py peer",
            "STAC_FASTAPI_LANDING_ID": "pgstac-bench",
            "STAC_FASTAPI_VERSION": "7.2.0",
        }
        self.api = subprocess.Popen(
            [
                str(self.bin_dir / "uvicorn"),
                "stac_fastapi.pgstac.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.api_port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
            cwd=self.workdir,
        )
        wait_http(f"{self.url}/", self.api)
        log(f"stac-fastapi-pgstac on {self.url} (hydration: {self.hydrate})")

    def load(self, paths: dict[str, Path]) -> float:
        """``pypgstac load`` of the collections, then the items; the seconds the items took."""

        def run(kind: str, path: Path) -> None:
            subprocess.run(
                [str(self.bin_dir / "pypgstac"), "load", kind, str(path), "--dsn", self.dsn, "--method", "insert"],
                check=True,
                env=self.env(),
                stdout=subprocess.DEVNULL,
            )

        run("collections", paths["collections"])
        started = time.perf_counter()
        run("items", paths["items"])
        run("items", paths["big"])
        return time.perf_counter() - started

    def stop(self) -> None:
        if self.api is not None:
            self.api.terminate()
            try:
                self.api.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.api.kill()
        data = self.workdir / "pgdata"
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as(self.user, [str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                stdout=subprocess.DEVNULL,
            )
        shutil.rmtree(self.workdir, ignore_errors=True)
