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
   an Eventarc ``finalized`` CloudEvent; ``run_task``: a job message; ``scheduled``: a cleanup),
   from the spawn and from the moment it listens (the import is over and the platform can route
   the waiting request: the figure the cold-start goal names);
3. ``api`` only: another fresh process whose first request is ``GET /stac`` (a Firestore read: what
   a first real request costs).

Goal (issue 14): ``api`` answers its first request ≤ 600 ms after the import on the emulators
(``main.py`` imports nothing of dynastore or the SDKs, so the platform can start serving after the
framework's own imports; the first call pays the rest). Prints a table (median of ``--runs``);
``--json`` for machines.

Target ``aws-api``: the ``api`` Lambda handler of ``functions/aws/handlers.py`` (Mangum) on the aws
backend against moto (``infra/moto_server.py``; the catalog ``demo`` exists), in a fresh interpreter:
the import of ``handlers.py``, then its first invocation with the API Gateway v2 event of
``tests/events/aws/apigw_v2_get_catalog.json`` (``GET /assets/catalogs/demo``): the first call's setup
(``bootstrap`` and the app build, as the handler logs them) and the first answer (the whole first
invocation, after the import; goal ≤ 1 s), then a second (warm) answer; the parent also times the
process from spawn to the first answer. Only the emulators the chosen targets need are started.

Target ``local-api``: the app on the local backend (what ``dynastore dev`` serves), in a fresh
interpreter: the import of ``dynastore.api.app`` and ``dynastore.bootstrap``, then ``bootstrap`` +
``create_app`` + the first ``GET /health`` through an in-process ASGI client (httpx), then the first
``GET /stac`` (goal: first answer ≤ 300 ms after the import).

    .venv/bin/python scripts/bench/coldstart.py [--runs 3] [--targets api,run_task,aws-api,local-api] [--json]
"""

from __future__ import annotations

import argparse
import base64
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
from scripts.bench.aws_chain import EVENTS, api_event, handler_env  # noqa: E402

AWS_TARGET = "aws-api"
AWS_PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
from functions.aws import handlers
t1 = time.perf_counter()

class Context:
    function_name = "dyn-coldstart"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:dyn-coldstart"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self):
        return 300_000

event = json.loads(sys.argv[1])
first = handlers.api(event, Context())
t2 = time.perf_counter()
second = handlers.api(event, Context())
t3 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1000, "first_answer_ms": (t2 - t1) * 1000,
                  "warm_answer_ms": (t3 - t2) * 1000, "status": [first["statusCode"], second["statusCode"]]}))
"""

LOCAL_TARGET = "local-api"
LOCAL_PROBE = r"""
import asyncio, json, sys, tempfile, time
t0 = time.perf_counter()
from dynastore.api.app import create_app
from dynastore.bootstrap import bootstrap
from dynastore.config import Settings
t1 = time.perf_counter()
import httpx

async def main():
    with tempfile.TemporaryDirectory() as tmp:
        t2 = time.perf_counter()
        settings = Settings(backend="local", data_dir=tmp, api_keys="coldstart-key:admin", log_level="WARNING")
        app = create_app(bootstrap(settings))
        t3 = time.perf_counter()
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": "Bearer coldstart-key"}
        async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
            health = await client.get("/health", headers=headers)
            t4 = time.perf_counter()
            stac = await client.get("/stac", headers=headers)
            t5 = time.perf_counter()
        return {"import_ms": (t1 - t0) * 1000, "setup_ms": (t3 - t2) * 1000,
                "first_answer_ms": (t4 - t2) * 1000, "stac_answer_ms": (t5 - t2) * 1000,
                "status": [health.status_code, stac.status_code]}

print(json.dumps(asyncio.run(main())))
"""

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


def first_request(
    target: str, url: str, deployment: LocalGcpDeployment, resource: dict[str, Any], path: str = "/health"
) -> int:
    if target == "api":
        return _request(url + path, "GET", None, {"Authorization": f"Bearer {API_KEY}"})
    if target == "on_object_event":
        headers = {
            "ce-specversion": "1.0",
            "ce-type": "google.cloud.storage.object.v1.finalized",
            "ce-source": f"//storage.googleapis.com/projects/_/buckets/{deployment.bucket}",
            "ce-id": f"coldstart-{time.time_ns()}",
            "content-type": "application/json",
        }
        return _request(url + "/", "POST", json.dumps(resource).encode(), headers)
    if target == "on_stac_event":  # the seed's envelope for a catalog that does not exist: parsed, looked up, acked
        envelope = (ROOT / "tests" / "events" / "esgf" / "replace.json").read_bytes()
        message = {"data": base64.b64encode(envelope).decode(), "attributes": {"catalog_id": "coldstart-probe"}}
        headers = {
            "ce-specversion": "1.0",
            "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
            "ce-source": "//pubsub.googleapis.com/projects/dynastore-local/topics/esgf-events",
            "ce-id": f"coldstart-{time.time_ns()}",
            "content-type": "application/json",
        }
        return _request(url + "/", "POST", json.dumps({"message": message}).encode(), headers)
    if target == "run_task":
        return _request(
            url + "/", "POST", b'{"kind": "job", "job_id": "coldstart-probe"}', {"content-type": "application/json"}
        )
    return _request(url + "/", "POST", b'{"action": "cleanup"}', {"content-type": "application/json"})


def measure_process(
    target: str, deployment: LocalGcpDeployment, resource: dict[str, Any], path: str = "/health"
) -> dict[str, float]:
    """Spawn → listening → first request answered (``path`` for ``api``)."""
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
        status = first_request(target, url, deployment, resource, path)
        answered = time.perf_counter()
        if status >= 500:
            raise RuntimeError(f"{target}: first request answered {status}")
        return {
            "listening_ms": (listening - started) * 1000,
            "first_answer_ms": (answered - started) * 1000,
            "after_import_ms": (answered - listening) * 1000,
        }
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def measure_aws(env: dict[str, str], event: dict[str, Any]) -> dict[str, float]:
    """One fresh interpreter running ``AWS_PROBE``; the setup figures come from the handler's own logs."""
    out = subprocess.run(
        [sys.executable, "-c", AWS_PROBE, json.dumps(event)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, **env, "POWERTOOLS_LOG_LEVEL": "INFO"},
    )
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    probe = lines[-1]
    logged = {line.get("message"): line for line in lines[:-1]}
    if probe["status"][0] >= 500 or probe["status"][1] >= 500:
        raise RuntimeError(f"aws api answered {probe['status']}\n{out.stdout[-2000:]}")
    return {
        "import_ms": probe["import_ms"],
        "bootstrap_ms": float(logged["cold start"]["bootstrap_ms"]),
        "create_app_ms": float(logged["api app built"]["create_app_ms"]),
        "first_answer_ms": probe["first_answer_ms"],
        "warm_answer_ms": probe["warm_answer_ms"],
        "import_plus_first_ms": probe["import_ms"] + probe["first_answer_ms"],
        # the rest of the first invocation: the request itself (lazy boto3 import and clients included)
        "first_request_ms": probe["first_answer_ms"]
        - float(logged["cold start"]["bootstrap_ms"])
        - float(logged["api app built"]["create_app_ms"]),
        "status": float(probe["status"][0]),
    }


def run_local(runs: int) -> dict[str, float]:
    """``local-api``: median of ``runs`` fresh interpreters running ``LOCAL_PROBE``."""
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", LOCAL_PROBE], capture_output=True, text=True, check=True, cwd=ROOT
        )
        sample = json.loads(out.stdout.strip().splitlines()[-1])
        if max(sample.pop("status")) >= 400:
            raise RuntimeError(f"local api answered an error\n{out.stdout[-2000:]}")
        samples.append(sample)
    return {k: round(statistics.median(s[k] for s in samples), 1) for k in samples[0]}


