"""Fixtures of the aws integration tests: isolated adapters on moto's server (infra/aws_testing.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = str(Path(__file__).resolve().parents[3])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


@pytest.fixture
def aws() -> Iterator[Any]:
    from infra.aws_testing import aws_adapters

    with aws_adapters() as built:
        yield built
