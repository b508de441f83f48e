"""The task registry: built-in tasks plus third-party ones from the ``dynastore.tasks`` entry points.

A third-party package declares, in its ``pyproject.toml``::

    [project.entry-points."dynastore.tasks"]
    my_task = "my_package.tasks:MyTask"

The entry point may name a ``Task`` subclass, a ``Task`` instance, or a callable returning a task
or a list of tasks. A broken plugin is logged and skipped; it never stops the service.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any

from dynastore.errors import Invalid, NotFound
from dynastore.tasks.base import ALL_LEVELS, ALL_MODES, Task, TaskInputs

ENTRY_POINT_GROUP = "dynastore.tasks"
TASK_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
log = logging.getLogger(__name__)


class TaskRegistry:
    def __init__(self, tasks: Iterable[Task] = ()) -> None:
        self._tasks: dict[str, Task] = {}
        for task in tasks:
            self.register(task)

    def register(self, task: Task, *, replace: bool = False) -> Task:
        check_task(task)
        if task.id in self._tasks and not replace:
            raise Invalid(f"a task with id {task.id!r} is registered already")
        self._tasks[task.id] = task
        return task

    def get(self, task_id: str) -> Task:
        try:
            return self._tasks[task_id]
        except KeyError:
            known = ", ".join(sorted(self._tasks)) or "none"
            raise NotFound(f"task {task_id!r} does not exist (available: {known})") from None

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._tasks

    def all(self) -> list[Task]:
        return [self._tasks[k] for k in sorted(self._tasks)]

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> list[str]:
        """Register the tasks of every installed plugin; returns the ids added."""
        added: list[str] = []
        for entry in entry_points(group=group):
            try:
                for task in _as_tasks(entry.load()):
                    if task.id in self._tasks:
                        log.warning("task plugin %s: id %r is taken, skipped", entry.value, task.id)
                        continue
                    self.register(task)
                    added.append(task.id)
            except Exception:
                log.exception("task plugin %s (%s) failed to load; skipped", entry.name, entry.value)
        return added


def _as_tasks(obj: Any) -> list[Task]:
    if isinstance(obj, type) and issubclass(obj, Task):
        return [obj()]
    if isinstance(obj, Task):
        return [obj]
    if callable(obj):
        made = obj()
        if isinstance(made, Task):
            return [made]
        if isinstance(made, Iterable):
            tasks = list(made)
            if all(isinstance(t, Task) for t in tasks):
                return tasks
    raise TypeError(f"{obj!r} is not a Task, a Task subclass, or a callable returning tasks")


def check_task(task: Task) -> None:
    """A task must declare a well-formed id, a title, input models and known modes/levels."""
    task_id = getattr(task, "id", None)
    if not isinstance(task_id, str) or not TASK_ID.match(task_id):
        raise Invalid(f"task id {task_id!r} must be 1-64 characters of a-z 0-9 _ . - (lower case)")
    if not getattr(task, "title", None):
        raise Invalid(f"task {task_id!r} needs a title")
    if not (isinstance(task.Inputs, type) and issubclass(task.Inputs, TaskInputs)):
        raise Invalid(f"task {task_id!r}: Inputs must subclass dynastore.tasks.base.TaskInputs")
    if not task.modes or not set(task.modes) <= ALL_MODES:
        raise Invalid(f"task {task_id!r}: modes must be a non-empty subset of {sorted(ALL_MODES)}")
    if not task.levels or not set(task.levels) <= ALL_LEVELS:
        raise Invalid(f"task {task_id!r}: levels must be a non-empty subset of {sorted(ALL_LEVELS)}")


def builtin_tasks() -> list[Task]:
    from dynastore.tasks.checksum import ChecksumTask
    from dynastore.tasks.convert import ConvertTask
    from dynastore.tasks.export_static import ExportStaticTask
    from dynastore.tasks.gdalinfo import GdalInfoTask
    from dynastore.tasks.ingestion import IngestionTask
    from dynastore.tasks.thumbnail import ThumbnailTask

    return [GdalInfoTask(), ChecksumTask(), IngestionTask(), ConvertTask(), ExportStaticTask(), ThumbnailTask()]


def default_registry(*, plugins: bool = True) -> TaskRegistry:
    """The built-in tasks, plus installed plugins unless ``plugins=False``."""
    registry = TaskRegistry(builtin_tasks())
    if plugins:
        registry.load_entry_points()
    return registry
