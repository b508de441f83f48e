"""Tasks run on assets as jobs: the registry, the task context and the built-in tasks.

Built-ins: ``gdalinfo`` (raster/vector metadata), ``checksum``, ``ingestion`` (tabular/vector →
STAC items) and ``convert`` (GeoJSON/GeoParquet/COG). Third-party tasks register through the
``dynastore.tasks`` entry point group (see ``dynastore.tasks.registry``).
"""

from dynastore.tasks.base import AssetMetadata, JobDismissed, Task, TaskInputs, TaskOutputs
from dynastore.tasks.context import TaskContext
from dynastore.tasks.registry import ENTRY_POINT_GROUP, TaskRegistry, default_registry

__all__ = [
    "ENTRY_POINT_GROUP",
    "AssetMetadata",
    "JobDismissed",
    "Task",
    "TaskContext",
    "TaskInputs",
    "TaskOutputs",
    "TaskRegistry",
    "default_registry",
]
