"""Terraform style and static security checks (no cloud access)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

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


def test_checkov_passes_and_every_skip_is_justified_inline(checkov_bin: Path) -> None:
    # GIVEN the modules and the example
    reports = _checkov(checkov_bin, ROOT / "terraform")
    failed = [check for report in reports for check in report["results"]["failed_checks"]]
    skipped = [check for report in reports for check in report["results"]["skipped_checks"]]
    passed = [check for report in reports for check in report["results"]["passed_checks"]]
    # THEN checkov really scanned the resources, nothing fails ...
    assert len(passed) > 50, f"checkov ran only {len(passed)} checks: did it parse the modules?"
    assert failed == [], "\n".join(
        f"{check['check_id']} {check['check_name']}: {check['resource']} "
        f"({check['file_path']}:{check['file_line_range']})"
        for check in failed
    )
    # ... and every skipped check carries its reason next to the resource (#checkov:skip=ID:reason)
    assert unjustified_skips(skipped) == []


def unjustified_skips(skipped: list[dict[str, Any]]) -> list[str]:
    """Skips without a real reason (checkov fills in "No comment provided" when there is none)."""
    return [
        f"{check['check_id']} on {check['resource']}"
        for check in skipped
        if (check["check_result"].get("suppress_comment") or "").strip() in {"", "No comment provided"}
        or len(check["check_result"]["suppress_comment"].strip()) < 20
    ]


def test_checkov_catches_a_weakened_bucket_and_an_unjustified_skip(checkov_bin: Path, tmp_path: Path) -> None:
    # GIVEN a copy of the storage module with public access prevention removed and a bare skip
    module = tmp_path / "storage"
    shutil.copytree(ROOT / "terraform" / "modules" / "gcp" / "storage", module)
    main_tf = module / "main.tf"
    text = main_tf.read_text(encoding="utf-8")
    text = text.replace('  public_access_prevention    = "enforced"\n', "", 1)
    text = re.sub(r"#checkov:skip=CKV_GCP_83:[^\n]*", "#checkov:skip=CKV_GCP_83", text)
    main_tf.write_text(text, encoding="utf-8")
    # WHEN checkov scans it
    reports = _checkov(checkov_bin, module)
    failed = {check["check_id"] for report in reports for check in report["results"]["failed_checks"]}
    skipped = [check for report in reports for check in report["results"]["skipped_checks"]]
    # THEN the weakened bucket fails and the bare skip is reported as unjustified
    assert "CKV_GCP_114" in failed
    assert any(entry.startswith("CKV_GCP_83") for entry in unjustified_skips(skipped))
