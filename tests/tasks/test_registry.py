"""The task registry: built-ins, descriptions as OGC process descriptions, third-party entry points."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from dynastore.errors import Invalid, NotFound
from dynastore.tasks import ENTRY_POINT_GROUP, Task, TaskInputs, TaskRegistry, default_registry

PLUGIN = """
from dynastore.tasks import Task, TaskInputs


class HelloInputs(TaskInputs):
    name: str = "world"


class HelloTask(Task):
    id = "hello"
    title = "Hello"
    description = "says hello"
    Inputs = HelloInputs

    def run(self, ctx, inputs):
        return {"greeting": f"hello {inputs.name}"}


def many():
    class One(HelloTask):
        id = "hello-one"
    class Two(HelloTask):
        id = "hello-two"
    return [One(), Two()]


class FakeGdal(HelloTask):
    id = "gdalinfo"


def broken():
    raise RuntimeError("plugin bug")
"""


@pytest.fixture
def plugin_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "hello_plugin.py").write_text(textwrap.dedent(PLUGIN))
    dist = tmp_path / "hello_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hello-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\n"
        "hello = hello_plugin:HelloTask\n"
        "many = hello_plugin:many\n"
        "broken = hello_plugin:broken\n"
        "missing = hello_plugin:NoSuchThing\n"
        "gdalinfo-clash = hello_plugin:FakeGdal\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("hello_plugin", None)


def test_builtins_describe_themselves_as_processes() -> None:
    registry = default_registry(plugins=False)
    assert [t.id for t in registry.all()] == [
        "checksum",
        "convert",
        "export-static",
        "gdalinfo",
        "ingestion",
        "thumbnail",
    ]
    for task in registry.all():
        doc = task.describe()
        assert doc["id"] == task.id and doc["title"] and doc["description"]
        assert doc["jobControlOptions"] == ["async-execute", "sync-execute", "dismiss"]
        assert "asset_metadata" in doc["inputs"]  # every task accepts the metadata override
        assert doc["inputSchema"]["type"] == "object" and doc["outputSchema"]["type"] == "object"
        assert "$ref" not in str(doc["inputs"])  # inlined for clients
    convert = registry.get("convert").describe()
    assert convert["inputs"]["format"]["minOccurs"] == 1
    assert convert["inputs"]["format"]["schema"]["enum"] == ["geojson", "geoparquet", "cog"]


def test_entry_point_plugins_register_and_broken_ones_are_skipped(plugin_on_path: Path) -> None:
    registry = default_registry()
    ids = {t.id for t in registry.all()}
    assert {"hello", "hello-one", "hello-two"} <= ids
    assert "gdalinfo" in ids and registry.get("gdalinfo").__class__.__name__ == "GdalInfoTask"  # a clash never wins
    assert registry.get("hello").describe()["inputs"]["name"]["schema"]["default"] == "world"


def test_registry_rejects_malformed_tasks() -> None:
    class NoTitle(Task):
        id = "x"
        title = ""
        description = "d"

        def run(self, ctx, inputs):  # type: ignore[no-untyped-def]
            return {}

    class BadId(NoTitle):
        id = "Bad Id!"
        title = "t"

    class BadInputs(NoTitle):
        title = "t"
        Inputs = dict  # type: ignore[assignment]

    registry = TaskRegistry()
    for task, message in ((NoTitle(), "needs a title"), (BadId(), "task id"), (BadInputs(), "TaskInputs")):
        with pytest.raises(Invalid, match=message):
            registry.register(task)
    good = BadId.__new__(BadId)
    good.id = "good"  # type: ignore[misc]
    registry.register(good)
    with pytest.raises(Invalid, match="registered already"):
        registry.register(good)
    with pytest.raises(NotFound, match="available: good"):
        registry.get("nope")


def test_task_inputs_accept_unknown_members_like_the_seed_example() -> None:
    inputs = TaskInputs.model_validate({"asset_metadata": {"description": "d"}, "other_task_param": "some_value"})
    assert inputs.asset_metadata is not None and inputs.asset_metadata.description == "d"
