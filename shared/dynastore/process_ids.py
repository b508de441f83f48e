"""Names of the processes that hold a queue lease or run a job: ``host:pid:token``.

The name lets another process of the same host tell whether the holder is still alive (a killed
dev server leaves leases and running jobs behind); across hosts nothing can be told.
"""

from __future__ import annotations

import os
import socket
import uuid


def new_process_id() -> str:
    """A fresh ``host:pid:token`` for this process (the token tells apart holders in one process)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def local_pid(process_id: str | None) -> int | None:
    """The pid in ``process_id`` when it names a process of this host, else None."""
    parts = (process_id or "").rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname():
        return None
    try:
        return int(parts[1])
    except ValueError:
        return None


def pid_is_alive(pid: int) -> bool:
    """Does a process with ``pid`` exist (one of another user counts as alive)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
