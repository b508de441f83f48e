"""Static consistency checks between the Terraform modules and the code they deploy (no cloud access).

Each ``check_*`` takes a ``Tree`` (the repository, or a modified copy of it) and returns a list of
problems, empty when consistent. What is compared:

- **targets**: every functions-framework target of ``functions/gcp/main.py`` is deployed, with that
  target as entry point, and nothing else is deployed;
- **environment**: every environment variable a function gets (plain or from Secret Manager) is a
  field of ``shared/dynastore/config.py`` ``Settings``, and every field the gcp deployment needs is
  set on every function that needs it (see ``required_settings``);
- **indexes**: every composite index and field override of the gcp backend's index file becomes a
  Terraform resource, unchanged, and the module creates no index the file does not declare.

Terraform expressions are evaluated by Terraform itself (``terraform console`` on the files of a
module that hold only ``variable`` and ``locals`` blocks); resource wiring is read with python-hcl2.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import functools
import importlib.util
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2

TERRAFORM = shutil.which("terraform") or "/usr/local/bin/terraform"
ENV_PREFIX = "DYNASTORE_"

# Settings of other backends or of the local process model: a gcp function must not set them.
# Emulator hosts are for tests and `dynastore dev` only.
FOREIGN_SETTINGS = re.compile(r"^(aws_.*|data_dir|watch_bucket|worker_threads|.*emulator.*)$")


class ConsistencyError(RuntimeError):
    """A check could not run (missing file, Terraform error) — reported as a problem."""


@dataclass(frozen=True)
class Tree:
    """Where the pieces live in a checkout (or a copy of one)."""

    root: Path

    @property
    def modules(self) -> Path:
        return self.root / "terraform" / "modules" / "gcp"

    @property
    def main_py(self) -> Path:
        return self.root / "functions" / "gcp" / "main.py"

    @property
    def config_py(self) -> Path:
        return self.root / "shared" / "dynastore" / "config.py"

    @property
    def index_file(self) -> Path:
        return self.root / "shared" / "dynastore" / "backends" / "gcp" / "firestore_indexes.json"

    @property
    def gcp_backend(self) -> Path:
        return self.root / "shared" / "dynastore" / "backends" / "gcp"


# ------------------------------------------------------------------------------------ HCL helpers


def _unquote(value: Any) -> Any:
    """python-hcl2 (v7+) keeps the quotes of string literals and keys; drop them."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _normalize(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            _unquote(key): _normalize(value)
            for key, value in node.items()
            if key not in {"__is_block__", "__comments__"}
        }
    if isinstance(node, list):
        return [_normalize(item) for item in node]
    return _unquote(node)


@functools.lru_cache(maxsize=256)
def _parse_hcl(text: str) -> dict[str, Any]:
    parsed: dict[str, Any] = _normalize(hcl2.loads(text))
    return parsed


def load_hcl(path: Path) -> dict[str, Any]:
    """A .tf file as a dict (read-only: parses are cached by content, python-hcl2 is slow)."""
    return _parse_hcl(path.read_text(encoding="utf-8"))