def print_local(local: dict[str, float], runs: int) -> None:
    print(f"local api (in-process ASGI client), median of {runs} fresh processes (ms)")
    print(f"{'target':16} {'import':>8} {'setup':>8} {'1st /health':>12} {'1st /stac':>10}")
    print(
        f"{LOCAL_TARGET:16} {local['import_ms']:8.0f} {local['setup_ms']:8.0f} "
        f"{local['first_answer_ms']:12.0f} {local['stac_answer_ms']:10.0f}"
    )
    verdict = "meets" if local["first_answer_ms"] <= 300 else "misses"
    print(f"local-api: first answer {local['first_answer_ms']:.0f} ms after the import ({verdict} the 300 ms goal)")


def run_aws(runs: int) -> dict[str, float]:
    """``aws-api`` on a fresh moto server with the catalog ``demo``: median of ``runs`` fresh processes."""
    from infra.aws_testing import aws_adapters
    from infra.moto_server import start_moto

    from dynastore.bootstrap import bootstrap

    server = start_moto()
    try:
        with aws_adapters(server) as backend:
            env = handler_env(backend.settings)
            services = bootstrap(backend.settings, backend.adapters)
            services.catalogs.create({"id": "demo", "title": "cold start probe"}, actor="coldstart")
            event = api_event(json.loads((EVENTS / "apigw_v2_get_catalog.json").read_text())["rawPath"])
            samples = [measure_aws(env, event) for _ in range(runs)]
    finally:
        server.stop()
    return {k: round(statistics.median(s[k] for s in samples), 1) for k in samples[0]}


