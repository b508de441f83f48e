"""scripts/package_functions.py: the function bundle is complete and reproducible."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from .conftest import copy_tree, load_packager

packager = load_packager()


@pytest.fixture
def source_root(tmp_path: Path) -> Path:
    return copy_tree(tmp_path / "repo").root


def test_two_builds_of_the_same_tree_are_byte_identical(source_root: Path, tmp_path: Path) -> None:
    # GIVEN one tree
    first = packager.build(tmp_path / "out1", root=source_root)
    # WHEN it is built again later, with every file's mtime changed in between
    for path in source_root.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))
    second = packager.build(tmp_path / "out2", root=source_root)
    # THEN the bundles have the same bytes, hence the same name in the bucket
    assert first.sha256 == second.sha256
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256 == hashlib.sha256(first.path.read_bytes()).hexdigest()


def test_a_code_change_changes_the_hash(source_root: Path, tmp_path: Path) -> None:
    before = packager.build(tmp_path / "before", root=source_root)
    # WHEN one library file changes
    (source_root / "shared" / "dynastore" / "errors.py").open("a").write("\n# changed\n")
    after = packager.build(tmp_path / "after", root=source_root)
    # THEN the bundle (and so its object name) changes
    assert before.sha256 != after.sha256


def test_the_bundle_holds_main_the_library_and_pinned_requirements(source_root: Path, tmp_path: Path) -> None:
    # GIVEN a stray cache file next to the sources
    cache = source_root / "shared" / "dynastore" / "__pycache__"
    cache.mkdir(exist_ok=True)
    (cache / "config.cpython-311.pyc").write_bytes(b"junk")
    # WHEN the bundle is built
    bundle = packager.build(tmp_path / "out", root=source_root)
    with zipfile.ZipFile(bundle.path) as archive:
        names = archive.namelist()
        requirements = archive.read("requirements.txt").decode()
        infos = archive.infolist()
    # THEN it has main.py at the root, the dynastore package and a requirements file
    assert "main.py" in names
    assert "dynastore/__init__.py" in names and "dynastore/config.py" in names
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    assert names == sorted(names)
    # AND every requirement is pinned, including the [gcp] extra and its dependencies
    pins = [line for line in requirements.splitlines() if line and not line.startswith("#")]
    assert pins and all("==" in line and ";" not in line for line in pins), pins
    pinned = {line.split("==")[0] for line in pins}
    assert {"functions-framework", "google-cloud-firestore", "google-cloud-storage", "google-cloud-tasks"} <= pinned
    assert {"pydantic", "fastapi", "protobuf"} <= pinned  # base dependency and a transitive one
    assert {"rasterio", "pyarrow"} <= pinned  # the [tasks] extra: built-in tasks run on run_task
    assert "dynastore-assets" not in pinned  # the library ships as source
    # AND nothing of the build machine leaks in
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


def test_a_missing_main_py_is_an_error(source_root: Path, tmp_path: Path) -> None:
    (source_root / "functions" / "gcp" / "main.py").unlink()
    with pytest.raises(packager.PackagingError, match=r"main\.py is missing"):
        packager.build(tmp_path / "out", root=source_root)


def test_the_aws_bundle_holds_the_handlers_the_library_and_the_lambda_pins(source_root: Path, tmp_path: Path) -> None:
    # WHEN the aws bundle is built twice from the same tree
    bundle = packager.build(tmp_path / "out", root=source_root, cloud="aws")
    again = packager.build(tmp_path / "again", root=source_root, cloud="aws")
    with zipfile.ZipFile(bundle.path) as archive:
        names = archive.namelist()
        requirements = archive.read("requirements.txt").decode()
    # THEN it is reproducible, named for aws, and Lambda finds handlers.<name> at its root
    assert bundle.sha256 == again.sha256 and bundle.path.name == "dynastore-aws.zip"
    assert "handlers.py" in names and "main.py" not in names and "dynastore/config.py" in names
    pinned = {line.split("==")[0] for line in requirements.splitlines() if line and not line.startswith("#")}
    assert {"aws-lambda-powertools", "mangum", "boto3", "fastapi", "pydantic"} <= pinned
    assert not {name for name in pinned if name.startswith("google-") or name == "functions-framework"}
    # AND a handler change changes the hash Terraform deploys by
    (source_root / "functions" / "aws" / "handlers.py").open("a").write("\n# changed\n")
    assert packager.build(tmp_path / "after", root=source_root, cloud="aws").sha256 != bundle.sha256


def test_the_lambda_layer_is_fetched_as_linux_x86_64_wheels_for_the_runtime(tmp_path: Path) -> None:
    command = packager.lambda_layer_command(tmp_path / "requirements.txt", tmp_path / "python", "3.12")
    joined = " ".join(command)
    # Wheels only (nothing compiled on the build machine), for Lambda's platform and Python, into python/
    assert "--only-binary=:all:" in command and "--platform manylinux2014_x86_64" in joined
    assert "--python-version 3.12" in joined and f"--target {tmp_path / 'python'}" in joined


def test_an_unknown_cloud_is_an_error(source_root: Path, tmp_path: Path) -> None:
    with pytest.raises(packager.PackagingError, match="unknown cloud 'azure'"):
        packager.build(tmp_path / "out", root=source_root, cloud="azure")
