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


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


Change = Callable[[Tree], None]
Reported = Callable[[str], bool]

# (check, the edit on one side only, how the check reports it): each case is one former test.
ONE_SIDED_EDITS = [
    pytest.param(
        "targets",
        lambda t: append(t.main_py, "\n\n@functions_framework.http\ndef export_catalog(request):\n    return 'ok'\n"),
        lambda p: "'export_catalog'" in p and "not deployed" in p,
        id="a target added to main.py only",
    ),
    pytest.param(
        "targets",
        lambda t: edit(
            t.modules / "functions" / "env.tf",
            'scheduled       = "${var.name_prefix}-scheduled"',
            'scheduled       = "${var.name_prefix}-scheduled"\n    export_catalog = "${var.name_prefix}-export"',
        ),
        lambda p: "'export_catalog'" in p and "does not define" in p,
        id="a function added to terraform only",
    ),
    pytest.param(
        "targets",
        lambda t: edit(
            t.modules / "functions" / "main.tf", "entry_point       = each.key", 'entry_point       = "main"'
        ),
        lambda p: "entry_point must be each.key" in p,
        id="an entry point that is not the target name",
    ),
    pytest.param(
        "targets",
        lambda t: t.main_py.write_text(
            re.sub(
                r"@functions_framework\.cloud_event\n(async )?def on_object_event",
                r"@functions_framework.http\n\1def on_object_event",
                t.main_py.read_text(encoding="utf-8"),
            ),
            encoding="utf-8",
        ),
        lambda p: "Eventarc delivers CloudEvents to 'on_object_event'" in p,
        id="an event target that is not a cloud event function",
    ),
    pytest.param(
        "environment",
        lambda t: edit(
            t.modules / "functions" / "env.tf",
            'DYNASTORE_BACKEND                   = "gcp"',
            'DYNASTORE_BACKEND                   = "gcp"\n    DYNASTORE_GCP_QUEUE_REGION = var.region',
        ),
        lambda p: "DYNASTORE_GCP_QUEUE_REGION is not a field of Settings" in p,
        id="an environment variable set by terraform only",
    ),
    pytest.param(
        "environment",
        lambda t: edit(
            t.modules / "functions" / "env.tf",
            "    DYNASTORE_GCP_RUN_TASK_URL          = local.function_urls.run_task\n",
            "",
        ),
        lambda p: "Settings.gcp_run_task_url is needed on gcp" in p,
        id="a needed setting dropped from terraform",
    ),
    pytest.param(
        "environment",
        lambda t: edit(
            t.modules / "functions" / "env.tf",
            "DYNASTORE_PUBLIC_READ      = tostring(var.public_read)",
            'DYNASTORE_PUBLIC_READ      = tostring(var.public_read)\n        DYNASTORE_API_KEYS = "k:admin"',
        ),
        lambda p: "must come from Secret Manager" in p,
        id="api keys as a plain variable",
    ),
    pytest.param(
        "environment",
        lambda t: edit(t.modules / "functions" / "env.tf", "tostring(var.task_max_attempts)", '"three"'),
        lambda p: "Settings rejects" in p and "task_max_attempts" in p,
        id="a value settings rejects",
    ),
    pytest.param(
        "iam",
        lambda t: append(
            t.gcp_backend / "tasks_queue.py", "\n\ndef pause(client, path):\n    client.pause_queue(name=path)\n"
        ),
        lambda p: p.startswith("cloudtasks.queues.update is needed"),
        id="a new runtime call without its permission",
    ),
    pytest.param(
        "iam",
        lambda t: edit(
            t.modules / "iam" / "main.tf",
            'permissions = ["cloudtasks.queues.delete"]',
            'permissions = ["cloudtasks.queues.delete", "cloudtasks.queues.purge"]',
        ),
        lambda p: p.startswith("cloudtasks.queues.purge is granted"),
        id="a permission no code needs",
    ),
    pytest.param(
        "iam",
        lambda t: append(
            t.modules / "iam" / "main.tf",
            '\nresource "google_project_iam_member" "too_much" {\n  project = var.project_id\n'
            '  role    = "roles/cloudtasks.admin"\n  member  = google_service_account.this["api"].member\n}\n',
        ),
        lambda p: "roles/cloudtasks.admin is broader" in p,
        id="a broad project role",
    ),
    pytest.param(
        "queues",
        lambda t: edit(
            t.root / "shared" / "dynastore" / "services" / "jobs" / "dispatch.py",
            'DEFAULT_QUEUE = "dynastore-tasks"',
            'DEFAULT_QUEUE = "jobs"',
        ),
        lambda p: "the code's DEFAULT_QUEUE is 'jobs'" in p,
        id="a renamed default queue",
    ),
    pytest.param(
        "scheduler",
        lambda t: edit(t.main_py, 'action == "reconcile"', 'action == "reconcile-all"'),
        lambda p: "scheduler job 'reconcile' asks `scheduled` for an action it does not handle" in p,
        id="a scheduler job for an unknown action",
    ),
    pytest.param(
        "indexes",
        lambda t: edit(
            t.modules / "main.tf", "shared/dynastore/backends/gcp/firestore_indexes.json", "terraform/indexes.json"
        ),
        lambda p: "local.indexes_file must default to" in p,
        id="the database module reading another file",
    ),
]


