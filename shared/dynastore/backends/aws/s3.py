"""``ports.BlobStore`` on S3 and S3-compatible stores (MinIO, Ceph, moto) through boto3.

- Generations: S3 has no numeric object generation, so each write stamps one in the object's
  user metadata (``x-amz-meta-dynastore-generation``: microseconds since the epoch, above the
  previous one when the write is conditional); ``stat``/``put`` report it and hide the key from
  ``metadata``. The ETag (hex MD5 for single-part uploads) is ``md5``/``etag``.
- ``if_generation_match=0`` is S3's create-only conditional write (``If-None-Match: *``): exactly
  one of racing creators wins, the others get ``Conflict``. Any other value reads the object's
  generation and ETag and writes with ``If-Match: <etag>``, so a writer that lost the race since
  gets ``PreconditionFailed``. (Two writes of identical bytes share an ETag; such an overwrite
  cannot be told from no change, which leaves the bytes right.)
- ``list`` describes each object with a HEAD (listings carry no user metadata); ``list_keys``
  does not. Objects are written with one PUT (S3's single-PUT limit: 5 GB).
- Signed URLs are SigV4 presigned GET/PUT, at most 15 minutes. ``endpoint_url`` (with path-style
  addressing) points the client at an S3-compatible store.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import re
import time
from collections.abc import Iterator
from typing import Any, BinaryIO, Literal, cast

from dynastore.backends.aws._errors import error_code, sdk_errors
from dynastore.backends.checks import check_put_options, check_signed_url_request, key_under
from dynastore.backends.gcp.lazy_client import LazyClient
from dynastore.domain import time as dtime
from dynastore.domain.object_keys import check_key
from dynastore.errors import Conflict, Invalid, NotFound, PreconditionFailed, Unavailable
from dynastore.ports import BlobInfo, BlobStoreBase, StorageTier

GENERATION_KEY = "dynastore-generation"
MAX_SIGNED_SECONDS = 900
CHUNK = 8 * 1024 * 1024
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# ports.StorageTier -> S3 storage class: only classes GET reads at once (no Glacier restore needed)
STORAGE_CLASSES = {"hot": "STANDARD", "cold": "STANDARD_IA", "archive": "GLACIER_IR"}


def check_bucket_name(bucket: str) -> str:
    """``bucket`` if S3 accepts it (3-63 lowercase letters, digits, ``.`` and ``-``), else ``Invalid``."""
    if not isinstance(bucket, str) or not _BUCKET_NAME.match(bucket) or ".." in bucket:
        raise Invalid(
            f"bucket name {bucket!r} is not valid: 3-63 lowercase letters, digits, '.' or '-', "
            "starting and ending with a letter or digit"
        )
    return bucket


def _now_generation() -> int:
    return time.time_ns() // 1000


def _unquote(etag: str | None) -> str | None:
    return etag.strip('"') if etag else None


class S3BlobStore(BlobStoreBase):
    """One S3 bucket."""

    def __init__(self, client: Any, bucket: str) -> None:
        """``client``: a boto3 S3 client, or a function that makes one on first use."""
        self._client = LazyClient(client)
        self.bucket = bucket

    @property
    def client(self) -> Any:
        return self._client.get()

    def for_bucket(self, bucket: str) -> S3BlobStore:
        if bucket == self.bucket:
            return self
        check_bucket_name(bucket)
        return S3BlobStore(lambda: self.client, bucket)

    def _what(self, key: str) -> str:
        return f"object {key!r} in bucket {self.bucket!r}"

    def _info(self, key: str, head: dict[str, Any]) -> BlobInfo:
        metadata = {str(k): str(v) for k, v in (head.get("Metadata") or {}).items()}
        generation = metadata.pop(GENERATION_KEY, None)
        etag = _unquote(head.get("ETag"))
        if generation is None:  # written by something else than this store
            modified = head.get("LastModified")
            generation = str(int(modified.timestamp() * 1_000_000)) if modified else "0"
        return BlobInfo(
            bucket=self.bucket,
            key=key,
            size=int(head.get("ContentLength", head.get("Size", 0)) or 0),
            generation=generation,
            etag=etag,
            md5=etag if etag and len(etag) == 32 and "-" not in etag else None,
            content_type=head.get("ContentType"),
            metadata=metadata,
            updated=dtime.isoformat(head["LastModified"]) if head.get("LastModified") else None,
            storage_class=head.get("StorageClass") or "STANDARD",  # HEAD omits it for STANDARD
        )

    # ------------------------------------------------------------------ writes
    def put(
        self,
        key: str,
        data: bytes | BinaryIO,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        if_generation_match: int | None = None,
    ) -> BlobInfo:
        check_key(key)
        check_put_options(metadata, if_generation_match)
        generation = _now_generation()
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "ContentType": content_type or "application/octet-stream",
        }
        if if_generation_match == 0:
            args["IfNoneMatch"] = "*"
        elif if_generation_match is not None:
            current = self.stat(key) if self._exists(key) else None
            if current is None or current.generation != str(if_generation_match):
                raise PreconditionFailed(f"{self._what(key)} is not at generation {if_generation_match}")
            args["IfMatch"] = f'"{current.etag}"'
            generation = max(generation, if_generation_match + 1)
        args["Metadata"] = {**(metadata or {}), GENERATION_KEY: str(generation)}
        body = bytes(data) if isinstance(data, bytes | bytearray | memoryview) else data
        if not isinstance(body, bytes) and not _seekable(body):
            body = body.read()  # botocore signs a payload it can rewind
        try:
            with sdk_errors(f"upload of {self._what(key)}"):
                try:
                    self.client.put_object(Body=body, **args)
                except Exception as exc:
                    code = error_code(exc)
                    if code in ("PreconditionFailed", "ConditionalRequestConflict") and if_generation_match == 0:
                        raise Conflict(f"{self._what(key)} already exists") from exc
                    if code in ("PreconditionFailed", "ConditionalRequestConflict"):
                        raise PreconditionFailed(
                            f"{self._what(key)} changed since generation {if_generation_match}"
                        ) from exc
                    if code == "NoSuchBucket":
                        raise Unavailable(f"bucket {self.bucket!r} does not exist") from exc
                    raise
        except NotFound as exc:
            raise Unavailable(f"bucket {self.bucket!r} does not exist") from exc
        return self.stat(key)

    def copy(self, source_key: str, dest_key: str) -> BlobInfo:
        check_key(source_key)
        check_key(dest_key)
        source = self.stat(source_key)
        with sdk_errors(f"copy of {self._what(source_key)}"):
            self.client.copy_object(
                Bucket=self.bucket,
                Key=dest_key,
                CopySource={"Bucket": self.bucket, "Key": source_key},
                MetadataDirective="REPLACE",
                ContentType=source.content_type or "application/octet-stream",
                Metadata={**source.metadata, GENERATION_KEY: str(_now_generation())},
            )
        return self.stat(dest_key)

    def set_storage_class(self, key: str, tier: StorageTier) -> BlobInfo:
        """A copy onto itself with the new class; user metadata (and so the generation) is kept."""
        current = self.stat(key)
        wanted = STORAGE_CLASSES[tier]
        if current.storage_class == wanted:
            return current
        with sdk_errors(f"storage class change of {self._what(key)}"):
            self.client.copy_object(
                Bucket=self.bucket,
                Key=key,
                CopySource={"Bucket": self.bucket, "Key": key},
                MetadataDirective="COPY",
                StorageClass=wanted,
            )
        return self.stat(key)

    def delete(self, key: str, *, missing_ok: bool = True) -> None:
        check_key(key)
        if not missing_ok and not self._exists(key):
            raise NotFound(f"{self._what(key)} does not exist")
        with sdk_errors(f"delete of {self._what(key)}"):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix`` (1000 per request); returns how many."""
        if not prefix:
            raise Invalid("refusing to delete a whole bucket through delete_prefix")
        return self._delete_keys(self.list_keys(prefix))

    def _delete_keys(self, keys: builtins.list[str]) -> int:
        for start in range(0, len(keys), 1000):
            chunk = [{"Key": k} for k in keys[start : start + 1000]]
            with sdk_errors(f"delete of objects in bucket {self.bucket!r}"):
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True})
        return len(keys)

    # ------------------------------------------------------------------ reads
    def _head(self, key: str, action: str) -> dict[str, Any]:
        check_key(key)
        try:
            with sdk_errors(f"{action} of {self._what(key)}"):
                return dict(self.client.head_object(Bucket=self.bucket, Key=key))
        except NotFound:
            raise NotFound(f"{self._what(key)} does not exist") from None

    def _exists(self, key: str) -> bool:
        try:
            self._head(key, "stat")
        except NotFound:
            return False
        return True

    def stat(self, key: str) -> BlobInfo:
        return self._info(key, self._head(key, "stat"))

    def _get_object(self, key: str, action: str) -> Any:
        check_key(key)
        try:
            with sdk_errors(f"{action} of {self._what(key)}"):
                return self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except NotFound:
            raise NotFound(f"{self._what(key)} does not exist") from None

    def get(self, key: str) -> bytes:
        body = self._get_object(key, "download")
        with sdk_errors(f"download of {self._what(key)}"), contextlib.closing(body):
            return bytes(body.read())

    def open(self, key: str) -> BinaryIO:
        return cast(BinaryIO, _Reader(self._get_object(key, "open"), self._what(key)))

    def _pages(self, prefix: str) -> Iterator[dict[str, Any]]:
        if not isinstance(prefix, str):
            raise Invalid("a list prefix must be a string")
        args: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        with sdk_errors(f"list of bucket {self.bucket!r}"):
            for page in self.client.get_paginator("list_objects_v2").paginate(**args):
                yield from page.get("Contents") or []

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        for entry in self._pages(prefix):
            with contextlib.suppress(NotFound):  # deleted between the listing and its HEAD
                yield self.stat(entry["Key"])

    def list_keys(self, prefix: str = "") -> builtins.list[str]:
        return [entry["Key"] for entry in self._pages(prefix)]

    # ------------------------------------------------------------------ addressing
    def href(self, key: str) -> str:
        return f"s3://{self.bucket}/{check_key(key)}"

    def key_for_href(self, href: str) -> str | None:
        return key_under(href, f"s3://{self.bucket}/", check_key)

    def signed_url(
        self,
        key: str,
        *,
        method: Literal["GET", "PUT"] = "GET",
        expires_seconds: int = 900,
        content_type: str | None = None,
    ) -> str | None:
        check_key(key)
        lifetime = f"a presigned S3 URL here lives from 1 to {MAX_SIGNED_SECONDS} seconds"
        check_signed_url_request(method, expires_seconds, MAX_SIGNED_SECONDS, lifetime)
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if content_type and method == "PUT":
            params["ContentType"] = content_type
        operation = "get_object" if method == "GET" else "put_object"
        with sdk_errors(f"signing a URL for {self._what(key)}"):
            return str(self.client.generate_presigned_url(operation, Params=params, ExpiresIn=expires_seconds))

    def health(self) -> None:
        try:
            with sdk_errors(f"bucket {self.bucket!r}"):
                self.client.head_bucket(Bucket=self.bucket)
        except NotFound as exc:
            raise Unavailable(f"bucket {self.bucket!r} does not exist") from exc

    def ensure_bucket(self, region: str | None = None) -> None:
        """Create the bucket if it is missing (tests, dev, per-catalog buckets; Terraform otherwise)."""
        args: dict[str, Any] = {"Bucket": self.bucket}
        if region and region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": region}
        with contextlib.suppress(Conflict), sdk_errors(f"bucket {self.bucket!r}"):
            self.client.create_bucket(**args)

    def delete_bucket(self) -> None:
        """Empty and remove the bucket (a retired catalog's dedicated bucket); gone already is fine."""
        try:
            self._delete_keys(self.list_keys(""))
            with sdk_errors(f"delete of bucket {self.bucket!r}"):
                self.client.delete_bucket(Bucket=self.bucket)
        except NotFound:
            pass


def _seekable(data: Any) -> bool:
    try:
        return bool(data.seekable())
    except (AttributeError, OSError, ValueError):
        return False


class _Reader(io.RawIOBase):
    """A botocore ``StreamingBody`` whose SDK errors come out as dynastore errors."""

    def __init__(self, body: Any, what: str) -> None:
        self._body = body
        self._what = what

    def read(self, size: int | None = -1) -> bytes:
        with sdk_errors(f"read of {self._what}"):
            return bytes(self._body.read(None if size is None or size < 0 else size))

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._body.close()
        super().close()
