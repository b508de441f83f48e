"""Terraform style and static security checks (no cloud access)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import ROOT


def test_terraform_files_are_formatted(terraform_bin: str) -> None:
    # GIVEN every .tf file under terraform/
    # WHEN terraform fmt checks them
    proc = subprocess.run(
        [terraform_bin, "fmt", "-check", "-recursive", "-diff", "-no-color", str(ROOT / "terraform")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"},
        check=False,
    )
    # THEN nothing needs reformatting
    assert proc.returncode == 0, f"run `terraform fmt -recursive terraform`:\n{proc.stdout}{proc.stderr}"


def _checkov(checkov_bin: Path, directory: Path) -> list[dict[str, Any]]:
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("BC_", "PRISMA_"))},
        "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.run(
        [
            str(checkov_bin),
            "--directory",
            str(directory),
            "--framework",
            "terraform",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    # checkov exits 1 when a check fails; anything else non-zero is a crash.
    assert proc.returncode in (0, 1), f"checkov crashed ({proc.returncode}):\n{proc.stderr[-4000:]}"
    report = json.loads(proc.stdout)
    return report if isinstance(report, list) else [report]


@pytest.fixture(scope="module")
def checkov_results(checkov_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """One checkov run over a copy of terraform/ (`repo/`) and a deliberately weakened module
    (`weakened/`: public access prevention removed, one skip without a reason)."""
    scan = tmp_path_factory.mktemp("checkov")
    shutil.copytree(ROOT / "terraform", scan / "repo", ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    # The example reaches the modules through ../../modules, which the copy keeps.
    weakened = scan / "weakened"
    shutil.copytree(ROOT / "terraform" / "modules" / "gcp" / "storage", weakened)
    main_tf = weakened / "main.tf"
    text = main_tf.read_text(encoding="utf-8")
    assert '  public_access_prevention    = "enforced"\n' in text
    text = text.replace('  public_access_prevention    = "enforced"\n', "", 1)
    text = re.sub(r"#checkov:skip=CKV_GCP_83:[^\n]*", "#checkov:skip=CKV_GCP_83", text)
    main_tf.write_text(text, encoding="utf-8")

    results: dict[str, list[dict[str, Any]]] = {"passed": [], "failed": [], "skipped": []}
    for report in _checkov(checkov_bin, scan):
        for kind in results:
            results[kind].extend(report["results"][f"{kind}_checks"])
    return results


def _in(checks: list[dict[str, Any]], part: str) -> list[dict[str, Any]]:
    return [check for check in checks if check["file_path"].lstrip("/").startswith(part)]


def unjustified_skips(skipped: list[dict[str, Any]]) -> list[str]:
    """Skips without a real reason (checkov fills in "No comment provided" when there is none)."""
    return [
        f"{check['check_id']} on {check['resource']}"
        for check in skipped
        if (check["check_result"].get("suppress_comment") or "").strip() in {"", "No comment provided"}
        or len(check["check_result"]["suppress_comment"].strip()) < 20
    ]


def test_checkov_passes_and_every_skip_is_justified_inline(checkov_results: dict[str, list[dict[str, Any]]]) -> None:
    # GIVEN checkov's results on the modules and the example
    passed = _in(checkov_results["passed"], "repo/")
    failed = _in(checkov_results["failed"], "repo/")
    skipped = _in(checkov_results["skipped"], "repo/")
    # THEN it really scanned the resources, nothing fails ...
    assert len(passed) > 50, f"checkov ran only {len(passed)} checks: did it parse the modules?"
    assert failed == [], "\n".join(
        f"{check['check_id']} {check['check_name']}: {check['resource']} "
        f"({check['file_path']}:{check['file_line_range']})"
        for check in failed
    )
    # ... and every skipped check carries its reason next to the resource (#checkov:skip=ID:reason)
    assert unjustified_skips(skipped) == []


def test_checkov_catches_a_weakened_bucket_and_an_unjustified_skip(
    checkov_results: dict[str, list[dict[str, Any]]],
) -> None:
    # GIVEN the copy of the storage module without public access prevention and with a bare skip
    failed = {check["check_id"] for check in _in(checkov_results["failed"], "weakened/")}
    skipped = _in(checkov_results["skipped"], "weakened/")
    # THEN the weakened bucket fails and the bare skip is reported as unjustified
    assert "CKV_GCP_114" in failed
    assert any(entry.startswith("CKV_GCP_83") for entry in unjustified_skips(skipped))
