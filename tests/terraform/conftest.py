"""Fixtures of the Terraform checks: the repository root, a disposable copy of it, and checkov.

checkov lives in its own virtualenv (``.infra-venvs/checkov``, pinned version): its dependencies
clash with the project's. The fixture creates it on first use (this needs the package index once)
and fails with a clear message when it cannot.
"""

from __future__ import annotations

import fcntl
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from .consistency import TERRAFORM, Tree

ROOT = Path(__file__).resolve().parents[2]
CHECKOV_VENV = ROOT / ".infra-venvs" / "checkov"
CHECKOV_PINS = ("checkov==3.3.30",)

# What a copy of the tree needs for the checks (and the packager).
COPIED = (
    "pyproject.toml",
    "terraform",
    "functions/gcp",
    "functions/aws",
    "shared/dynastore",
)

STUB_MAIN = '''"""Stand-in for functions/gcp/main.py (the real one is not written yet)."""
import functions_framework


@functions_framework.http
def api(request): ...


@functions_framework.cloud_event
def on_object_event(event): ...


@functions_framework.http
def run_task(request): ...


@functions_framework.http
def scheduled(request): ...


@functions_framework.cloud_event
def on_stac_event(event): ...
'''

STUB_INDEXES = '{"indexes": [], "fieldOverrides": []}\n'


@pytest.fixture(scope="session")
def repo() -> Tree:
    return Tree(ROOT)


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    if not Path(TERRAFORM).is_file():
        pytest.fail(f"terraform not found ({TERRAFORM}): install Terraform >= 1.5 (README 'Deploy to Google Cloud')")
    return TERRAFORM


def copy_tree(destination: Path) -> Tree:
    """A copy of the parts of the repository the checks read.

    Where the gcp engineer's files do not exist yet, the copy gets stand-ins (the four targets, an
    empty index file), so the checks themselves can be exercised on a consistent baseline; the
    checks on the real tree still fail until the real files exist.
    """
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".terraform", "*.tfstate*", ".terraform.lock.hcl")
    for relative in COPIED:
        source = ROOT / relative
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, target)
    tree = Tree(destination)
    if not tree.main_py.exists():
        tree.main_py.parent.mkdir(parents=True, exist_ok=True)
        tree.main_py.write_text(STUB_MAIN, encoding="utf-8")
    if not tree.index_file.exists():
        tree.index_file.parent.mkdir(parents=True, exist_ok=True)
        tree.index_file.write_text(STUB_INDEXES, encoding="utf-8")
    return tree


@pytest.fixture
def tree_copy(tmp_path: Path) -> Tree:
    return copy_tree(tmp_path / "repo")


@pytest.fixture(scope="session")
def checkov_bin() -> Path:
    """``.infra-venvs/checkov/bin/checkov``, installed once (pinned) under a lock."""
    binary = CHECKOV_VENV / "bin" / "checkov"
    marker = CHECKOV_VENV / ".dynastore-pins"
    CHECKOV_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(CHECKOV_VENV.parent / ".checkov.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers install it once
        if binary.is_file() and marker.is_file() and marker.read_text().strip() == " ".join(CHECKOV_PINS):
            return binary
        shutil.rmtree(CHECKOV_VENV, ignore_errors=True)
        steps = [
            [sys.executable, "-m", "venv", str(CHECKOV_VENV)],
            [str(CHECKOV_VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", *CHECKOV_PINS],
        ]
        for step in steps:
            proc = subprocess.run(step, capture_output=True, text=True, timeout=900, check=False)
            if proc.returncode != 0:
                pytest.fail(
                    f"could not install {' '.join(CHECKOV_PINS)} into {CHECKOV_VENV} "
                    "(needs the Python package index once):\n"
                    f"$ {' '.join(step)}\n{proc.stderr[-3000:]}"
                )
        marker.write_text(" ".join(CHECKOV_PINS) + "\n")
        return binary


def load_packager() -> ModuleType:
    """scripts/package_functions.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("package_functions", ROOT / "scripts" / "package_functions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("package_functions", module)
    spec.loader.exec_module(module)
    return module
