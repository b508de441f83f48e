"""Choosing a backend by configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynastore.bootstrap import build_adapters
from dynastore.config import Settings
from dynastore.errors import Unavailable


def test_the_aws_backend_says_it_is_not_built_rather_than_half_working(tmp_path: Path) -> None:
    # GIVEN settings that ask for the aws backend
    settings = Settings(backend="aws", data_dir=tmp_path)
    # WHEN the adapters are built THEN start-up stops with a message that says what to do
    with pytest.raises(Unavailable, match="set DYNASTORE_BACKEND to local or gcp"):
        build_adapters(settings)


def test_the_local_backend_is_the_default(tmp_path: Path) -> None:
    # GIVEN default settings in a fresh data folder
    adapters = build_adapters(Settings(data_dir=tmp_path))
    try:
        # THEN every port is served by the local backend, under that folder
        assert type(adapters.store).__name__ == "SqliteMetadataStore"
        assert type(adapters.blobs).__name__ == "FolderBlobStore"
        assert (tmp_path / "bucket").is_dir()
    finally:
        adapters.close()
