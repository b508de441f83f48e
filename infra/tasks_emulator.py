"""Launch gcloud-tasks-emulator 0.6.2 with the fixes the tests need.

Runs inside ``.infra-venvs/tasks`` (the emulator pins ``protobuf<5``), started by
``infra/emulators.py``. Patches, applied before the server starts:

- bind ``127.0.0.1`` instead of ``[::]``;
- task names are unique as in Cloud Tasks: creating a task whose name exists or ran within the
  last hour fails with ``ALREADY_EXISTS`` (the emulator accepts duplicates);
- dispatch has an HTTP timeout and a retry cap with a small back-off (the emulator retries a
  failing target immediately and forever);
- a queue deleted and created again is processed again (the emulator forgets it);
- ``GetQueue`` on an unknown queue answers ``NOT_FOUND``;
- ``--paused`` creates queues paused, so a test decides when tasks are dispatched (it resumes
  the queue, waits for the tasks it listed, pauses it again);
- ``ListTasks``, ``PauseQueue``, ``ResumeQueue`` on an unknown queue answer ``NOT_FOUND``;
- the ``Authorization: Bearer`` header of an OIDC task is filled with an unsigned marker token so
  targets can see that one was asked for (the emulator drops OIDC settings).
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from concurrent import futures
from urllib import request as urlrequest

import grpc
from gcloud_tasks_emulator import server as emu
from google.api_core.exceptions import AlreadyExists, NotFound

TOMBSTONE_SECONDS = 3600.0


def patch(max_retries: int, dispatch_timeout: float, retry_delay: float, paused: bool = False) -> None:
    state_cls = emu.QueueState
    seen: dict[str, float] = {}
    failed_at: dict[str, float] = {}
    lock = threading.Lock()

    original_create_task = state_cls.create_task

    def create_task(self, queue, task):  # type: ignore[no-untyped-def]
        if not task.name:
            return original_create_task(self, queue, task)
        with lock:
            now = time.monotonic()
            if now - seen.get(task.name, -1e18) < TOMBSTONE_SECONDS:
                raise AlreadyExists(f"Requested entity already exists: {task.name}")
            created = original_create_task(self, queue, task)  # raises if the queue is missing
            seen[task.name] = now
            return created

    state_cls.create_task = create_task

    def queue(self, name):  # type: ignore[no-untyped-def]
        if name not in self._queues:
            raise NotFound(f"Queue does not exist: {name}")
        return self._queues[name]

    state_cls.queue = queue

    original_create_queue = state_cls.create_queue

    def create_queue(self, parent, queue):  # type: ignore[no-untyped-def]
        known = queue.name in self._queues
        created = original_create_queue(self, parent, queue)
        if paused and not known:
            created.state = emu.Queue.State.PAUSED
        return created

    state_cls.create_queue = create_queue

    def list_tasks(self, queue_name):  # type: ignore[no-untyped-def]
        if queue_name not in self._queue_tasks:
            raise NotFound(f"Queue does not exist: {queue_name}")
        return list(self._queue_tasks[queue_name])

    state_cls.list_tasks = list_tasks

    original_submit = state_cls.submit_task

    def submit_task(self, task_name, force_run=False):  # type: ignore[no-untyped-def]
        # Back off a task that failed recently instead of hammering its target.
        last = failed_at.get(task_name)
        if last is not None and not force_run and time.monotonic() - last < retry_delay:
            queue_name = task_name.rsplit("/", 2)[0]
            tasks = self._queue_tasks.get(queue_name, [])
            for i, task in enumerate(tasks):
                if task.name == task_name:
                    tasks.append(tasks.pop(i))
                    break
            return None
        task = original_submit(self, task_name, force_run)
        if task is not None and task.last_attempt and task.last_attempt.response_status.code >= 400:
            failed_at[task_name] = time.monotonic()
        else:
            failed_at.pop(task_name, None)
        return task

    state_cls.submit_task = submit_task

    def make_task_request(queue_name, task, host, port):  # type: ignore[no-untyped-def]
        url = task.http_request.url
        if not url:
            raise Exception("only http_request tasks are supported by this launcher")
        headers = dict(task.http_request.headers)
        if task.http_request.oidc_token.service_account_email:
            headers.setdefault("Authorization", "Bearer emulator-oidc-token")
        headers.update(
            {
                "X-CloudTasks-QueueName": queue_name.rsplit("/", 1)[-1],
                "X-CloudTasks-TaskName": task.name.rsplit("/", 1)[-1],
                "X-CloudTasks-TaskRetryCount": str(task.dispatch_count - 1),
                "X-CloudTasks-TaskExecutionCount": str(task.dispatch_count - 1),
            }
        )
        req = urlrequest.Request(url, method=task.http_request.http_method.name, data=task.http_request.body or None)
        for key, value in headers.items():
            req.add_header(key, value)
        return urlrequest.urlopen(req, timeout=dispatch_timeout)

    emu._make_task_request = make_task_request

    def api_run(self):  # type: ignore[no-untyped-def]
        self._httpd = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        emu.add_CloudTasksServicer_to_server(emu.Greeter(self._state), self._httpd)
        self._httpd.add_insecure_port(f"127.0.0.1:{self._port}")
        self._httpd.start()
        self._is_running.set()
        while self._is_running.is_set():
            time.sleep(emu._LOOP_SLEEP_TIME)

    emu.APIThread.run = api_run

    original_process = emu.Processor._process_queue

    def process_queue_loop(self, queue_name):  # type: ignore[no-untyped-def]
        try:
            original_process(self, queue_name)
        finally:
            self._known_queues.discard(queue_name)

    emu.Processor._process_queue = process_queue_loop

    def greeter_get_queue(self, request, context):  # type: ignore[no-untyped-def]
        try:
            return self._state.queue(request.name)
        except NotFound as err:
            context.abort(grpc.StatusCode.NOT_FOUND, err.message)

    emu.Greeter.GetQueue = greeter_get_queue

    def greeter_list_tasks(self, request, context):  # type: ignore[no-untyped-def]
        try:
            return emu.ListTasksResponse(tasks=self._state.list_tasks(request.parent))
        except NotFound as err:
            context.abort(grpc.StatusCode.NOT_FOUND, err.message)

    emu.Greeter.ListTasks = greeter_list_tasks

    def greeter_queue_state(method):  # type: ignore[no-untyped-def]
        def call(self, request, context):  # type: ignore[no-untyped-def]
            try:
                return getattr(self._state, method)(request.name)
            except (NotFound, ValueError, KeyError) as err:
                context.abort(grpc.StatusCode.NOT_FOUND, str(err))

        return call

    emu.Greeter.PauseQueue = greeter_queue_state("pause_queue")
    emu.Greeter.ResumeQueue = greeter_queue_state("resume_queue")

    def greeter_create_task(self, request, context):  # type: ignore[no-untyped-def]
        try:
            return self._state.create_task(request.parent, request.task)
        except AlreadyExists as err:
            context.abort(grpc.StatusCode.ALREADY_EXISTS, err.message)
        except Exception as err:  # FailedPrecondition and friends
            code = getattr(err, "grpc_status_code", None) or grpc.StatusCode.FAILED_PRECONDITION
            context.abort(code, str(err))

    emu.Greeter.CreateTask = greeter_create_task


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--max-retries", type=int, default=5)
    parser.add_argument("--dispatch-timeout", type=float, default=60.0)
    parser.add_argument("--retry-delay", type=float, default=0.5)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--paused", action="store_true", help="create queues paused (tests resume them to deliver)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR if args.quiet else logging.INFO, stream=sys.stderr)
    patch(args.max_retries, args.dispatch_timeout, args.retry_delay, args.paused)
    server = emu.create_server("127.0.0.1", args.port, "127.0.0.1", 80, [], args.max_retries)
    print(f"cloud tasks emulator on 127.0.0.1:{args.port}", flush=True)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
