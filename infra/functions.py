"""The Cloud Functions of ``functions/gcp/main.py`` running locally against the emulators.

``LocalGcpDeployment`` is what Terraform deploys, on this machine: each functions-framework
target in its own process on a free 127.0.0.1 port (``functions-framework --target ...``), wired
like production:

- the landing bucket (fake-gcs-server) publishes Cloud Storage notifications to the Pub/Sub
  emulator, whose push subscription POSTs them to ``on_object_event`` (functions-framework turns
  a Pub/Sub push into a ``messagePublished`` CloudEvent, as Eventarc does);
- Cloud Tasks (the emulator) POSTs job messages to ``run_task``;
- ``scheduled`` is called the way Cloud Scheduler would (an HTTP POST).

Used by ``tests/e2e/gcp``, ``scripts/bench/gcs_chain.py`` and ``python -m infra.functions [--port PORT]``
(which ``dynastore dev --backend gcp`` runs in a checkout).
Every process is stopped by its own PID.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from infra.emulators import (
    NOTIFICATION_TOPIC,
    ROOT,
    ChildProcess,
    EmulatorError,
    EmulatorStack,
    _die_with_parent,
    free_port,
    wait_for_stop_signal,
)

MAIN = ROOT / "functions" / "gcp" / "main.py"
TARGETS = ("api", "on_object_event", "run_task", "scheduled", "on_stac_event")
API_KEY = "local-admin-key"
TASKS_SERVICE_ACCOUNT = "run-task-invoker@dynastore-local.iam.gserviceaccount.com"


@dataclass
class FunctionProcess(ChildProcess):
    target: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    stop_grace = 10.0
    tail_lines = 40

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class LocalGcpDeployment:
    stack: EmulatorStack
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    extra_env: dict[str, str] = field(default_factory=dict)
    functions: dict[str, FunctionProcess] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    subscription: str | None = None

    @property
    def bucket(self) -> str:
        return f"landing-{self.tag}"

    def url(self, target: str) -> str:
        return f"http://127.0.0.1:{self.ports[target]}"

    def env(self) -> dict[str, str]:
        """What the functions get (Terraform sets the same variables in production)."""
        for target in TARGETS:
            if target not in self.ports:
                self.ports[target] = free_port()
        return {
            **self.stack.env(),
            "DYNASTORE_BACKEND": "gcp",
            "DYNASTORE_GCP_BUCKET": self.bucket,
            "DYNASTORE_GCP_COLLECTION_PREFIX": f"e{self.tag}_",
            "DYNASTORE_GCP_TASKS_QUEUE_PREFIX": f"e{self.tag}",
            "DYNASTORE_GCP_RUN_TASK_URL": self.url("run_task") + "/",
            "DYNASTORE_GCP_TASKS_SERVICE_ACCOUNT": TASKS_SERVICE_ACCOUNT,
            "DYNASTORE_API_KEYS": f"{API_KEY}:admin",
            "DYNASTORE_LOG_LEVEL": "WARNING",
            "WORKERS": "1",
            "THREADS": "8",
            **self.extra_env,
        }

    def start(self, targets: tuple[str, ...] = TARGETS, timeout: float = 60.0) -> LocalGcpDeployment:
        self.stack.ensure()
        env = {**os.environ, **self.env()}
        self._create_bucket()
        for target in targets:
            log_path = self.stack.workdir / f"function-{target}-{self.tag}.log"
            with open(log_path, "wb") as log:
                cmd = [sys.executable, "-m", "functions_framework", "--target", target, "--source", str(MAIN),
                       "--host", "127.0.0.1", "--port", str(self.ports[target])]  # fmt: skip
                process = subprocess.Popen(
                    _die_with_parent(cmd),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=ROOT,
                    process_group=0,
                )
            self.functions[target] = FunctionProcess(target, self.ports[target], process, log_path)
        deadline = time.monotonic() + timeout
        for target in targets:
            self._wait_listening(self.functions[target], deadline)
        return self

    def _create_bucket(self) -> None:
        url = f"http://{self.stack.host('gcs')}/storage/v1/b?project={self.stack.project}"
        body = f'{{"name": "{self.bucket}"}}'.encode()
        request = urllib.request.Request(url, data=body, method="POST", headers={"content-type": "application/json"})
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except urllib.error.HTTPError as exc:
            if exc.code != 409:
                raise

    def _wait_listening(self, function: FunctionProcess, deadline: float) -> None:
        while True:
            code = function.process.poll()
            if code is not None:
                raise EmulatorError(f"function {function.target} exited with {code}:\n{function.log_tail()}")
            try:
                urllib.request.urlopen(function.url + "/robots.txt", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # it answered
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise EmulatorError(f"function {function.target} did not listen in time:\n{function.log_tail()}")
            time.sleep(0.05)

    # --- wiring -----------------------------------------------------------------------------

    def subscribe(self) -> str:
        """Push the bucket's notifications to ``on_object_event`` (what the Eventarc Pub/Sub trigger does)."""
        name = f"on-object-event-{self.tag}-{uuid.uuid4().hex[:6]}"
        endpoint = f"{self.url('on_object_event')}/projects/{self.stack.project}/topics/{NOTIFICATION_TOPIC}"
        self.subscription = self.stack.create_push_subscription(NOTIFICATION_TOPIC, name, endpoint, ack_deadline=60)
        return self.subscription

    def unsubscribe(self) -> None:
        if self.subscription:
            with contextlib.suppress(EmulatorError):
                self.stack.pubsub_call("DELETE", self.subscription)
            self.subscription = None

    def stop(self) -> None:
        self.unsubscribe()
        for function in self.functions.values():
            function.stop()
        self.functions.clear()


def main(api_port: int | None = None) -> int:
    """Run the whole local deployment until interrupted; print its URLs."""
    with EmulatorStack(notifications=True) as stack:
        deployment = LocalGcpDeployment(stack, ports={"api": api_port} if api_port else {})
        try:
            deployment.start()
            deployment.subscribe()
        except EmulatorError as exc:
            print(f"error: {exc}", file=sys.stderr)
            deployment.stop()
            return 1
        print(f"emulators started in {stack.start_times()} s", flush=True)
        for target in TARGETS:
            print(f"{target:16} {deployment.url(target)}")
        print(f"bucket {deployment.bucket} (STORAGE_EMULATOR_HOST={stack.env()['STORAGE_EMULATOR_HOST']})")
        print(f"API key: {API_KEY}", flush=True)
        try:
            wait_for_stop_signal()
        finally:
            deployment.stop()
    return 0


def cli(argv: list[str] | None = None) -> int:
    """``python -m infra.functions [--port PORT]`` (what ``dynastore dev --backend gcp`` runs)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m infra.functions", description=main.__doc__)
    parser.add_argument("--port", type=int, default=None, help="port of the api target (default: a free one)")
    return main(api_port=parser.parse_args(argv).port)


if __name__ == "__main__":
    sys.exit(cli())
