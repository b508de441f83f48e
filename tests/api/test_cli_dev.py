"""`dynastore dev`: serves the API, generates an admin key once and reuses it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from dynastore.cli import build_parser, main
from dynastore.cli import dev as cli_dev
from support.devserver import free_port


def start_dev_in(cwd: Path, data_dir: Path, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DYNASTORE_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "dynastore.cli", "dev", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=cwd,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Uvicorn running" in line or "Application startup complete" in line:
            return process, lines
    process.kill()
    raise AssertionError("dynastore dev did not start:\n" + "".join(lines))


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_dev_parser_defaults() -> None:
    args = build_parser().parse_args(["dev"])
    assert (args.host, args.port, args.data_dir) == ("127.0.0.1", 8080, None)


def test_dev_serves_with_a_generated_admin_key_that_survives_a_restart(tmp_path: Path) -> None:
    # GIVEN no configured keys WHEN `dynastore dev` starts
    data_dir = tmp_path / "data"
    port = free_port()
    process, lines = start_dev_in(tmp_path, data_dir, port)
    try:
        output = "".join(lines)
        key = (data_dir / "api-key").read_text().strip()
        # THEN it prints the URL and the generated admin key, and the key works as admin
        assert f"http://127.0.0.1:{port}" in output and key in output
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}) as client:
            assert client.get("/health").json()["status"] == "ok"
            created = client.post("/assets/catalogs", json={"id": "cli-demo"})
            assert created.status_code == 201, created.text
            assert client.get("/assets/catalogs").status_code == 200
    finally:
        stop(process)
    # WHEN it starts again THEN it reuses the stored key and the data
    port = free_port()
    process, lines = start_dev_in(tmp_path, data_dir, port)
    try:
        assert key in "".join(lines)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}) as client:
            assert client.get("/assets/catalogs/cli-demo").status_code == 200
    finally:
        stop(process)


def test_dev_on_gcp_outside_a_checkout_says_where_to_run_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a folder without the emulator stack and a package not installed from a checkout
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli_dev, "installed_from", lambda: tmp_path)
    # WHEN `dynastore dev --backend gcp` runs THEN it stops with a message naming infra/ and what to do
    with pytest.raises(SystemExit, match=r"infra/functions\.py: run it from a checkout"):
        main(["dev", "--backend", "gcp"])


def test_dev_on_gcp_runs_the_checkouts_emulator_stack_with_the_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a checkout whose infra/functions.py records how it was started
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "__init__.py").write_text("")
    (tmp_path / "infra" / "functions.py").write_text(
        "import pathlib, sys\npathlib.Path('started').write_text(' '.join(sys.argv[1:]))\nsys.exit(3)\n"
    )
    monkeypatch.chdir(tmp_path)
    # WHEN `dynastore dev --backend gcp --port 8123` runs
    code = main(["dev", "--backend", "gcp", "--port", "8123"])
    # THEN it ran `python -m infra.functions --port 8123` there and answers with its exit code
    assert (tmp_path / "started").read_text() == "--port 8123"
    assert code == 3


def test_dev_on_aws_runs_the_checkouts_moto_stack_with_the_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a checkout whose infra/aws_dev.py records how it was started
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "__init__.py").write_text("")
    (tmp_path / "infra" / "aws_dev.py").write_text(
        "import pathlib, sys\npathlib.Path('started').write_text(' '.join(sys.argv[1:]))\nsys.exit(4)\n"
    )
    monkeypatch.chdir(tmp_path)
    # WHEN `dynastore dev --backend aws --port 8124` runs
    code = main(["dev", "--backend", "aws", "--port", "8124"])
    # THEN it ran `python -m infra.aws_dev --port 8124` there and answers with its exit code
    assert (tmp_path / "started").read_text() == "--port 8124"
    assert code == 4


def test_dev_on_aws_outside_a_checkout_says_where_to_run_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli_dev, "installed_from", lambda: tmp_path)
    with pytest.raises(SystemExit, match=r"infra/aws_dev\.py: run it from a checkout"):
        main(["dev", "--backend", "aws"])


@pytest.mark.aws
def test_dev_on_aws_indexes_an_object_put_into_the_moto_bucket(tmp_path: Path) -> None:
    import boto3

    # GIVEN `dynastore dev --backend aws` running (from a folder outside the checkout: the editable
    # install names it)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DYNASTORE_", "AWS_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "dynastore.cli", "dev", "--backend", "aws", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not any(line.startswith("API key") for line in lines):
            line = process.stdout.readline()  # bounded by the test timeout; an early exit ends the output
            assert line, "dynastore dev --backend aws ended:\n" + "".join(lines)
            lines.append(line)
        output = "".join(lines)
        exported = dict(
            pair.split("=", 1) for line in lines if line.strip().startswith("export AWS_") for pair in line.split()[1:]
        )
        bucket = next(line.split()[1] for line in lines if line.startswith("bucket"))
        key = next(line.split()[-1] for line in lines if line.startswith("API key"))
        # THEN it printed the moto endpoint and the boto3 env
        assert exported["AWS_ENDPOINT_URL"] in output.splitlines()[0]
        s3 = boto3.client(
            "s3",
            endpoint_url=exported["AWS_ENDPOINT_URL"],
            region_name=exported["AWS_DEFAULT_REGION"],
            aws_access_key_id=exported["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=exported["AWS_SECRET_ACCESS_KEY"],
        )
        # WHEN an object is put into the landing bucket with boto3
        s3.put_object(Bucket=bucket, Key="demo/s2/scene-1/b04.tif", Body=b"II*\x00" + b"0" * 64)
        # THEN the API finds it within a few seconds
        found: list[dict[str, object]] = []
        deadline = time.monotonic() + 20
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}) as client:
            while not found and time.monotonic() < deadline:
                try:
                    answer = client.get("/assets/search", params={"q": "b04.tif", "catalog_id": "demo"})
                    found = answer.json()["assets"] if answer.status_code == 200 else []
                except httpx.TransportError:
                    pass  # not listening yet
                time.sleep(0.2)
        assert [asset["href"] for asset in found] == [f"s3://{bucket}/demo/s2/scene-1/b04.tif"]
    finally:
        # WHEN it gets SIGTERM THEN it stops its stack and exits cleanly
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
    assert code == 0
