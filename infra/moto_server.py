"""moto in server mode: the AWS stand-in the aws tests talk to over HTTP (DESIGN §8).

``shared_moto()`` starts moto's server (``infra/moto_serial.py``: one request at a time) once per
process as a child on a free 127.0.0.1 port (like the emulators in ``infra/emulators.py``) and
stops it at exit. Tests isolate
themselves by bucket, table and queue names, never by restarting it. A test that needs moto and
cannot start it fails with the server's log (``EmulatorError``), it does not skip.
"""

from __future__ import annotations

import atexit
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from infra.emulators import ChildProcess, EmulatorError, EmulatorStack, _http_ok, free_port

START_TIMEOUT = 60.0
REGION = "eu-west-1"
# moto accepts any credentials; these keep the SDK from looking for real ones.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


@dataclass
class MotoServer(ChildProcess):
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


_server: MotoServer | None = None
_lock = threading.Lock()


def start_moto() -> MotoServer:
    """A fresh moto server (the caller stops it)."""
    port = free_port()
    stack = EmulatorStack(workdir=Path(tempfile.mkdtemp(prefix="dynastore-moto-")))  # for its _popen
    cmd = [sys.executable, str(Path(__file__).with_name("moto_serial.py")), "127.0.0.1", str(port)]
    proc, log = stack._popen("moto", cmd, env={"MOTO_ALLOW_NONEXISTENT_REGION": "true"})
    server = MotoServer(port, proc, log)
    deadline = time.monotonic() + START_TIMEOUT
    while not _http_ok(f"{server.endpoint_url}/moto-api/data.json"):
        code = proc.poll()
        if code is not None:
            raise EmulatorError(f"moto exited with code {code} while starting.\n--- {log} ---\n{server.log_tail()}")
        if time.monotonic() > deadline:
            server.stop()
            raise EmulatorError(f"moto not ready after {START_TIMEOUT:.0f}s\n{server.log_tail()}")
        time.sleep(0.05)
    return server


def shared_moto() -> MotoServer:
    """The process-wide moto server, started on first use."""
    global _server
    with _lock:
        if _server is None or _server.process.poll() is not None:
            _server = start_moto()
            atexit.register(_server.stop)
        return _server
