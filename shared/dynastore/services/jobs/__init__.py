"""Tasks on assets run as jobs (OGC API - Processes job semantics), on the backend's queue.

``service.TaskService`` is the entry point. Its parts: ``execute`` (the request: mode, inputs,
``ExecuteResult``), ``sync`` (sync-execute's wait), ``dispatch`` (queue messages), ``runner``
(claim, run, monitor, at-least-once deliveries), ``commit`` and ``items`` (applying a task's staged
writes), ``dismiss``, ``records`` (compare-and-set job records) and ``results`` (their outputs).
"""

from dynastore.services.jobs.execute import ExecuteResult
from dynastore.services.jobs.records import JobRecords, is_final
from dynastore.services.jobs.results import JobResults
from dynastore.services.jobs.service import TaskService, TaskWorker

__all__ = ["ExecuteResult", "JobRecords", "JobResults", "TaskService", "TaskWorker", "is_final"]
