"""The aws backend (S3, DynamoDB, SQS; Lambda entry points): designed (DESIGN §1) but not built yet.

``DYNASTORE_BACKEND=aws`` fails at start-up with this message rather than half-working.
"""

from __future__ import annotations

from typing import NoReturn

from dynastore.config import Settings
from dynastore.errors import Unavailable


def build_adapters(settings: Settings) -> NoReturn:
    raise Unavailable("the aws backend is not built yet: set DYNASTORE_BACKEND to local or gcp")
