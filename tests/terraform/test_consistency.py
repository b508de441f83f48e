"""Terraform ↔ code consistency: targets, environment variables, Firestore indexes.

The first tests check the repository itself. The others edit a COPY of the tree — adding a target,
a variable or an index on one side only — and show the checks catch it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from . import consistency
from .conftest import copy_tree
from .consistency import Tree

Baseline = Callable[[str], list[str]]


@pytest.fixture(scope="session")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """The problems each check finds on an unedited copy (computed once; the edits add to them)."""
    tree = copy_tree(tmp_path_factory.mktemp("baseline") / "repo")
    found: dict[str, list[str]] = {}

    def problems(check: str) -> list[str]:
        if check not in found:
            found[check] = getattr(consistency, f"check_{check}")(tree)
        return found[check]

    return problems


def new_problems(before: list[str], after: list[str]) -> list[str]:
    return [problem for problem in after if problem not in before]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path} no longer contains {old!r}: update this test"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# ------------------------------------------------------------------------------------ the repository


def test_every_target_of_main_py_is_deployed_with_its_entry_point(repo: Tree, terraform_bin: str) -> None:
    # GIVEN functions/gcp/main.py and terraform/modules/gcp
    # WHEN the deployed functions are compared with the functions-framework targets
    problems = consistency.check_targets(repo)
    # THEN each target is deployed once, with the target as entry point, and nothing else
    assert problems == []


def test_every_function_environment_variable_is_a_setting_and_every_needed_setting_is_set(
    repo: Tree, terraform_bin: str
) -> None:
    # GIVEN the Settings class and the functions module's environment
    # WHEN both are compared (see consistency.required_settings for what "needed" means)
    problems = consistency.check_environment(repo)
    # THEN no unknown variable, none missing, and Settings accepts the values
    assert problems == []


def test_every_index_of_the_backend_index_file_is_created(repo: Tree, terraform_bin: str) -> None:
    # GIVEN the gcp backend's index file
    # WHEN Terraform evaluates the database module on it
    problems = consistency.check_indexes(repo)
    # THEN exactly the declared indexes and field overrides become resources
    assert problems == []


def test_landing_triggers_cover_the_event_types_indexing_understands(repo: Tree) -> None:
    # GIVEN the Eventarc event types of the landing bucket triggers
    from dynastore.backends.gcp.events import gcs_event_kind

    triggers = consistency.load_hcl(repo.modules / "functions" / "triggers.tf")
    event_types = next(block["storage_event_types"] for block in triggers["locals"] if "storage_event_types" in block)
    kinds = {gcs_event_kind(event_type) for event_type in event_types.values()}
    # THEN every type is one the indexing service maps, and creation, deletion and metadata updates all arrive
    assert kinds == {"finalized", "deleted", "metadata-updated"}
    assert set(event_types.values()) >= {
        "google.cloud.storage.object.v1.finalized",
        "google.cloud.storage.object.v1.deleted",
        "google.cloud.storage.object.v1.metadataUpdated",
        "google.cloud.storage.object.v1.archived",  # a delete when object versioning is on
    }


def test_the_bundle_is_uploaded_under_its_content_hash_and_deployed_from_there(repo: Tree) -> None:
    # GIVEN the functions module
    main_tf = consistency.load_hcl(repo.modules / "functions" / "main.tf")
    bundle = next(
        block["google_storage_bucket_object"]["bundle"]
        for block in main_tf["resource"]
        if "google_storage_bucket_object" in block
    )
    function = next(
        block["google_cloudfunctions2_function"]["this"]
        for block in main_tf["resource"]
        if "google_cloudfunctions2_function" in block
    )
    # THEN the object name is the bundle's SHA-256 and every function builds from that object
    assert "filesha256(var.source_archive)" in bundle["name"]
    storage_source = function["build_config"][0]["source"][0]["storage_source"][0]
    assert consistency._expression(storage_source["object"]) == "google_storage_bucket_object.bundle.name"
    # AND the example deploys the file the packager writes
    from .conftest import load_packager

    BUNDLE_NAME = load_packager().BUNDLE_NAME
    example = (repo.root / "terraform" / "examples" / "gcp-basic" / "main.tf").read_text(encoding="utf-8")
    assert f"dist/functions/{BUNDLE_NAME}" in example


def test_example_has_no_hard_coded_project_or_credentials(repo: Tree) -> None:
    # GIVEN the example a user copies
    example_dir = repo.root / "terraform" / "examples" / "gcp-basic"
    text = "\n".join(path.read_text(encoding="utf-8") for path in sorted(example_dir.glob("*.tf")))
    variables = consistency.load_hcl(example_dir / "variables.tf")["variable"]
    project = next(block["project_id"] for block in variables if "project_id" in block)
    # THEN the project is a required, validated input and no credentials are configured
    assert "default" not in project and project.get("validation")
    assert not re.search(r"\bcredentials\s*=|access_token\s*=|\.json\"", text)
    assert "project = var.project_id" in text


# ------------------------------------------------------------------------------------ edits on one side


def test_a_target_added_to_main_py_only_fails_the_check(
    tree_copy: Tree, terraform_bin: str, baseline: Baseline
) -> None:
    before = baseline("targets")
    # WHEN a new functions-framework target appears in main.py but not in Terraform
    with tree_copy.main_py.open("a", encoding="utf-8") as handle:
        handle.write("\n\n@functions_framework.http\ndef export_catalog(request):\n    return 'ok'\n")
    # THEN the check reports it
    added = new_problems(before, consistency.check_targets(tree_copy))
    assert any("'export_catalog'" in problem and "not deployed" in problem for problem in added), added


def test_a_function_added_to_terraform_only_fails_the_check(
    tree_copy: Tree, terraform_bin: str, baseline: Baseline
) -> None:
    before = baseline("targets")
    # WHEN Terraform deploys an entry point main.py does not define
    edit(
        tree_copy.modules / "functions" / "env.tf",
        'scheduled       = "${var.name_prefix}-scheduled"',
        'scheduled       = "${var.name_prefix}-scheduled"\n    export_catalog = "${var.name_prefix}-export"',
    )
    # THEN the check reports it
    added = new_problems(before, consistency.check_targets(tree_copy))
    assert any("'export_catalog'" in problem and "does not define" in problem for problem in added), added


def test_an_entry_point_that_is_not_the_target_name_fails_the_check(
    tree_copy: Tree, terraform_bin: str, baseline: Baseline
) -> None:
    before = baseline("targets")
    edit(tree_copy.modules / "functions" / "main.tf", "entry_point       = each.key", 'entry_point       = "main"')
    added = new_problems(before, consistency.check_targets(tree_copy))
    assert any("entry_point must be each.key" in problem for problem in added), added


def test_an_environment_variable_set_by_terraform_only_fails_the_check(
    tree_copy: Tree, terraform_bin: str, baseline: Baseline
) -> None:
    before = baseline("environment")
    # WHEN a function gets a variable Settings does not have
    edit(
        tree_copy.modules / "functions" / "env.tf",
        'DYNASTORE_BACKEND                   = "gcp"',
        'DYNASTORE_BACKEND                   = "gcp"\n    DYNASTORE_GCP_QUEUE_REGION = var.region',
    )
    added = new_problems(before, consistency.check_environment(tree_copy))
    assert any("DYNASTORE_GCP_QUEUE_REGION is not a field of Settings" in problem for problem in added), added


def test_a_setting_added_to_the_code_only_fails_the_check(
    tree_copy: Tree, terraform_bin: str, baseline: Baseline
) -> None:
    before = baseline("environment")
    # WHEN config.py gains a gcp setting Terraform does not set
    edit(
        tree_copy.config_py,
        "    gcp_bucket_per_catalog: bool = False\n",
        "    gcp_bucket_per_catalog: bool = False\n    gcp_dead_letter_topic: str | None = None\n",
    )
    added = new_problems(before, consistency.check_environment(tree_copy))
    assert any("Settings.gcp_dead_letter_topic is needed on gcp" in problem for problem in added), added
    assert {problem.split(":")[0] for problem in added} == {"api", "on_object_event", "run_task", "scheduled"}


def test_a_needed_setting_dropped_from_terraform_fails_the_check(
    tree_copy: Tree, terraform_bin: str, baseline: Baseline
) -> None:
    before = baseline("environment")
    edit(
        tree_copy.modules / "functions" / "env.tf",
        "    DYNASTORE_GCP_RUN_TASK_URL          = local.function_urls.run_task\n",
        "",
    )
    added = new_problems(before, consistency.check_environment(tree_copy))
    assert any("Settings.gcp_run_task_url is needed on gcp" in problem for problem in added), added


def test_api_keys_as_a_plain_variable_fail_the_check(tree_copy: Tree, terraform_bin: str, baseline: Baseline) -> None:
    before = baseline("environment")
    edit(
        tree_copy.modules / "functions" / "env.tf",
        "DYNASTORE_PUBLIC_READ      = tostring(var.public_read)",
        'DYNASTORE_PUBLIC_READ      = tostring(var.public_read)\n        DYNASTORE_API_KEYS = "k:admin"',
    )
    added = new_problems(before, consistency.check_environment(tree_copy))
    assert any("must come from Secret Manager" in problem for problem in added), added


def test_a_value_settings_rejects_fails_the_check(tree_copy: Tree, terraform_bin: str, baseline: Baseline) -> None:
    before = baseline("environment")
    edit(tree_copy.modules / "functions" / "env.tf", "tostring(var.task_max_attempts)", '"three"')
    added = new_problems(before, consistency.check_environment(tree_copy))
    assert any("Settings rejects" in problem and "task_max_attempts" in problem for problem in added), added


def _write_indexes(tree: Tree, document: dict[str, object]) -> None:
    tree.index_file.write_text(json.dumps(document), encoding="utf-8")


def _sample_indexes() -> dict[str, object]:
    return {
        "indexes": [
            {
                "collectionGroup": "assets",
                "queryScope": "COLLECTION",
                "fields": [
                    {"fieldPath": "catalog_id", "order": "ASCENDING"},
                    {"fieldPath": "updated", "order": "DESCENDING"},
                ],
            },
            {
                "collectionGroup": "assets",
                "queryScope": "COLLECTION",
                "fields": [
                    {"fieldPath": "tags", "arrayConfig": "CONTAINS"},
                    {"fieldPath": "updated", "order": "ASCENDING"},
                ],
            },
        ],
        "fieldOverrides": [
            {"collectionGroup": "processed_events", "fieldPath": "expires_at", "ttl": True, "indexes": []}
        ],
    }


def test_an_index_added_to_the_backend_file_is_created_without_touching_terraform(
    tree_copy: Tree, terraform_bin: str
) -> None:
    # GIVEN an index file with two composite indexes and a TTL override
    _write_indexes(tree_copy, _sample_indexes())
    assert consistency.check_indexes(tree_copy) == []
    # WHEN the backend declares one more index (and Terraform is not edited)
    document = _sample_indexes()
    document["indexes"].append(  # type: ignore[attr-defined]
        {
            "collectionGroup": "jobs",
            "queryScope": "COLLECTION",
            "fields": [{"fieldPath": "status", "order": "ASCENDING"}, {"fieldPath": "created", "order": "DESCENDING"}],
        }
    )
    _write_indexes(tree_copy, document)
    # THEN Terraform creates it: the file is the single source of truth
    assert consistency.check_indexes(tree_copy) == []
    created = consistency.evaluate(
        tree_copy.modules / "database",
        "length(local.composite_indexes)",
        {
            "project_id": "p",
            "database_name": "(default)",
            "location_id": "eu",
            "indexes_file": str(tree_copy.index_file),
        },
    )
    assert created == 3


def test_an_index_terraform_creates_by_hand_fails_the_check(tree_copy: Tree, terraform_bin: str) -> None:
    _write_indexes(tree_copy, _sample_indexes())
    # WHEN an index is added on the Terraform side only
    with (tree_copy.modules / "database" / "main.tf").open("a", encoding="utf-8") as handle:
        handle.write(
            '\nresource "google_firestore_index" "by_hand" {\n  project = var.project_id\n  collection = "assets"\n'
            '  fields {\n    field_path = "title"\n    order = "ASCENDING"\n  }\n}\n'
        )
    problems = consistency.check_indexes(tree_copy)
    assert any("expected exactly one google_firestore_index" in problem for problem in problems), problems


def test_an_index_the_module_drops_fails_the_check(tree_copy: Tree, terraform_bin: str) -> None:
    _write_indexes(tree_copy, _sample_indexes())
    # WHEN the module filters the file (so a declared index would not be created)
    edit(
        tree_copy.modules / "database" / "indexes.tf",
        'for index in lookup(local.index_file, "indexes", []) :',
        'for index in [for i in lookup(local.index_file, "indexes", []) : i if i.fields[0].fieldPath != "tags"] :',
    )
    problems = consistency.check_indexes(tree_copy)
    assert any(
        "index declared by the backend is not created" in problem and "tags" in problem for problem in problems
    ), problems


def test_an_index_the_module_cannot_express_fails_the_check(tree_copy: Tree, terraform_bin: str) -> None:
    document = _sample_indexes()
    document["indexes"][0]["density"] = "SPARSE_ALL"  # type: ignore[index]
    _write_indexes(tree_copy, document)
    problems = consistency.check_indexes(tree_copy)
    assert any("'density' is not mapped" in problem for problem in problems), problems


def test_the_database_module_reading_another_file_fails_the_check(tree_copy: Tree, terraform_bin: str) -> None:
    edit(
        tree_copy.modules / "main.tf",
        "shared/dynastore/backends/gcp/firestore_indexes.json",
        "terraform/indexes.json",
    )
    problems = consistency.check_indexes(tree_copy)
    assert any("local.indexes_file must default to" in problem for problem in problems), problems


def test_every_runtime_provisioned_resource_is_covered_by_the_iam_roles_and_nothing_more(repo: Tree) -> None:
    # GIVEN the SDK calls of the gcp backend on queues and buckets (created/removed at run time)
    # WHEN they are compared with the permissions of the iam module's custom roles
    problems = consistency.check_iam(repo)
    # THEN each call's permission is granted and no custom permission is unused
    assert problems == []


def test_a_new_runtime_call_without_its_permission_fails_the_check(tree_copy: Tree, baseline: Baseline) -> None:
    before = baseline("iam")
    with (tree_copy.gcp_backend / "tasks_queue.py").open("a", encoding="utf-8") as handle:
        handle.write("\n\ndef pause(client, path):\n    client.pause_queue(name=path)\n")
    added = new_problems(before, consistency.check_iam(tree_copy))
    assert any(problem.startswith("cloudtasks.queues.update is needed") for problem in added), added


def test_a_permission_no_code_needs_fails_the_check(tree_copy: Tree, baseline: Baseline) -> None:
    before = baseline("iam")
    edit(
        tree_copy.modules / "iam" / "main.tf",
        'permissions = ["cloudtasks.queues.delete"]',
        'permissions = ["cloudtasks.queues.delete", "cloudtasks.queues.purge"]',
    )
    added = new_problems(before, consistency.check_iam(tree_copy))
    assert any(problem.startswith("cloudtasks.queues.purge is granted") for problem in added), added


def test_a_broad_project_role_fails_the_check(tree_copy: Tree, baseline: Baseline) -> None:
    before = baseline("iam")
    with (tree_copy.modules / "iam" / "main.tf").open("a", encoding="utf-8") as handle:
        handle.write(
            '\nresource "google_project_iam_member" "too_much" {\n  project = var.project_id\n'
            '  role    = "roles/cloudtasks.admin"\n  member  = google_service_account.this["api"].member\n}\n'
        )
    added = new_problems(before, consistency.check_iam(tree_copy))
    assert any("roles/cloudtasks.admin is broader" in problem for problem in added), added


def test_the_default_task_queue_of_the_code_is_created_by_terraform(repo: Tree) -> None:
    assert consistency.check_queues(repo) == []


def test_a_renamed_default_queue_fails_the_check(tree_copy: Tree) -> None:
    edit(
        tree_copy.root / "shared" / "dynastore" / "services" / "jobs" / "dispatch.py",
        'DEFAULT_QUEUE = "dynastore-tasks"',
        'DEFAULT_QUEUE = "jobs"',
    )
    problems = consistency.check_queues(tree_copy)
    assert any("the code's DEFAULT_QUEUE is 'jobs'" in problem for problem in problems), problems


def test_every_scheduler_job_asks_for_an_action_scheduled_handles(repo: Tree) -> None:
    assert consistency.check_scheduler(repo) == []


def test_a_scheduler_job_for_an_unknown_action_fails_the_check(tree_copy: Tree, baseline: Baseline) -> None:
    before = baseline("scheduler")
    edit(tree_copy.main_py, 'action == "reconcile"', 'action == "reconcile-all"')
    added = new_problems(before, consistency.check_scheduler(tree_copy))
    assert any("scheduler job 'reconcile' asks `scheduled` for an action it does not handle" in p for p in added), added


def test_an_event_target_that_is_not_a_cloud_event_function_fails_the_check(
    tree_copy: Tree, terraform_bin: str, baseline: Baseline
) -> None:
    before = baseline("targets")
    text = tree_copy.main_py.read_text(encoding="utf-8")
    text = re.sub(
        r"@functions_framework\.cloud_event\n(async )?def on_object_event",
        r"@functions_framework.http\n\1def on_object_event",
        text,
    )
    tree_copy.main_py.write_text(text, encoding="utf-8")
    added = new_problems(before, consistency.check_targets(tree_copy))
    assert any("Eventarc delivers CloudEvents to 'on_object_event'" in problem for problem in added), added


@pytest.mark.parametrize("check", ["targets", "environment", "indexes", "iam", "queues", "scheduler"])
def test_the_unedited_copy_is_as_consistent_as_the_repository(
    terraform_bin: str, check: str, baseline: Baseline
) -> None:
    # The stand-ins of the copy (when the gcp files are not written yet) are themselves consistent,
    # so the edit tests above start from a clean baseline.
    assert baseline(check) == []
