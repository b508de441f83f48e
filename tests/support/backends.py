"""The backends a test may run on, for fixtures written once and served by each backend.

``BACKENDS`` parametrizes such a fixture: its gcp case carries the ``gcp`` marker, so
``pytest -m "not gcp"`` keeps the local cases only. ``gcp_adapters`` is ``infra.testing.gcp_adapters``
(fresh bucket, Firestore prefix and queue prefix on the emulators the suite starts).
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from infra.testing import GcpTestBackend

ROOT = str(Path(__file__).resolve().parents[2])

BACKENDS = [pytest.param("local", id="local"), pytest.param("gcp", id="gcp", marks=pytest.mark.gcp)]


def gcp_adapters(**settings: Any) -> AbstractContextManager[GcpTestBackend]:
    """Isolated gcp adapters on the emulators; ``settings`` are further ``Settings`` fields."""
    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)  # infra/ lives at the repository root
    from infra.testing import gcp_adapters as build

    return build(**settings)
