"""What a ``dynastore`` process imports: building the parser (every command, ``--help``) imports no
service, and ``dynastore load`` imports only what loading uses: not the task, indexing, registry or
AIOS services, not multiprocessing (one worker), jsonschema, the
API or rich (``--quiet``). Behaviour only; the times are measured with ``-X importtime``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson

from dynastore.bootstrap import bootstrap
from dynastore.config import Settings
from dynastore.domain.stac_version import STAC_VERSION

from .helpers import collection, item

# Run as the console script does, then report the loaded modules (atexit: after main returned).
PROBE = r"""
import atexit, json, runpy, sys
atexit.register(lambda: print(json.dumps(sorted(sys.modules))))
sys.argv = ["dynastore", *sys.argv[1:]]
runpy.run_module("dynastore.cli", run_name="__main__")
"""

NOT_FOR_A_LOAD = (
    "dynastore.services.jobs",
    "dynastore.services.indexing",
    "dynastore.services.registry",
    "dynastore.services.aios",
    "dynastore.services.stac_events",
    "dynastore.services.versions.publish",
    "dynastore.tasks",
    "multiprocessing",
    "jsonschema",
    "fastapi",
    "starlette",
    "uvicorn",
    "rich",
    "watchdog",
)


def _modules(*argv: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    out = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=120)
    return out, set(json.loads(out.stdout.strip().splitlines()[-1]))


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in modules))


def test_help_of_every_command_imports_no_service() -> None:
    for command in ("dev", "index", "reconcile", "cleanup", "export-static", "load"):
        # GIVEN a fresh interpreter  WHEN it prints `dynastore <command> --help`
        out, modules = _modules(command, "--help")
        # THEN the help is printed
        assert out.returncode == 0 and "usage: dynastore" in out.stdout, out.stderr
        # AND no service was built; only load's help imported the STAC service (for its limits)
        assert _loaded(modules, ("dynastore.bootstrap", "dynastore.services.jobs", "uvicorn")) == []
        if command != "load":
            assert _loaded(modules, ("pydantic", "pydantic_settings", "asyncio", "dynastore.services")) == [], command
    # AND load's help still names the limits of the STAC service
    out, _ = _modules("load", "--help")
    assert "at most 10000" in out.stdout and ".ndjson" in out.stdout


def test_a_load_imports_only_what_loading_uses(tmp_path: Path) -> None:
    # GIVEN a local data dir with a collection, and an NDJSON file of one item
    data_dir = tmp_path / "data"
    services = bootstrap(Settings(data_dir=data_dir, backend="local", watch_bucket=False))
    services.catalogs.create({"id": "cli"}, actor="test")
    services.stac.create_collection("cli", collection("s2"), actor="test")
    services.close()
    path = tmp_path / "one.ndjson"
    path.write_bytes(orjson.dumps(item("one", assets={"B04": {"href": "https://example.com/B04.tif"}})) + b"\n")
    # WHEN a fresh `dynastore load --quiet` loads it
    out, modules = _modules("load", str(path), "--catalog", "cli", "--collection", "s2", "--quiet",
                            "--data-dir", str(data_dir))
    # THEN the item is loaded
    assert out.returncode == 0 and "loaded 1 items" in out.stdout, out.stderr
    services = bootstrap(Settings(data_dir=data_dir, backend="local", watch_bucket=False))
    listed = services.adapters.store.list_items("cli", "s2", limit=10).items
    services.close()
    assert [d["id"] for d in listed] == ["one"] and listed[0]["stac_version"] == STAC_VERSION
    # AND the process imported the STAC service and the local backend, and nothing a load does not use
    assert {"dynastore.services.stac", "dynastore.backends.local.metadata"} <= modules
    assert _loaded(modules, NOT_FOR_A_LOAD) == []
