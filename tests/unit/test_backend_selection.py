"""Choosing a backend by configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynastore.bootstrap import build_adapters
from dynastore.config import Settings
from dynastore.errors import Invalid


def test_the_aws_backend_builds_its_adapters_without_touching_aws(tmp_path: Path) -> None:
    # GIVEN settings that ask for the aws backend with its landing bucket
    settings = Settings(backend="aws", data_dir=tmp_path, aws_bucket="landing", aws_table_prefix="prod")
    # WHEN the adapters are built THEN each port is served by the aws backend (clients made on first use)
    adapters = build_adapters(settings)
    assert type(adapters.store).__name__ == "DynamoMetadataStore"
    assert type(adapters.blobs).__name__ == "S3BlobStore"
    assert type(adapters.queue).__name__ == "SqsTaskQueue"
    assert adapters.blobs.bucket == "landing"


def test_the_aws_backend_without_a_bucket_says_which_setting_to_set(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="DYNASTORE_AWS_BUCKET"):
        build_adapters(Settings(backend="aws", data_dir=tmp_path))


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
