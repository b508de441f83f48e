"""``checksum``: recompute ``file:checksum`` (a multihash) and ``file:size``; flag a mismatch.

The multihash convention is the upload's (``services/assets.py``): ``1220`` + the SHA2-256 hex
digest. A stored checksum in another multihash algorithm is verified with that algorithm.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, BinaryIO, Literal

from pydantic import BaseModel, Field

from dynastore.domain import time as dtime
from dynastore.errors import Invalid
from dynastore.tasks.base import Task, TaskInputs
from dynastore.tasks.context import TaskContext

Algorithm = Literal["sha2-256", "sha2-512", "sha1", "md5"]
# name → (multihash code prefix: varint code + digest length, hashlib name)
MULTIHASH: dict[str, tuple[str, str]] = {
    "sha2-256": ("1220", "sha256"),
    "sha2-512": ("1340", "sha512"),
    "sha1": ("1114", "sha1"),
    "md5": ("d50110", "md5"),
}
DEFAULT_ALGORITHM = "sha2-256"
CHUNK = 4 * 1024 * 1024


def algorithm_of(multihash: str | None) -> str | None:
    """The algorithm name of a hex multihash, or None when it is not one we know."""
    if not multihash:
        return None
    text = multihash.lower()
    for name, (prefix, hashlib_name) in MULTIHASH.items():
        if text.startswith(prefix) and len(text) == len(prefix) + 2 * hashlib.new(hashlib_name).digest_size:
            return name
    return None


def multihash_of(
    reader: BinaryIO, algorithm: str = DEFAULT_ALGORITHM, *, between_chunks: Callable[[int], None] | None = None
) -> tuple[str, int]:
    """(hex multihash, size) of a stream, read in chunks; ``between_chunks(bytes_so_far)`` may raise to stop."""
    prefix, hashlib_name = MULTIHASH[algorithm]
    digest = hashlib.new(hashlib_name)
    size = 0
    while True:
        chunk = reader.read(CHUNK)
        if not chunk:
            break
        digest.update(chunk)
        size += len(chunk)
        if between_chunks is not None:
            between_chunks(size)
    return prefix + digest.hexdigest(), size


class ChecksumInputs(TaskInputs):
    algorithm: Algorithm | None = Field(
        default=None, description="multihash algorithm; default: the one of the stored checksum, else sha2-256"
    )
    update: bool = Field(default=True, description="write the recomputed file:checksum/file:size to the asset")


class ChecksumOutputs(BaseModel):
    algorithm: str
    file_checksum: str = Field(alias="file:checksum")
    file_size: int = Field(alias="file:size")
    expected_checksum: str | None = None
    expected_size: int | None = None
    checksum_matches: bool | None = Field(description="None when the asset had no checksum to compare")
    size_matches: bool | None
    mismatch: bool = Field(description="True when a stored value differs from the bytes")


class ChecksumTask(Task):
    id = "checksum"
    title = "Checksum"
    description = (
        "Recompute the asset's file:checksum (multihash, SHA2-256 by default) and file:size from its bytes, "
        "compare them with the stored values and flag a mismatch."
    )
    Inputs = ChecksumInputs
    Outputs = ChecksumOutputs
    keywords = ("integrity", "file")

    def run(self, ctx: TaskContext, inputs: ChecksumInputs) -> dict[str, Any]:
        expected = ctx.asset.get("file:checksum")
        expected_size = ctx.asset.get("file:size")
        algorithm = inputs.algorithm or algorithm_of(expected) or DEFAULT_ALGORITHM
        if inputs.algorithm and expected and algorithm_of(expected) not in (None, inputs.algorithm):
            raise Invalid(
                f"the stored file:checksum uses {algorithm_of(expected)}; asking for {inputs.algorithm} cannot compare"
            )
        ctx.progress(0, f"hashing with {algorithm}")
        total = expected_size or 0

        def between_chunks(done: int) -> None:
            ctx.progress(min(99, 100 * done / total) if total else 50)

        with ctx.open_source() as reader:
            checksum, size = multihash_of(reader, algorithm, between_chunks=between_chunks)
        checksum_matches = None if expected is None else checksum.lower() == str(expected).lower()
        size_matches = None if expected_size is None else size == expected_size
        mismatch = checksum_matches is False or size_matches is False
        if inputs.update:
            integrity: dict[str, Any] = {
                "checked": dtime.now_iso(),
                "algorithm": algorithm,
                "status": "mismatch" if mismatch else "ok",
            }
            if mismatch:
                integrity.update(previous_checksum=expected, previous_size=expected_size)
            ctx.update_asset({"file:checksum": checksum, "file:size": size, "metadata": {"integrity": integrity}})
        ctx.progress(100, "mismatch" if mismatch else "ok")
        return {
            "algorithm": algorithm,
            "file:checksum": checksum,
            "file:size": size,
            "expected_checksum": expected,
            "expected_size": expected_size,
            "checksum_matches": checksum_matches,
            "size_matches": size_matches,
            "mismatch": mismatch,
        }
