"""The Firestore health check over REST, for a process that has not made its Firestore client yet.

The gRPC SDK (``google.cloud.firestore``: protobuf types, gapic, the gRPC channel) is the largest
import of a cold start; ``GET /health`` only needs to know the database answers. Until a request
makes the client, the check reads the same probe document through the REST API
(``documents.get``, answered 200 or 404 when the database is reachable and the caller may read
it) with the ``requests`` transport that Cloud Storage loads anyway. Once the client exists the
store checks through it, as before.
"""

from __future__ import annotations

import os
import threading
from typing import Any
from urllib.parse import quote

from dynastore.errors import Unavailable

SCOPES = ("https://www.googleapis.com/auth/datastore",)
TIMEOUT_S = 10.0


class RestProbe:
    """``probe(path)``: GET ``projects/{project}/databases/{database}/documents/{path}``; ``Unavailable``
    unless Firestore answers 200 or 404. Honours ``FIRESTORE_EMULATOR_HOST`` like the SDK."""

    def __init__(self, project: str, database: str) -> None:
        self.project = project
        self.database = database
        self._session: Any = None
        self._lock = threading.Lock()

    def _base_and_session(self) -> tuple[str, Any]:
        emulator = os.environ.get("FIRESTORE_EMULATOR_HOST")
        with self._lock:
            if self._session is None:
                if emulator:
                    import requests

                    self._session = requests.Session()
                    self._session.headers["Authorization"] = "Bearer owner"  # the emulator's admin token
                else:
                    import google.auth
                    from google.auth.transport.requests import AuthorizedSession

                    credentials, _ = google.auth.default(scopes=list(SCOPES))
                    self._session = AuthorizedSession(credentials)
        base = f"http://{emulator}" if emulator else "https://firestore.googleapis.com"
        return base, self._session

    def __call__(self, path: str) -> None:
        base, session = self._base_and_session()
        url = f"{base}/v1/projects/{quote(self.project)}/databases/{quote(self.database)}/documents/{quote(path)}"
        try:
            response = session.get(url, timeout=TIMEOUT_S)
        except Exception as exc:  # network, DNS, credentials: the database is not reachable
            raise Unavailable(f"Firestore health check: {type(exc).__name__}: {exc}") from exc
        if response.status_code not in (200, 404):
            raise Unavailable(f"Firestore health check: HTTP {response.status_code}: {response.text[:200]}")