def run_gcp(targets: list[str], runs: int) -> tuple[dict[str, dict[str, float]], Any]:
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
            for _ in range(runs):
                sample = measure_imports(target, deployment.env())
                sample.update(measure_process(target, deployment, resource))
                if target == "api":  # a first real request: GET /stac reads Firestore
                    stac = measure_process(target, deployment, resource, "/stac")
                    sample["stac_after_import_ms"] = stac["after_import_ms"]
                samples.append(sample)
            results[target] = {k: round(statistics.median(s[k] for s in samples), 1) for k in samples[0]}
        emulators = stack.start_times()
    return results, emulators


def print_aws(aws: dict[str, float], runs: int) -> None:
    print(f"aws api handler on moto, median of {runs} fresh processes (ms), GET /assets/catalogs/demo")
    print(
        f"{'target':16} {'import':>8} {'bootstrap':>10} {'app build':>10} {'1st request':>12} "
        f"{'1st answer':>11} {'import+1st':>11} {'warm':>6}"
    )
    print(
        f"{AWS_TARGET:16} {aws['import_ms']:8.0f} {aws['bootstrap_ms']:10.0f} {aws['create_app_ms']:10.0f} "
        f"{aws['first_request_ms']:12.0f} {aws['first_answer_ms']:11.0f} {aws['import_plus_first_ms']:11.0f} "
        f"{aws['warm_answer_ms']:6.0f}"
    )
    verdict = "meets" if aws["first_answer_ms"] <= 1000 else "misses"
    print(
        f"aws-api: first answer {aws['first_answer_ms']:.0f} ms after the {aws['import_ms']:.0f} ms import "
        f"({verdict} the 1 s goal); in it: bootstrap {aws['bootstrap_ms']:.0f} ms + app "
        f"{aws['create_app_ms']:.0f} ms + the request itself {aws['first_request_ms']:.0f} ms"
    )


def compile_bytecode() -> None:
    """Give the measured processes this checkout's bytecode, as a deployed package has it (pip
    compiles on install; the site-packages here have theirs): without it (an editable install and
    ``PYTHONDONTWRITEBYTECODE`` in this environment) every cold start would also compile each
    dynastore module from source. Written to the ``__pycache__`` folders git ignores."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    folders = [str(ROOT / "shared"), str(ROOT / "functions")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], check=True, env=os.environ)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--targets", default=",".join((*TARGETS, AWS_TARGET, LOCAL_TARGET)))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    compile_bytecode()
    targets = [t for t in args.targets.split(",") if t]
    gcp_targets = [t for t in targets if t not in (AWS_TARGET, LOCAL_TARGET)]
    results: dict[str, dict[str, float]] = {}
    emulators: Any = {}
    if gcp_targets:
        results, emulators = run_gcp(gcp_targets, args.runs)
    aws = run_aws(args.runs) if AWS_TARGET in targets else None
    local = run_local(args.runs) if LOCAL_TARGET in targets else None
    if args.json:
        if aws is not None:
            results[AWS_TARGET] = aws
        if local is not None:
            results[LOCAL_TARGET] = local
        print(json.dumps({"targets": results, "emulator_start_s": emulators}, indent=2))
        return 0
    if aws is not None:
        print_aws(aws, args.runs)
    if local is not None:
        print_local(local, args.runs)
    if not results:
        return 0
    print(f"cold start, median of {args.runs} fresh processes (ms); emulators started in {emulators} s")
    header = (
        f"{'target':16} {'framework':>10} {'main.py':>8} {'1st-call setup':>15} {'listening':>10} {'1st answer':>11}"
        f" {'after import':>13}"
    )
    print(header)
    for target, r in results.items():
        print(
            f"{target:16} {r['framework_ms']:10.0f} {r['main_ms']:8.0f} {r['first_call_ms']:15.0f} "
            f"{r['listening_ms']:10.0f} {r['first_answer_ms']:11.0f} {r['after_import_ms']:13.0f}"
        )
    api = results.get("api")
    if api:
        verdict = "meets" if api["after_import_ms"] <= 600 else "misses"
        print(
            f"api: first GET /health answered {api['after_import_ms']:.0f} ms after the import, i.e. after the "
            f"process listens ({verdict} the 600 ms goal; {api['first_call_ms']:.0f} ms of it the first call's "
            f"setup); a first GET /stac (a Firestore read) {api['stac_after_import_ms']:.0f} ms after the import"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
