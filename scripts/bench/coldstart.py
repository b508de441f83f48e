#!/usr/bin/env python3
"""Cold start of the Google Cloud functions: import time and time to the first answered request.

For each functions-framework target of ``functions/gcp/main.py``, in fresh processes:

1. imports, measured inside a fresh interpreter: ``functions_framework`` itself, then the rest of
   ``main.py`` (what the platform loads before it can serve), then what the first call imports
   (``dynastore`` services, the Google SDKs, the FastAPI app for ``api``);
   (the first call's part is measured by building the services, and the app for ``api``,
   as the first call does: SDK imports and client construction included);
2. a fresh ``functions-framework --target <t>`` process on the local emulators: time until it
   listens, and until its first request is answered (``api``: ``GET /health``; ``on_object_event``:
   an Eventarc ``finalized`` CloudEvent; ``run_task``: a job message; ``scheduled``: a cleanup).

Goal: ``api`` imports ≤ 300 ms: ``main.py`` imports nothing of dynastore or the SDKs, so
the platform can start serving after the framework's own imports; the first call then pays the
rest (reported separately). Prints a table (median of ``--runs``); ``--json`` for machines.

    .venv/bin/python scripts/bench/coldstart.py [--runs 3] [--targets api,run_task] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from infra.emulators import EmulatorStack, free_port  # noqa: E402
from infra.functions import API_KEY, MAIN, TARGETS, LocalGcpDeployment  # noqa: E402

IMPORT_PROBE = r"""
import json, sys, time, importlib.util
target = sys.argv[1]
t0 = time.perf_counter()
import functions_framework
t1 = time.perf_counter()
spec = importlib.util.spec_from_file_location("main", sys.argv[2])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
t2 = time.perf_counter()
module.services()  # what the first call does: settings, adapters (SDK imports, clients), services
if target == "api":
    module.asgi_app()
if target == "on_object_event":
    import dynastore.backends.gcp.events
t3 = time.perf_counter()
print(json.dumps({"framework_ms": (t1 - t0) * 1000, "main_ms": (t2 - t1) * 1000, "first_call_ms": (t3 - t2) * 1000}))
"""


def measure_imports(target: str, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, target, str(MAIN)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _request(url: str, method: str, body: bytes | None, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def first_request(target: str, url: str, deployment: LocalGcpDeployment, resource: dict[str, Any]) -> int:
    if target == "api":
        return _request(url + "/health", "GET", None, {"Authorization": f"Bearer {API_KEY}"})
    if target == "on_object_event":
        headers = {
            "ce-specversion": "1.0",
            "ce-type": "google.cloud.storage.object.v1.finalized",
            "ce-source": f"//storage.googleapis.com/projects/_/buckets/{deployment.bucket}",
            "ce-id": f"coldstart-{time.time_ns()}",
            "content-type": "application/json",
        }
        return _request(url + "/", "POST", json.dumps(resource).encode(), headers)
    if target == "run_task":
        return _request(
            url + "/", "POST", b'{"kind": "job", "job_id": "coldstart-probe"}', {"content-type": "application/json"}
        )
    return _request(url + "/", "POST", b'{"action": "cleanup"}', {"content-type": "application/json"})


def measure_process(target: str, deployment: LocalGcpDeployment, resource: dict[str, Any]) -> dict[str, float]:
    port = free_port()
    env = {**os.environ, **deployment.env()}
    cmd = [sys.executable, "-m", "functions_framework", "--target", target, "--source", str(MAIN),
           "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{target} exited with {process.returncode}")
            try:
                urllib.request.urlopen(url + "/robots.txt", timeout=1).close()
                break
            except urllib.error.HTTPError:
                break
            except (urllib.error.URLError, OSError):
                time.sleep(0.01)
        listening = time.perf_counter()
        status = first_request(target, url, deployment, resource)
        answered = time.perf_counter()
        if status >= 500:
            raise RuntimeError(f"{target}: first request answered {status}")
        return {"listening_ms": (listening - started) * 1000, "first_answer_ms": (answered - started) * 1000}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    targets = [t for t in args.targets.split(",") if t]
    results: dict[str, dict[str, float]] = {}
    with EmulatorStack(notifications=False) as stack:
        stack.ensure()
        deployment = LocalGcpDeployment(stack)
        os.environ.update(stack.env())
        deployment.env()
        deployment._create_bucket()
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage  # type: ignore[attr-defined]

        blob = (
            storage.Client(project=stack.project, credentials=AnonymousCredentials())
            .bucket(deployment.bucket)
            .blob("coldstart/probe.tif")
        )
        blob.upload_from_string(b"II*\x00probe", content_type="image/tiff")
        resource = dict(blob._properties)
        for target in targets:
            samples: list[dict[str, float]] = []
            for _ in range(args.runs):
                sample = measure_imports(target, deployment.env())
                sample.update(measure_process(target, deployment, resource))
                samples.append(sample)
            results[target] = {k: round(statistics.median(s[k] for s in samples), 1) for k in samples[0]}
        emulators = stack.start_times()
    if args.json:
        print(json.dumps({"targets": results, "emulator_start_s": emulators}, indent=2))
        return 0
    print(f"cold start, median of {args.runs} fresh processes (ms); emulators started in {emulators} s")
    header = (
        f"{'target':16} {'framework':>10} {'main.py':>8} {'1st-call setup':>15} {'listening':>10} {'1st answer':>11}"
    )
    print(header)
    for target, r in results.items():
        print(
            f"{target:16} {r['framework_ms']:10.0f} {r['main_ms']:8.0f} {r['first_call_ms']:15.0f} "
            f"{r['listening_ms']:10.0f} {r['first_answer_ms']:11.0f}"
        )
    api = results.get("api")
    if api:
        verdict = "meets" if api["main_ms"] <= 300 else "misses"
        print(
            f"api: main.py imports {api['main_ms']:.0f} ms ({verdict} the 300 ms goal) after the framework's "
            f"{api['framework_ms']:.0f} ms; the first call adds {api['first_call_ms']:.0f} ms of setup"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
