"""The task registry bootstrap gives the services is built on first use, with the same tasks."""

from __future__ import annotations

from pathlib import Path

from dynastore.bootstrap import bootstrap
from dynastore.config import Settings
from dynastore.tasks import default_registry
from dynastore.tasks.lazy_registry import LazyTaskRegistry


def test_the_registry_is_built_once_on_first_use() -> None:
    # GIVEN a lazy registry over the built-in tasks
    builds: list[int] = []

    def build() -> object:
        builds.append(1)
        return default_registry(plugins=False)

    registry = LazyTaskRegistry(build)  # type: ignore[arg-type]
    # WHEN nothing asked for a task  THEN nothing was built
    assert not registry.built and builds == []
    # WHEN tasks are listed, looked up and tested for
    ids = [task.id for task in registry.all()]
    # THEN they are the built-in ones, built once
    assert ids == [task.id for task in default_registry(plugins=False).all()]
    assert registry.get("checksum").id == "checksum" and "thumbnail" in registry and "nope" not in registry
    assert builds == [1]


def test_services_list_the_same_tasks_as_the_default_registry(tmp_path: Path) -> None:
    # GIVEN services bootstrapped on the local backend
    services = bootstrap(Settings(backend="local", data_dir=tmp_path))
    try:
        # THEN their registry waits for first use, and then lists the default registry's tasks
        assert isinstance(services.tasks.registry, LazyTaskRegistry) and not services.tasks.registry.built
        listed = [summary["id"] for summary in services.tasks.list_tasks()]
        assert listed == [task.id for task in default_registry().all()]
    finally:
        services.close()
