"""A task registry built on first use (cold start).

Building the default registry imports every built-in task module (the raster ones pull in
numpy) and the installed plugins: a third of the first call's setup on a serverless cold start,
for requests that never list or run a task. ``LazyTaskRegistry`` builds it the first time a task
is looked up, listed or registered; the answers are the same.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from dynastore.tasks.base import Task
from dynastore.tasks.registry import ENTRY_POINT_GROUP, TaskRegistry, default_registry


class LazyTaskRegistry(TaskRegistry):
    """A ``TaskRegistry`` whose tasks come from ``build`` (default: ``default_registry``) on first use."""

    def __init__(self, build: Callable[[], TaskRegistry] = default_registry) -> None:
        self._build = build
        self._built: TaskRegistry | None = None
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        return self._built is not None

    def _registry(self) -> TaskRegistry:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = self._build()
        return self._built

    def register(self, task: Task, *, replace: bool = False) -> Task:
        return self._registry().register(task, replace=replace)

    def get(self, task_id: str) -> Task:
        return self._registry().get(task_id)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self._registry()

    def all(self) -> list[Task]:
        return self._registry().all()

    def load_entry_points(self, group: str = ENTRY_POINT_GROUP) -> list[str]:
        return self._registry().load_entry_points(group)