def problems_added_by(tree: Tree, baseline: Baseline, check: str, change: Change) -> list[str]:
    """The problems `check` finds after `change` that it did not find on the unedited copy."""
    before = baseline(check)
    change(tree)
    return new_problems(before, getattr(consistency, f"check_{check}")(tree))


@pytest.mark.parametrize(("check", "change", "reported"), ONE_SIDED_EDITS)
def test_an_edit_on_one_side_only_fails_the_check(
    tree_copy: Tree, terraform_bin: str, baseline: Baseline, check: str, change: Change, reported: Reported
) -> None:
    # GIVEN a copy of the tree WHEN one side is edited THEN the check reports it
    added = problems_added_by(tree_copy, baseline, check, change)
    assert any(reported(problem) for problem in added), added


def test_a_setting_added_to_the_code_only_fails_the_check_for_every_function(
    tree_copy: Tree, terraform_bin: str, baseline: Baseline
) -> None:
    # WHEN config.py gains a gcp setting Terraform does not set
    added = problems_added_by(
        tree_copy,
        baseline,
        "environment",
        lambda t: edit(
            t.config_py,
            "    gcp_bucket_per_catalog: bool = False\n",
            "    gcp_bucket_per_catalog: bool = False\n    gcp_dead_letter_topic: str | None = None\n",
        ),
    )
    assert any("Settings.gcp_dead_letter_topic is needed on gcp" in problem for problem in added), added
    every_function = {"api", "on_object_event", "run_task", "scheduled", "on_stac_event"}
    assert {problem.split(":")[0] for problem in added} == every_function


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


def _sparse_first_index(tree: Tree) -> None:
    document = _sample_indexes()
    document["indexes"][0]["density"] = "SPARSE_ALL"  # type: ignore[index]
    _write_indexes(tree, document)


# (the edit of the module or the index file, how check_indexes reports it), from the sample file
INDEX_EDITS = [
    pytest.param(
        lambda t: append(
            t.modules / "database" / "main.tf",
            '\nresource "google_firestore_index" "by_hand" {\n  project = var.project_id\n  collection = "assets"\n'
            '  fields {\n    field_path = "title"\n    order = "ASCENDING"\n  }\n}\n',
        ),
        lambda p: "expected exactly one google_firestore_index" in p,
        id="an index terraform creates by hand",
    ),
    pytest.param(
        lambda t: edit(
            t.modules / "database" / "indexes.tf",
            'for index in lookup(local.index_file, "indexes", []) :',
            'for index in [for i in lookup(local.index_file, "indexes", []) : i if i.fields[0].fieldPath != "tags"] :',
        ),
        lambda p: "index declared by the backend is not created" in p and "tags" in p,
        id="an index the module drops",
    ),
    pytest.param(
        _sparse_first_index,
        lambda p: "'density' is not mapped" in p,
        id="an index the module cannot express",
    ),
]


@pytest.mark.parametrize(("change", "reported"), INDEX_EDITS)
def test_an_index_edit_on_one_side_fails_the_check(
    tree_copy: Tree, terraform_bin: str, change: Change, reported: Reported
) -> None:
    # GIVEN the sample index file WHEN the module or the file is edited THEN check_indexes reports it
    _write_indexes(tree_copy, _sample_indexes())
    change(tree_copy)
    problems = consistency.check_indexes(tree_copy)
    assert any(reported(problem) for problem in problems), problems


def test_every_runtime_provisioned_resource_is_covered_by_the_iam_roles_and_nothing_more(repo: Tree) -> None:
    # GIVEN the SDK calls of the gcp backend on queues and buckets (created/removed at run time)
    # WHEN they are compared with the permissions of the iam module's custom roles
    problems = consistency.check_iam(repo)
    # THEN each call's permission is granted and no custom permission is unused
    assert problems == []


def test_the_default_task_queue_of_the_code_is_created_by_terraform(repo: Tree) -> None:
    assert consistency.check_queues(repo) == []


def test_every_scheduler_job_asks_for_an_action_scheduled_handles(repo: Tree) -> None:
    assert consistency.check_scheduler(repo) == []


@pytest.mark.parametrize("check", ["targets", "environment", "indexes", "iam", "queues", "scheduler"])
def test_the_unedited_copy_is_as_consistent_as_the_repository(
    terraform_bin: str, check: str, baseline: Baseline
) -> None:
    # The stand-ins of the copy (when the gcp files are not written yet) are themselves consistent,
    # so the edit tests above start from a clean baseline.
    assert baseline(check) == []
