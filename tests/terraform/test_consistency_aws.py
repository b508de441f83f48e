"""terraform/modules/aws against the code it deploys: the repository is consistent, and an edit on
one side only is reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from . import consistency_aws
from .consistency import Tree


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


@pytest.mark.parametrize("check", ["handlers", "environment", "iam", "scheduler", "queues"])
def test_the_aws_module_is_consistent_with_the_code(repo: Tree, terraform_bin: str, check: str) -> None:
    assert getattr(consistency_aws, f"check_{check}")(repo) == []


def test_the_runtime_provisioning_grants_are_read_from_iam_tf(repo: Tree) -> None:
    granted = consistency_aws.granted_runtime_actions(repo)
    assert {"sqs:CreateQueue", "sqs:DeleteQueue", "s3:CreateBucket", "s3:PutBucketNotification"} <= granted


def _backend_file(tree: Tree, text: str) -> None:
    append(consistency_aws.aws_backend(tree) / "pauser.py", text)


def _iam(tree: Tree) -> Path:
    return consistency_aws.modules(tree) / "iam.tf"


def _delete_queue_without_its_grant(tree: Tree) -> None:
    _backend_file(tree, "def drop(client, url):\n    client.delete_queue(QueueUrl=url)\n")
    edit(consistency_aws.modules(tree) / "iam.tf", '"sqs:DeleteQueue", ', "")


ONE_SIDED_EDITS = [
    pytest.param(
        "handlers",
        lambda t: append(
            consistency_aws.handlers_py(t),
            "\n\n@logger.inject_lambda_context\ndef export(event, context):\n    return {}\n",
        ),
        lambda p: "handler 'export'" in p and "not deployed" in p,
        id="a handler added to the code only",
    ),
    pytest.param(
        "handlers",
        lambda t: edit(
            consistency_aws.modules(t) / "functions" / "env.tf",
            'maintenance     = "${var.name_prefix}-maintenance"',
            'maintenance     = "${var.name_prefix}-maintenance"\n    export = "${var.name_prefix}-export"',
        ),
        lambda p: "handlers.export" in p and "does not define" in p,
        id="a function added to terraform only",
    ),
    pytest.param(
        "environment",
        lambda t: edit(
            consistency_aws.modules(t) / "functions" / "env.tf",
            'DYNASTORE_BACKEND          = "aws"',
            'DYNASTORE_BACKEND          = "aws"\n    DYNASTORE_AWS_TABLE_NAME = "x"',
        ),
        lambda p: "DYNASTORE_AWS_TABLE_NAME is not a field of Settings" in p,
        id="an environment variable set by terraform only",
    ),
    pytest.param(
        "environment",
        lambda t: edit(
            consistency_aws.modules(t) / "functions" / "env.tf",
            "DYNASTORE_PUBLIC_READ      = tostring(var.public_read)",
            'DYNASTORE_PUBLIC_READ      = tostring(var.public_read)\n        DYNASTORE_API_KEYS = "k:admin"',
        ),
        lambda p: "must come from Secrets Manager" in p,
        id="api keys as a plain variable",
    ),
    pytest.param(
        "environment",
        lambda t: edit(
            t.config_py,
            "    aws_bucket: str | None = None\n",
            "    aws_bucket: str | None = None\n    aws_kms_key_arn: str | None = None\n",
        ),
        lambda p: "Settings.aws_kms_key_arn is needed on aws" in p,
        id="a setting added to the code only",
    ),
    pytest.param(
        "iam",
        lambda t: edit(_iam(t), '"sqs:DeleteQueue", ', '"sqs:DeleteQueue", "sqs:PurgeQueue", '),
        lambda p: p.startswith("sqs:PurgeQueue is granted for runtime provisioning but no code"),
        id="a grant no code needs",
    ),
    pytest.param(
        "iam",
        lambda t: edit(_iam(t), '"s3:PutObject", "s3:DeleteObject"', '"s3:PutObject"'),
        lambda p: p.startswith("s3:DeleteObject is needed by ['s3.py'] but no Objects or Records statement"),
        id="an object call without its permission",
    ),
    pytest.param(
        "iam",
        lambda t: edit(_iam(t), '"dynamodb:Query", ', '"dynamodb:Query", "dynamodb:Scan", '),
        lambda p: p.startswith("dynamodb:Scan is granted on objects or records but no code"),
        id="a table grant no code needs",
    ),
    pytest.param(
        "iam",
        _delete_queue_without_its_grant,
        lambda p: p.startswith("sqs:DeleteQueue is needed"),
        id="a runtime call without its permission",
    ),
    pytest.param(
        "scheduler",
        lambda t: edit(
            consistency_aws.handlers_py(t),
            'MAINTENANCE_ACTIONS = ("all", "cleanup", "reconcile", "aios_registry")',
            'MAINTENANCE_ACTIONS = ("all", "cleanup", "reconcile-all", "aios_registry")',
        ),
        lambda p: "schedule 'reconcile' asks maintenance for an action it does not handle" in p,
        id="a schedule for an unknown action",
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
]


@pytest.mark.parametrize(("check", "change", "reported"), ONE_SIDED_EDITS)
def test_an_edit_on_one_side_only_fails_the_aws_check(
    tree_copy: Tree, terraform_bin: str, check: str, change: Callable[[Tree], None], reported: Callable[[str], bool]
) -> None:
    # GIVEN a consistent copy of the tree WHEN one side is edited THEN the check reports it
    function = getattr(consistency_aws, f"check_{check}")
    assert function(tree_copy) == []
    change(tree_copy)
    problems = function(tree_copy)
    assert any(reported(problem) for problem in problems), problems