def resources(directory: Path, resource_type: str) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Every ``resource "<type>" "<name>"`` under ``directory`` (recursively), by name."""
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path in sorted(directory.rglob("*.tf")):
        for block in load_hcl(path).get("resource", []):
            for name, body in block.get(resource_type, {}).items():
                found[f"{path.relative_to(directory)}:{name}"] = (path, body)
    return found


def _expression(value: Any) -> str:
    """An attribute as its Terraform expression text (``${...}`` unwrapped)."""
    text = str(value).strip()
    if text.startswith("${") and text.endswith("}") and text.count("${") == 1:
        return text[2:-1].strip()
    return text


def _is_pure(path: Path) -> bool:
    """True for a file of only variable and locals blocks (evaluable without providers)."""
    return set(load_hcl(path)) <= {"variable", "locals"}


# ------------------------------------------------------------------------------------ terraform console


def _placeholder(type_expression: str) -> Any:
    text = _expression(type_expression).replace(" ", "")
    if text.startswith(("map(", "object(")):
        return {}
    if text.startswith(("list(", "set(", "tuple(")):
        return []
    return {"string": "placeholder", "number": 1, "bool": False}.get(text, "placeholder")


def evaluate(module_dir: Path, expression: str, variables: dict[str, Any], *, strict: bool = True) -> Any:
    """Evaluate ``expression`` against the variable/locals-only files of a module.

    Variables without a value here and without a default get a placeholder of their type, so a
    new module input does not break the checks. ``strict``: an error in any other local of those
    files is a failure too (Terraform would refuse to plan).
    """
    pure_files = [path for path in sorted(module_dir.glob("*.tf")) if _is_pure(path)]
    if not pure_files:
        raise ConsistencyError(f"{module_dir} has no variables/locals-only file to evaluate")
    values = dict(variables)
    for path in pure_files:
        for block in load_hcl(path).get("variable", []):
            for name, body in block.items():
                if name not in values and "default" not in body:
                    values[name] = _placeholder(body.get("type", "string"))
    with tempfile.TemporaryDirectory(prefix="tf-eval-") as tmp:
        for path in pure_files:
            shutil.copy(path, tmp)
        Path(tmp, "terraform.tfvars.json").write_text(json.dumps(values), encoding="utf-8")
        env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull}
        env.pop("TF_CLI_ARGS", None)
        try:
            proc = subprocess.run(
                [TERRAFORM, "console", "-no-color"],
                input=f"base64encode(jsonencode({expression}))\n",
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        except FileNotFoundError as exc:
            raise ConsistencyError(
                f"terraform is not installed ({TERRAFORM}); see README 'Deploy to Google Cloud'"
            ) from exc
        results = [line for line in proc.stdout.splitlines() if re.fullmatch(r'"[A-Za-z0-9+/=]*"', line.strip())]
        if proc.returncode != 0 or not results or (strict and "Error:" in proc.stderr):
            raise ConsistencyError(
                f"terraform console failed in {module_dir.name} on {expression}: "
                f"{proc.stderr.strip() or proc.stdout.strip()}"
            )
        return json.loads(base64.b64decode(results[-1].strip().strip('"')))


# ------------------------------------------------------------------------------------ the code side


FRAMEWORK_DECORATORS = {"http", "cloud_event", "errorhandler"}


def function_targets(main_py: Path) -> dict[str, str]:
    """The functions-framework targets a module defines: name -> ``http`` or ``cloud_event``.

    A target is a module-level function decorated with ``functions_framework.http`` /
    ``functions_framework.cloud_event`` (also ``functions_framework.aio.*`` or the names imported
    from those modules).
    """
    tree = ast.parse(main_py.read_text(encoding="utf-8"), filename=str(main_py))
    imported: dict[str, str] = {}  # local name -> decorator kind
    modules: set[str] = set()  # local names bound to the functions_framework modules
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("functions_framework"):
            for alias in node.names:
                if alias.name in {"http", "cloud_event"}:
                    imported[alias.asname or alias.name] = alias.name
                elif alias.name == "aio":
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("functions_framework"):
                    modules.add(alias.asname or alias.name.split(".")[0])

    def kind_of(decorator: ast.expr) -> str | None:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Name):
            return imported.get(target.id)
        if isinstance(target, ast.Attribute) and target.attr in {"http", "cloud_event"}:
            base = target.value
            while isinstance(base, ast.Attribute):
                base = base.value
            return target.attr if isinstance(base, ast.Name) and base.id in modules else None
        return None

    targets: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            kinds = [kind for kind in map(kind_of, node.decorator_list) if kind]
            if kinds:
                targets[node.name] = kinds[0]
    return targets


def scheduled_actions(main_py: Path, target: str = "scheduled") -> set[str]:
    """The string constants the ``scheduled`` target compares ``action`` with."""
    tree = ast.parse(main_py.read_text(encoding="utf-8"), filename=str(main_py))
    actions: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == target:
            for compare in ast.walk(node):
                if (
                    isinstance(compare, ast.Compare)
                    and isinstance(compare.left, ast.Name)
                    and compare.left.id == "action"
                    and all(isinstance(op, ast.Eq) for op in compare.ops)
                ):
                    actions.update(
                        c.value for c in compare.comparators if isinstance(c, ast.Constant) and isinstance(c.value, str)
                    )
    return actions


def event_targets(tree: Tree) -> set[str]:
    """Targets that Eventarc triggers deliver CloudEvents to (they are deployed without a
    function-managed trigger, so the ``cloud_event`` decorator is what makes them parse events)."""
    found: set[str] = set()
    for _key, (path, body) in resources(tree.modules, "google_eventarc_trigger").items():
        for destination in body.get("destination", []):
            for service in destination.get("cloud_run_service", []):
                text = str(service.get("service", ""))
                match = re.search(r'google_cloudfunctions2_function\.this\["(\w+)"\]', text)
                if match:
                    found.add(match.group(1))
                elif "google_cloudfunctions2_function.this[each.value.target]" in text:
                    found.update(_for_each_targets(path, body))
    return found


def _for_each_targets(path: Path, body: dict[str, Any]) -> set[str]:
    """The ``target = "<name>"`` entries of the local (in the same file) a trigger's for_each iterates."""
    name = _expression(body.get("for_each", "")).removeprefix("local.")
    for block in load_hcl(path).get("locals", []):
        if name in block:
            return set(re.findall(r'\btarget\s*=\s*"(\w+)"', str(block[name])))
    return set()


