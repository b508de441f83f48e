"""The consistency checks of ``consistency.py`` for the aws deployment (no cloud access).

- **handlers**: every Lambda handler of ``functions/aws/handlers.py`` (a module-level function
  decorated with ``logger.inject_lambda_context``) is deployed as ``handlers.<name>``, and nothing else;
- **environment**: every variable a function gets is a ``Settings`` field of the aws backend, the
  API keys are never a plain variable, every aws setting Terraform must decide is set, and
  ``Settings`` accepts the values;
- **iam**: the SDK calls of ``backends/aws`` that create or remove resources at run time are granted
  by the ``RuntimeProvisioning`` statements of ``terraform/modules/aws/iam.tf``, and (once the backend
  has adapters) nothing more is;
- **table**: the metadata table Terraform creates has the global secondary indexes the code queries
  (``backends/aws/dynamo_table.INDEXES``, each on ``<index>pk`` / ``<index>sk``, projecting all);
- **scheduler** and **queues**: every schedule asks ``maintenance`` for an action it handles; the
  default task queue of the code is the one Terraform creates and wires to ``run_task``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from .consistency import (
    ENV_PREFIX,
    ConsistencyError,
    Tree,
    _expression,
    _module_constant,
    evaluate,
    load_hcl,
    resources,
    settings_fields,
    settings_validate,
)

# Settings a deployed aws function must not set: other backends, the local process model, test endpoints.
FOREIGN_AWS_SETTINGS = re.compile(
    r"^(gcp_.*|data_dir|watch_bucket|worker_threads|.*emulator.*|aws_endpoint_url|aws_services_endpoint_url"
    r"|aws_s3_path_style)$"
)
# Only the api function reads the API keys.
API_ONLY = {"aws_api_keys_secret_arn"}

FUNCTION_VARIABLES: dict[str, Any] = {
    "name_prefix": "dyn",
    "region": "eu-west-1",
    "landing_bucket": "dyn-landing-123456789012",
    "table_prefix": "dyn",
    "queue_prefix": "dyn",
    "bucket_per_catalog": False,
    "notification_queue_arn": "arn:aws:sqs:eu-west-1:123456789012:dyn-object-events",
    "api_keys_secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:dyn-api-keys-AbCdEf",
    "public_read": False,
    "retention_days": 30,
    "task_max_attempts": 3,
    "max_upload_bytes": 10485760,
    "log_level": "INFO",
    "esgf_catalog_id": "esgf",
}

# boto3 calls of shared/dynastore/backends/aws on resources created or removed at run time -> IAM action.
RUNTIME_CALLS: dict[str, str] = {
    r"\.create_queue\(": "sqs:CreateQueue",
    r"\.get_queue_url\(": "sqs:GetQueueUrl",
    r"\.get_queue_attributes\(": "sqs:GetQueueAttributes",
    r"\.delete_queue\(QueueUrl": "sqs:DeleteQueue",
    r"\.list_queues\(": "sqs:ListQueues",
    r"\.send_message\(": "sqs:SendMessage",
    r"\.create_bucket\(": "s3:CreateBucket",
    r"\.delete_bucket\(Bucket": "s3:DeleteBucket",
    r"\.put_bucket_notification_configuration\(": "s3:PutBucketNotification",
}

# boto3 calls on the landing bucket's objects and the metadata table -> the IAM actions they need
# (the Objects and Records statements). Batch and transaction items need the action of each item.
DATA_CALLS: dict[str, tuple[str, ...]] = {
    r"\.get_object\(|\.head_object\(|\"get_object\"": ("s3:GetObject",),
    r"\.put_object\(|\"put_object\"": ("s3:PutObject",),
    r"\.copy_object\(": ("s3:GetObject", "s3:PutObject"),
    r"\.delete_objects?\(": ("s3:DeleteObject",),
    r"list_objects_v2|\.head_bucket\(": ("s3:ListBucket",),
    r"\.get_item\(": ("dynamodb:GetItem",),
    r"\.batch_get_item\(": ("dynamodb:BatchGetItem",),
    r"\.query\(": ("dynamodb:Query",),
    r"\.scan\(": ("dynamodb:Scan",),
    r"\.put_item\(|\"Put\":|\"PutRequest\"": ("dynamodb:PutItem",),
    r"\.update_item\(|\"Update\":": ("dynamodb:UpdateItem",),
    r"\.delete_item\(|\"Delete\":|\"DeleteRequest\"": ("dynamodb:DeleteItem",),
    r"\"ConditionCheck\":": ("dynamodb:ConditionCheckItem",),
    r"\.batch_write_item\(": ("dynamodb:BatchWriteItem",),
    r"\.transact_write_items\(": ("dynamodb:TransactWriteItems",),
}


def modules(tree: Tree) -> Path:
    return tree.root / "terraform" / "modules" / "aws"


def handlers_py(tree: Tree) -> Path:
    return tree.root / "functions" / "aws" / "handlers.py"


def aws_backend(tree: Tree) -> Path:
    return tree.root / "shared" / "dynastore" / "backends" / "aws"


def lambda_handlers(path: Path) -> set[str]:
    """Module-level functions decorated with ``<logger>.inject_lambda_context``."""
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(target, ast.Attribute) and target.attr == "inject_lambda_context":
                    found.add(node.name)
    return found


def _functions_locals(tree: Tree, variables: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = evaluate(
        modules(tree) / "functions", "{ environment = local.environment, names = local.function_names }", variables
    )
    return result


def check_handlers(tree: Tree) -> list[str]:
    if not handlers_py(tree).is_file():
        return ["functions/aws/handlers.py is missing: there is nothing to deploy"]
    try:
        # Not strict: a handler added on one side leaves its environment incomplete; the names are what matter here.
        names = evaluate(modules(tree) / "functions", "local.function_names", FUNCTION_VARIABLES, strict=False)
    except ConsistencyError as exc:
        return [str(exc)]
    problems = []
    in_code = lambda_handlers(handlers_py(tree))
    for name in sorted(in_code - set(names)):
        problems.append(f"handler {name!r} of functions/aws/handlers.py is not deployed by terraform/modules/aws")
    for name in sorted(set(names) - in_code):
        problems.append(f"terraform deploys handlers.{name}, which functions/aws/handlers.py does not define")
    found = resources(modules(tree) / "functions", "aws_lambda_function")
    for key, (_path, body) in found.items():
        if body.get("handler") != "handlers.${each.key}":
            problems.append(f"{key}: handler must be handlers.${{each.key}}, not {body.get('handler')!r}")
        if _expression(body.get("for_each", "")) != "local.function_names":
            problems.append(f"{key}: for_each must be local.function_names")
    if len(found) != 1:
        problems.append(f"expected exactly one aws_lambda_function (for_each over the handlers), found {sorted(found)}")
    return problems


def check_environment(tree: Tree) -> list[str]:
    try:
        fields = settings_fields(tree.config_py)
        evaluated = _functions_locals(tree, FUNCTION_VARIABLES)
    except ConsistencyError as exc:
        return [str(exc)]
    by_env = {env: field for field in fields.values() for env in field.env_names}
    needed = {"backend"} | {name for name in fields if name.startswith("aws_") and not FOREIGN_AWS_SETTINGS.match(name)}
    problems = []
    for target, env in sorted(evaluated["environment"].items()):
        for key in sorted(env):
            if not key.startswith(ENV_PREFIX):
                continue  # POWERTOOLS_* and the like configure libraries, not Settings
            field = by_env.get(key.upper())
            if field is None:
                problems.append(f"{target}: {key} is not a field of Settings (shared/dynastore/config.py)")
            elif FOREIGN_AWS_SETTINGS.match(field.name):
                problems.append(f"{target}: {key} configures another backend or tests ({field.name})")
        if "DYNASTORE_API_KEYS" in env:
            problems.append(f"{target}: DYNASTORE_API_KEYS must come from Secrets Manager, not a plain variable")
        given = {key.upper() for key in env}
        for name in sorted(needed - (set() if target == "api" else API_ONLY)):
            if not fields[name].env_names & given:
                problems.append(
                    f"{target}: Settings.{name} is needed on aws but none of {sorted(fields[name].env_names)} is set"
                )
        if env.get("DYNASTORE_BACKEND") != "aws":
            problems.append(f"{target}: DYNASTORE_BACKEND is {env.get('DYNASTORE_BACKEND')!r}, not 'aws'")
        error = settings_validate(tree.config_py, {k: v for k, v in env.items() if k.startswith(ENV_PREFIX)})
        if error:
            problems.append(f"{target}: Settings rejects the environment Terraform sets: {error}")
    return problems


def runtime_actions(tree: Tree, calls: dict[str, Any] = RUNTIME_CALLS) -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    for path in sorted(aws_backend(tree).glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for pattern, actions in calls.items():
            if re.search(pattern, text):
                for action in (actions,) if isinstance(actions, str) else actions:
                    used.setdefault(action, set()).add(path.name)
    return used


def granted_runtime_actions(tree: Tree, fields: tuple[str, ...] = ("runtime",)) -> set[str]:
    """The actions of the RuntimeProvisioning statements (or of the grants' ``fields``), as iam.tf's
    locals evaluate them."""
    iam = load_hcl(modules(tree) / "iam.tf")
    local_lists = {key: value for block in iam.get("locals", []) for key, value in block.items()}
    granted: set[str] = set()
    for target, grant in local_lists.get("grants", {}).items():
        expression = " ".join(_expression(grant.get(field, "")) for field in fields)
        for name in re.findall(r"local\.(\w+)", expression):
            values = local_lists.get(name)
            if not isinstance(values, list):
                raise ConsistencyError(f"iam.tf: {target}.runtime uses local.{name}, which is not a list of actions")
            granted.update(values)
    return granted


def check_iam(tree: Tree) -> list[str]:
    try:
        granted = granted_runtime_actions(tree)
    except ConsistencyError as exc:
        return [str(exc)]
    used = runtime_actions(tree)
    problems = [
        f"{action} is needed by {sorted(files)} but no RuntimeProvisioning statement of terraform/modules/aws grants it"
        for action, files in sorted(used.items())
        if action not in granted
    ]
    built = any(path.name not in {"__init__.py", "events.py"} for path in aws_backend(tree).glob("*.py"))
    if built:  # before the backend's adapters exist, nothing can be "unused" yet
        problems += [
            f"{action} is granted for runtime provisioning but no code of backends/aws needs it"
            for action in sorted(granted - set(used))
        ]
        data_granted = granted_runtime_actions(tree, ("objects", "records"))
        data_used = runtime_actions(tree, DATA_CALLS)
        problems += [
            f"{action} is needed by {sorted(files)} but no Objects or Records statement grants it"
            for action, files in sorted(data_used.items())
            if action not in data_granted
        ]
        problems += [
            f"{action} is granted on objects or records but no code of backends/aws needs it"
            for action in sorted(data_granted - set(data_used))
        ]
    return problems


def check_scheduler(tree: Tree) -> list[str]:
    try:
        actions = set(_module_constant(handlers_py(tree), "MAINTENANCE_ACTIONS"))
    except (ConsistencyError, OSError) as exc:
        return [str(exc)]
    variables = {
        key: value for block in load_hcl(modules(tree) / "variables.tf")["variable"] for key, value in block.items()
    }
    schedules = variables.get("schedules", {}).get("default", {})
    problems = [
        f"schedule {name!r} asks maintenance for an action it does not handle ({sorted(actions)})"
        for name in sorted(schedules)
        if name not in actions
    ]
    problems += [f"no schedule runs {name!r}" for name in ("cleanup", "reconcile") if name not in schedules]
    scheduler = resources(modules(tree), "aws_scheduler_schedule")
    for key, (_path, body) in scheduler.items():
        if "action = each.key" not in str(body.get("target", [{}])[0].get("input", "")):
            problems.append(f"{key}: the schedule's input must be {{action = <schedule key>}}")
    return problems


def check_queues(tree: Tree) -> list[str]:
    try:
        default_queue = _module_constant(
            tree.root / "shared" / "dynastore" / "services" / "jobs" / "dispatch.py", "DEFAULT_QUEUE"
        )
    except (ConsistencyError, OSError) as exc:
        return [str(exc)]
    main_locals = {
        key: value for block in load_hcl(modules(tree) / "main.tf").get("locals", []) for key, value in block.items()
    }
    problems = []
    if main_locals.get("default_task_queue") != default_queue:
        problems.append(
            f"terraform/modules/aws/main.tf: local.default_task_queue is {main_locals.get('default_task_queue')!r}, "
            f"the code's DEFAULT_QUEUE is {default_queue!r}"
        )
    mappings = resources(modules(tree), "aws_lambda_event_source_mapping")
    wired = {
        _expression(body.get("event_source_arn", "")): str(body.get("function_name", ""))
        for _k, (_p, body) in mappings.items()
    }
    if "run_task" not in wired.get("aws_sqs_queue.tasks.arn", ""):
        problems.append("the task queue is not wired to run_task (aws_lambda_event_source_mapping)")
    if "on_object_event" not in wired.get("aws_sqs_queue.object_events.arn", ""):
        problems.append("the object-events queue is not wired to on_object_event")
    for key, (_path, body) in mappings.items():
        if body.get("function_response_types") != ["ReportBatchItemFailures"]:
            problems.append(
                f"{key}: function_response_types must be [ReportBatchItemFailures] (the handlers' partial batches)"
            )
    return problems


def check_table(tree: Tree) -> list[str]:
    try:
        wanted = set(_module_constant(aws_backend(tree) / "dynamo_table.py", "INDEXES"))
    except (ConsistencyError, OSError) as exc:
        return [str(exc)]
    tables = resources(modules(tree), "aws_dynamodb_table")
    if len(tables) != 1:
        return [f"terraform/modules/aws: expected one aws_dynamodb_table, found {sorted(tables)}"]
    ((_path, body),) = tables.values()
    declared = {str(a.get("name")) for a in body.get("attribute", [])}
    indexes = {str(i.get("name")): i for i in body.get("global_secondary_index", [])}
    problems = [
        f"the code queries index {name!r} but the table in terraform/modules/aws has no such global_secondary_index"
        for name in sorted(wanted - set(indexes))
    ]
    problems += [f"global_secondary_index {name!r} is not used by the code" for name in sorted(set(indexes) - wanted)]
    for name in sorted(wanted & set(indexes)):
        index = indexes[name]
        keys = (index.get("hash_key"), index.get("range_key"))
        if keys != (f"{name}pk", f"{name}sk") or index.get("projection_type") != "ALL":
            problems.append(f"global_secondary_index {name!r} must be on ({name}pk, {name}sk) projecting ALL")
        problems += [f"attribute {key!r} of index {name!r} is not declared" for key in keys if key not in declared]
    return problems


def all_problems(tree: Tree) -> dict[str, list[str]]:
    return {
        "table": check_table(tree),
        "handlers": check_handlers(tree),
        "environment": check_environment(tree),
        "iam": check_iam(tree),
        "scheduler": check_scheduler(tree),
        "queues": check_queues(tree),
    }
