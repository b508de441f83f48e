"""Fixtures of the gcp integration tests: isolated adapters on the emulators (infra/testing.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = str(Path(__file__).resolve().parents[3])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

pytestmark = pytest.mark.gcp


@pytest.fixture
def gcp() -> Iterator[Any]:
    from infra.testing import gcp_adapters

    with gcp_adapters() as built:
        yield built
