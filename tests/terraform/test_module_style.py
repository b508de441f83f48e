"""What a platform team checks in review: typed, described and validated inputs, described outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import consistency
from .conftest import ROOT

MODULE_DIRS = sorted(
    {path.parent for path in (ROOT / "terraform").rglob("*.tf") if ".terraform" not in path.parts},
)


def _blocks(directory: Path, kind: str) -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = {}
    for path in sorted(directory.glob("*.tf")):
        for block in consistency.load_hcl(path).get(kind, []):
            found.update(block)
    return found


@pytest.mark.parametrize("directory", MODULE_DIRS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_variable_has_a_type_and_a_description(directory: Path) -> None:
    variables = _blocks(directory, "variable")
    missing = [name for name, body in variables.items() if not body.get("type") or not body.get("description")]
    assert missing == []


@pytest.mark.parametrize("directory", MODULE_DIRS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_output_has_a_description(directory: Path) -> None:
    outputs = _blocks(directory, "output")
    assert [name for name, body in outputs.items() if not body.get("description")] == []


def test_user_facing_inputs_are_validated() -> None:
    # GIVEN the inputs a user types (the root module and the example)
    for directory in (ROOT / "terraform" / "modules" / "gcp", ROOT / "terraform" / "examples" / "gcp-basic"):
        variables = _blocks(directory, "variable")
        # THEN the free-form ones that name things or bound retention carry a validation block
        for name in ("project_id", "region", "name_prefix"):
            assert variables[name].get("validation"), f"{directory.name}: {name} has no validation"
    root = _blocks(ROOT / "terraform" / "modules" / "gcp", "variable")
    for name in (
        "landing_bucket_name",
        "soft_delete_retention_days",
        "firestore_database",
        "api_invokers",
        "api_keys_secret_id",
        "function_source_archive",
        "runtime",
        "task_max_attempts",
        "base_url",
    ):
        assert root[name].get("validation"), f"{name} has no validation"


def test_no_secret_value_is_a_variable() -> None:
    # API keys come from Secret Manager: no input takes key material.
    for directory in MODULE_DIRS:
        for name in _blocks(directory, "variable"):
            assert not name.endswith(("api_keys", "_key", "_password", "_token")), f"{directory}: variable {name}"
