"""``python infra/moto_serial.py HOST PORT``: moto's server with one request handled at a time.

moto's backends are not thread-safe (a DynamoDB transaction deep-copies a table another request
is changing: a 500), while the real services make each call atomic. Serialising the handling of
requests (connections are still accepted concurrently) gives the tests AWS's atomicity per call.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable
from typing import Any


def main() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from moto.server import MotoRequestHandler  # type: ignore[attr-defined]
    from werkzeug.serving import run_simple

    host, port = sys.argv[1], int(sys.argv[2])
    os.environ.setdefault("MOTO_PORT", str(port))
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serial(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with lock:
            return list(app(environ, start_response))

    run_simple(host, port, serial, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