@dataclass(frozen=True)
class SettingsField:
    name: str
    env_names: frozenset[str]
    required_default: bool  # default is None: the service cannot guess it


@contextlib.contextmanager
def _loaded_config(config_py: Path) -> Iterator[Any]:
    name = f"_dynastore_config_under_test_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, config_py)
    if spec is None or spec.loader is None:
        raise ConsistencyError(f"cannot load {config_py}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


def settings_fields(config_py: Path) -> dict[str, SettingsField]:
    """The fields of ``Settings`` in a config.py (loaded from the file, so a copy can differ)."""
    from pydantic import AliasChoices

    with _loaded_config(config_py) as module:
        settings_cls = module.Settings
        prefix = settings_cls.model_config.get("env_prefix", "")
        fields: dict[str, SettingsField] = {}
        for name, info in settings_cls.model_fields.items():
            alias = info.validation_alias
            if isinstance(alias, AliasChoices):
                env_names = {choice for choice in alias.choices if isinstance(choice, str)}
            elif isinstance(alias, str):
                env_names = {alias}
            else:
                env_names = {f"{prefix}{name}"}
            fields[name] = SettingsField(
                name=name,
                env_names=frozenset(env.upper() for env in env_names),
                required_default=info.default is None and info.default_factory is None,
            )
    return fields


def settings_validate(config_py: Path, environment: dict[str, str]) -> str | None:
    """Build ``Settings`` from exactly ``environment``; the error text if it is rejected."""
    saved = {key: value for key, value in os.environ.items() if key.upper().startswith(ENV_PREFIX)}
    with _loaded_config(config_py) as module:
        try:
            for key in saved:
                del os.environ[key]
            os.environ.update(environment)
            module.Settings()
        except Exception as exc:
            return str(exc)
        finally:
            for key in environment:
                os.environ.pop(key, None)
            os.environ.update(saved)
    return None


# ------------------------------------------------------------------------------------ checks


# Inputs the functions module is evaluated with: realistic values, so value checks mean something.
FUNCTION_VARIABLES: dict[str, Any] = {
    "project_id": "my-project",
    "region": "europe-west1",
    "name_prefix": "dyn",
    "landing_bucket": "my-project-dyn-landing",
    "database_name": "(default)",
    "collection_prefix": "",
    "queue_prefix": "dyn",
    "bucket_per_catalog": True,
    "notification_topic": "dyn-catalog-bucket-events",
    "tasks_invoker_email": "dyn-tasks-oidc@my-project.iam.gserviceaccount.com",
    "service_accounts": {
        target: f"dyn-{target.replace('_', '-')}@my-project.iam.gserviceaccount.com"
        for target in ("api", "on_object_event", "run_task", "scheduled", "on_stac_event")
    },
    "public_read": False,
    "retention_days": 30,
    "task_max_attempts": 3,
    "max_upload_bytes": 33554432,
    "log_level": "INFO",
    "esgf_catalog_id": "esgf",
}
# Optional inputs that add variables when set.
FUNCTION_OPTIONAL_VARIABLES: dict[str, Any] = {
    "base_url": "https://assets.example.org",
    "api_keys_secret_id": "my-keys",
}


def for_each_problems(found: dict[str, tuple[Path, dict[str, Any]]], for_each: str, over: str) -> list[str]:
    """A problem for each resource of `found` that does not iterate over `for_each` (`over`)."""
    return [
        f"{key}: for_each must be {for_each} ({over}), not {body.get('for_each')!r}"
        for key, (_path, body) in found.items()
        if _expression(body.get("for_each", "")) != for_each
    ]


def one_resource_per_item(
    tree: Tree, resource_type: str, key: str, for_each: str, over: str
) -> tuple[dict[str, tuple[Path, dict[str, Any]]], list[str]]:
    """The resources of a type, and the problems unless there is exactly one (`key`, "file:name")
    creating one instance per item of `for_each` (`over`)."""
    found = resources(tree.modules, resource_type)
    problems = for_each_problems(found, for_each, over)
    if list(found) != [key]:
        where, name = key.split(":")
        problems.insert(
            0,
            f'expected exactly one {resource_type} ({where} "{name}", for_each over {over}) '
            f"in terraform/modules/gcp, found {sorted(found) or 'none'}",
        )
    return found, problems


def deployed_functions(tree: Tree) -> tuple[dict[str, str], list[str]]:
    """(target -> function name, problems) as the functions module deploys them."""
    functions_dir = tree.modules / "functions"
    found, problems = one_resource_per_item(
        tree, "google_cloudfunctions2_function", "functions/main.tf:this", "local.function_names", "the targets"
    )
    for key, (_path, body) in found.items():
        entry_points = [_expression(build.get("entry_point", "")) for build in body.get("build_config", [])]
        if entry_points != ["each.key"]:
            problems.append(f"{key}: build_config.entry_point must be each.key (the target name), not {entry_points}")
    # Not strict: a target added on one side leaves other locals (its environment) incomplete,
    # and what matters here is the list of deployed targets.
    names: dict[str, str] = evaluate(functions_dir, "local.function_names", FUNCTION_VARIABLES, strict=False)
    return names, problems


def check_targets(tree: Tree) -> list[str]:
    if not tree.main_py.is_file():
        return [f"{tree.main_py.relative_to(tree.root)} is missing: there is nothing to deploy"]
    try:
        names, problems = deployed_functions(tree)
    except ConsistencyError as exc:
        return [str(exc)]
    kinds = function_targets(tree.main_py)
    in_code = set(kinds)
    if not in_code:
        problems.append(f"{tree.main_py.relative_to(tree.root)} defines no functions-framework target")
    for target in sorted(event_targets(tree)):
        if kinds.get(target, "cloud_event") != "cloud_event":
            problems.append(
                f"Eventarc delivers CloudEvents to {target!r}, but functions/gcp/main.py declares it "
                f"@{kinds[target]}, not @functions_framework.cloud_event"
            )
    for target in sorted(in_code - event_targets(tree)):
        if kinds[target] != "http":
            problems.append(
                f"{target!r} is called over plain HTTP (API, Cloud Tasks, Cloud Scheduler) but is not @http"
            )
    for target in sorted(in_code - set(names)):
        problems.append(
            f"target {target!r} of functions/gcp/main.py is not deployed by terraform/modules/gcp/functions"
        )
    for target in sorted(set(names) - in_code):
        problems.append(f"terraform deploys entry point {target!r}, which functions/gcp/main.py does not define")
    return problems


def required_settings(fields: dict[str, SettingsField]) -> dict[str, set[str]]:
    """Settings each deployed function must get explicitly, by target.

    - every function: ``backend`` and every ``gcp_*`` field except the emulator hosts — they name
      the project, bucket, database, queues, URLs and identities Terraform creates, so the code must
      never fall back to a default (a default region or database would silently point elsewhere);
    - ``api``: also ``api_keys`` (from Secret Manager): without keys the API rejects every write.
    """
    infrastructure = {"backend"} | {
        name for name in fields if name.startswith("gcp_") and not FOREIGN_SETTINGS.match(name)
    }
    return {
        "api": infrastructure | {"api_keys"},
        "on_object_event": set(infrastructure),
        "run_task": set(infrastructure),
        "scheduled": set(infrastructure),
        "on_stac_event": set(infrastructure),
    }


def _function_environment(tree: Tree, variables: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = evaluate(
        tree.modules / "functions",
        "{ environment = local.environment, secret_env = local.secret_env, names = local.function_names }",
        variables,
    )
    return result


def check_environment(tree: Tree) -> list[str]:
    try:
        fields = settings_fields(tree.config_py)
        minimal = _function_environment(tree, FUNCTION_VARIABLES)
        maximal = _function_environment(tree, {**FUNCTION_VARIABLES, **FUNCTION_OPTIONAL_VARIABLES})
    except ConsistencyError as exc:
        return [str(exc)]
    problems: list[str] = []
    by_env_name = {env: field for field in fields.values() for env in field.env_names}

    # 1. every variable set anywhere is a Settings field of this backend
    for target in sorted(maximal["environment"]):
        plain = maximal["environment"][target]
        secret = maximal["secret_env"].get(target, {})
        for key in sorted(set(plain) | set(secret)):
            field = by_env_name.get(key.upper())
            if field is None:
                problems.append(f"{target}: {key} is not a field of Settings (shared/dynastore/config.py)")
            elif FOREIGN_SETTINGS.match(field.name):
                problems.append(
                    f"{target}: {key} configures another backend ({field.name}); a gcp function must not set it"
                )
        if "DYNASTORE_API_KEYS" in plain:
            problems.append(
                f"{target}: DYNASTORE_API_KEYS must come from Secret Manager, not a plain environment variable"
            )

    # 2. every setting the deployment needs is set (with the optional inputs unset)
    for target, needed in sorted(required_settings(fields).items()):
        if target not in minimal["environment"]:
            problems.append(f"{target}: not deployed, so none of its settings are set")
            continue
        given = {key.upper() for key in minimal["environment"][target]} | {
            key.upper() for key in minimal["secret_env"].get(target, {})
        }
        for name in sorted(needed):
            if not fields[name].env_names & given:
                problems.append(
                    f"{target}: Settings.{name} is needed on gcp but none of {sorted(fields[name].env_names)} is set"
                )

    # 3. the values are what the rest of the module creates, and Settings accepts them
    for target, plain in sorted(minimal["environment"].items()):
        if plain.get("DYNASTORE_BACKEND") != "gcp":
            problems.append(f"{target}: DYNASTORE_BACKEND is {plain.get('DYNASTORE_BACKEND')!r}, not 'gcp'")
        run_task_url = plain.get("DYNASTORE_GCP_RUN_TASK_URL", "")
        if "run_task" in minimal["names"] and not run_task_url.endswith("/" + minimal["names"]["run_task"]):
            problems.append(f"{target}: DYNASTORE_GCP_RUN_TASK_URL {run_task_url!r} is not the run_task function's URL")
        candidate = dict(plain)
        if target in {name for name, env in minimal["secret_env"].items() if "DYNASTORE_API_KEYS" in env}:
            candidate["DYNASTORE_API_KEYS"] = "example-key:admin"
        error = settings_validate(tree.config_py, candidate)
        if error:
            problems.append(f"{target}: Settings rejects the environment Terraform sets: {error}")
    return problems


SUPPORTED_INDEX_KEYS = {"collectionGroup", "queryScope", "apiScope", "fields"}
SUPPORTED_INDEX_FIELD_KEYS = {"fieldPath", "order", "arrayConfig"}
SUPPORTED_OVERRIDE_KEYS = {"collectionGroup", "fieldPath", "ttl", "indexes"}
SUPPORTED_OVERRIDE_INDEX_KEYS = {"queryScope", "order", "arrayConfig"}


_SIMPLE_SEGMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_QUOTED_SEGMENT = re.compile(r"^`(?:[^`\\]|\\.)+`$")


def _valid_field_path(path: str) -> bool:
    """A Firestore field path: dot-separated simple names or backtick-quoted names."""
    segments = re.findall(r"`(?:[^`\\]|\\.)+`|[^.]+", path)
    return (
        bool(path)
        and ".".join(segments) == path
        and all(_SIMPLE_SEGMENT.match(segment) or _QUOTED_SEGMENT.match(segment) for segment in segments)
    )


def _index_file_problems(index_file: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for key in sorted(set(index_file) - {"indexes", "fieldOverrides"}):
        problems.append(f"index file: top-level key {key!r} is not read by terraform/modules/gcp/database")
    for number, index in enumerate(index_file.get("indexes", [])):
        where = f"index file: indexes[{number}] ({index.get('collectionGroup')})"
        for key in sorted(set(index) - SUPPORTED_INDEX_KEYS):
            problems.append(f"{where}: {key!r} is not mapped by terraform/modules/gcp/database")
        if not index.get("fields"):
            problems.append(f"{where}: has no fields")
        paths = [field.get("fieldPath") for field in index.get("fields", [])]
        for path in sorted({path for path in paths if paths.count(path) > 1}, key=str):
            problems.append(f"{where}: field {path!r} appears twice; Firestore rejects such an index at apply time")
        for field in index.get("fields", []):
            if not _valid_field_path(str(field.get("fieldPath", ""))):
                problems.append(
                    f"{where}: fieldPath {field.get('fieldPath')!r} must quote segments that are not simple names "
                    "with backticks (e.g. `eo:cloud_cover`); the index API rejects it otherwise"
                )
            for key in sorted(set(field) - SUPPORTED_INDEX_FIELD_KEYS):
                problems.append(f"{where}: field {field.get('fieldPath')!r} uses {key!r}, not mapped by the module")
            if ("order" in field) == ("arrayConfig" in field):
                problems.append(f"{where}: field {field.get('fieldPath')!r} needs exactly one of order / arrayConfig")
    for number, override in enumerate(index_file.get("fieldOverrides", [])):
        where = f"index file: fieldOverrides[{number}] ({override.get('collectionGroup')}.{override.get('fieldPath')})"
        if not _valid_field_path(str(override.get("fieldPath", ""))):
            problems.append(f"{where}: fieldPath must quote segments that are not simple names with backticks")
        for key in sorted(set(override) - SUPPORTED_OVERRIDE_KEYS):
            problems.append(f"{where}: {key!r} is not mapped by terraform/modules/gcp/database")
        for index in override.get("indexes", []):
            for key in sorted(set(index) - SUPPORTED_OVERRIDE_INDEX_KEYS):
                problems.append(f"{where}: index key {key!r} is not mapped by the module")
    return problems


def _expected_index(index: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {
        "collection": prefix + index["collectionGroup"],
        "query_scope": index.get("queryScope", "COLLECTION"),
        "api_scope": index.get("apiScope", "ANY_API"),
        "fields": [
            {"field_path": field["fieldPath"], "order": field.get("order"), "array_config": field.get("arrayConfig")}
            for field in index["fields"]
        ],
    }


def _expected_override(override: dict[str, Any], prefix: str) -> dict[str, Any]:
    indexes = override.get("indexes")
    return {
        "collection": prefix + override["collectionGroup"],
        "field": override["fieldPath"],
        "ttl": bool(override.get("ttl", False)),
        "indexes": None
        if indexes is None
        else [
            {
                "query_scope": index.get("queryScope", "COLLECTION"),
                "order": index.get("order"),
                "array_config": index.get("arrayConfig"),
            }
            for index in indexes
        ],
    }


def _canonical(items: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(item, sort_keys=True) for item in items)


def check_index_wiring(tree: Tree) -> list[str]:
    """The Firestore resources are generated from the file, and the root passes the backend's file."""
    indexes, problems = one_resource_per_item(
        tree, "google_firestore_index", "database/main.tf:composite", "local.composite_indexes", "the index file"
    )
    for key, (_path, body) in indexes.items():
        dynamic = [block.get("fields", {}) for block in body.get("dynamic", []) if "fields" in block]
        if not dynamic or _expression(dynamic[0].get("for_each", "")) != "each.value.fields":
            problems.append(f"{key}: its fields must be a dynamic block over each.value.fields")
    overrides = resources(tree.modules, "google_firestore_field")
    problems += for_each_problems(overrides, "local.field_overrides", "the index file")

    indexes_tf = tree.modules / "database" / "indexes.tf"
    if not indexes_tf.is_file() or "jsondecode(file(var.indexes_file))" not in indexes_tf.read_text(encoding="utf-8"):
        problems.append("terraform/modules/gcp/database/indexes.tf must read jsondecode(file(var.indexes_file))")

    root = load_hcl(tree.modules / "main.tf")
    database_module = next((block["database"] for block in root.get("module", []) if "database" in block), None)
    if database_module is None or _expression(database_module.get("indexes_file", "")) != "local.indexes_file":
        problems.append('terraform/modules/gcp/main.tf: module "database" must get indexes_file = local.indexes_file')
    default_path = None
    for block in root.get("locals", []):
        if "indexes_file" in block:
            match = re.search(r'"\$\{path\.module\}/([^"]+)"', str(block["indexes_file"]))
            default_path = match.group(1) if match else None
    expected = posixpath.relpath(tree.index_file.as_posix(), tree.modules.as_posix())
    if default_path is None or posixpath.normpath(default_path) != expected:
        problems.append(
            f"terraform/modules/gcp/main.tf: local.indexes_file must default to ${{path.module}}/{expected}, "
            f"found {default_path!r}"
        )
    return problems


def check_indexes(tree: Tree) -> list[str]:
    problems = check_index_wiring(tree)
    if not tree.index_file.is_file():
        problems.append(
            f"{tree.index_file.relative_to(tree.root)} is missing: the gcp backend keeps its Firestore indexes "
            "there and "
            "terraform/modules/gcp/database reads it (an empty list is fine when no composite index is needed)"
        )
        return problems
    try:
        declared = json.loads(tree.index_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        return [*problems, f"{tree.index_file.relative_to(tree.root)} is not JSON: {exc}"]
    if not isinstance(declared, dict):
        return [*problems, "index file: must be an object with `indexes` (and optionally `fieldOverrides`)"]
    shape = _index_file_problems(declared)
    if shape:
        return problems + shape
    for prefix in ("", "tenant1_"):
        try:
            evaluated = evaluate(
                tree.modules / "database",
                "{ indexes = values(local.composite_indexes), overrides = values(local.field_overrides) }",
                {
                    "project_id": "my-project",
                    "database_name": "(default)",
                    "location_id": "europe-west1",
                    "indexes_file": str(tree.index_file.resolve()),
                    "collection_prefix": prefix,
                },
            )
        except ConsistencyError as exc:
            return [*problems, str(exc)]
        wanted = _canonical([_expected_index(index, prefix) for index in declared.get("indexes", [])])
        created = _canonical(evaluated["indexes"] or [])
        for item in sorted(set(wanted) - set(created)):
            problems.append(f"collection prefix {prefix!r}: index declared by the backend is not created: {item}")
        for item in sorted(set(created) - set(wanted)):
            problems.append(
                f"collection prefix {prefix!r}: Terraform creates an index the backend does not declare: {item}"
            )
        if len(wanted) != len(created):
            problems.append(
                f"collection prefix {prefix!r}: {len(wanted)} indexes declared, {len(created)} created (duplicates?)"
            )
        wanted_overrides = _canonical([_expected_override(item, prefix) for item in declared.get("fieldOverrides", [])])
        created_overrides = _canonical(evaluated["overrides"] or [])
        if wanted_overrides != created_overrides:
            problems.append(
                f"collection prefix {prefix!r}: field overrides differ: "
                f"declared {wanted_overrides}, created {created_overrides}"
            )
    return problems


# Calls of the Google SDKs in shared/dynastore/backends/gcp that act on resources the service
# creates or removes at run time, and the permission each needs. The custom roles of
# terraform/modules/gcp/iam must hold exactly these (object data and Firestore documents are
# covered by predefined roles on the bucket / database and are not listed here).
RUNTIME_CALLS: dict[str, str] = {
    r"\.create_task\(": "cloudtasks.tasks.create",
    r"\.delete_task\(": "cloudtasks.tasks.delete",
    r"\.create_queue\(": "cloudtasks.queues.create",
    r"\.get_queue\(": "cloudtasks.queues.get",
    r"\.delete_queue\(name=": "cloudtasks.queues.delete",
    r"\.list_queues\(": "cloudtasks.queues.list",
    r"\.(update|pause|resume|purge)_queue\(": "cloudtasks.queues.update",
    r"\.create_bucket\(": "storage.buckets.create",
    r"\.list_buckets\(": "storage.buckets.list",
    r"\.list_notifications\(": "storage.buckets.get",
    r"\bnotification\.create\(": "storage.buckets.update",
    r"\bnotification\.delete\(": "storage.buckets.update",
    r"\bbucket\.delete\(": "storage.buckets.delete",
    r"\bbucket\.exists\(\)": "storage.buckets.get",
    r"\bbucket\.(patch|update)\(\)": "storage.buckets.update",
}
RUNTIME_SERVICES = ("cloudtasks.", "storage.buckets.")


def runtime_permissions(tree: Tree) -> dict[str, set[str]]:
    """Permission -> the backend files whose SDK calls need it."""
    used: dict[str, set[str]] = {}
    for path in sorted(tree.gcp_backend.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for pattern, permission in RUNTIME_CALLS.items():
            if re.search(pattern, text):
                used.setdefault(permission, set()).add(path.name)
    return used


def granted_custom_permissions(tree: Tree) -> dict[str, set[str]]:
    """Permission -> the custom roles of the iam module that hold it."""
    granted: dict[str, set[str]] = {}
    for key, (_path, body) in resources(tree.modules, "google_project_iam_custom_role").items():
        for permission in body.get("permissions", []):
            granted.setdefault(_unquote(permission), set()).add(key)
    return granted


def check_iam(tree: Tree) -> list[str]:
    """Runtime-provisioned resources are covered by the custom roles, and nothing more is granted."""
    problems: list[str] = []
    used = runtime_permissions(tree)
    granted = granted_custom_permissions(tree)
    if not used:
        problems.append(f"no Cloud Tasks / bucket call found in {tree.gcp_backend.relative_to(tree.root)}")
    for permission in sorted(set(used) - set(granted)):
        problems.append(
            f"{permission} is needed by {sorted(used[permission])} "
            "but no custom role of terraform/modules/gcp/iam holds it"
        )
    for permission in sorted(set(granted) - set(used)):
        if permission.startswith(RUNTIME_SERVICES):
            problems.append(f"{permission} is granted by {sorted(granted[permission])} but no backend code needs it")
        else:
            problems.append(f"{permission} ({sorted(granted[permission])}) is outside what custom roles are for here")
    # Predefined roles at project level would reach resources the service never touches.
    for key, (_path, body) in resources(tree.modules, "google_project_iam_member").items():
        role = _unquote(str(body.get("role", "")))
        if role.startswith("roles/") and role not in PROJECT_ROLES_ALLOWED:
            problems.append(f"{key}: project-level {role} is broader than the deployment needs")
        if role in CONDITIONED_PROJECT_ROLES and not body.get("condition"):
            problems.append(f"{key}: project-level {role} must carry an IAM condition (database / bucket prefix)")
    return problems


# Predefined roles the module may grant at project level, and which of them need a condition.
PROJECT_ROLES_ALLOWED = {
    "roles/datastore.user",  # conditioned on the deployment's database
    "roles/storage.objectUser",  # conditioned on the per-catalog bucket prefix
    "roles/storage.objectViewer",  # conditioned (per-catalog buckets; build sources)
    "roles/eventarc.eventReceiver",  # the Eventarc trigger identity
    "roles/pubsub.publisher",  # the Cloud Storage service agent, for Eventarc storage triggers
    "roles/logging.logWriter",  # the build identity
}
CONDITIONED_PROJECT_ROLES = {"roles/datastore.user", "roles/storage.objectUser", "roles/storage.objectViewer"}


def _module_constant(path: Path, name: str) -> Any:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(target, ast.Name) and target.id == name for target in targets) and node.value:
                return ast.literal_eval(node.value)
    raise ConsistencyError(f"{path} defines no constant {name}")


def check_scheduler(tree: Tree) -> list[str]:
    """Every Cloud Scheduler job asks `scheduled` for an action it knows."""
    if not tree.main_py.is_file():
        return [f"{tree.main_py.relative_to(tree.root)} is missing"]
    known = scheduled_actions(tree.main_py)
    root = load_hcl(tree.modules / "main.tf")
    scheduler = next((block["scheduler"] for block in root.get("module", []) if "scheduler" in block), None)
    if scheduler is None:
        return ['terraform/modules/gcp/main.tf has no module "scheduler"']
    jobs = scheduler.get("jobs", {})
    problems = []
    if not jobs:
        problems.append("the scheduler module gets no jobs")
    for action in sorted(jobs):
        if action not in known:
            problems.append(
                f"scheduler job {action!r} asks `scheduled` for an action it does not handle ({sorted(known)})"
            )
    for name in ("cleanup", "reconcile"):
        if name not in jobs:
            problems.append(f"no Cloud Scheduler job runs {name!r}")
    jobs_resource = resources(tree.modules, "google_cloud_scheduler_job").get("scheduler/main.tf:this")
    body = str(jobs_resource[1].get("http_target", [{}])[0].get("body", "")) if jobs_resource else ""
    if "action = each.key" not in body:
        problems.append("scheduler/main.tf: the job body must be {action = <job name>}")
    return problems


def check_queues(tree: Tree) -> list[str]:
    """Terraform creates (with its retry and rate settings) the queue the code uses by default."""
    problems: list[str] = []
    try:
        default_queue = _module_constant(
            tree.root / "shared" / "dynastore" / "services" / "jobs" / "dispatch.py", "DEFAULT_QUEUE"
        )
    except (ConsistencyError, OSError) as exc:
        return [str(exc)]
    root_locals = {
        key: value for block in load_hcl(tree.modules / "main.tf").get("locals", []) for key, value in block.items()
    }
    if root_locals.get("default_task_queue") != default_queue:
        problems.append(
            f"terraform/modules/gcp/main.tf: local.default_task_queue is {root_locals.get('default_task_queue')!r}, "
            f"the code's DEFAULT_QUEUE is {default_queue!r}"
        )
    queues = resources(tree.modules, "google_cloud_tasks_queue")
    for key, (_path, body) in queues.items():
        if body.get("name") != "${var.queue_prefix}-${each.key}":
            problems.append(f"{key}: queue name must be <queue_prefix>-<name>, as CloudTasksQueue.queue_id builds it")
    tasks_queue = tree.gcp_backend / "tasks_queue.py"
    if tasks_queue.is_file():
        spec = importlib.util.spec_from_file_location(f"_tasks_queue_{uuid.uuid4().hex}", tasks_queue)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if module.queue_id("dyn", default_queue) != f"dyn-{default_queue}":
            problems.append(f"CloudTasksQueue.queue_id no longer maps {default_queue!r} to <prefix>-{default_queue}")
    return problems


def all_problems(tree: Tree) -> dict[str, list[str]]:
    return {
        "targets": check_targets(tree),
        "environment": check_environment(tree),
        "indexes": check_indexes(tree),
        "iam": check_iam(tree),
        "queues": check_queues(tree),
        "scheduler": check_scheduler(tree),
    }
