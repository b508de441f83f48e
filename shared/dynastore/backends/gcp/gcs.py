"""``ports.BlobStore`` on Cloud Storage (google-cloud-storage).

- Generations are GCS object generations; ``if_generation_match=0`` is GCS's create-only
  precondition (``Conflict`` if the object exists), any other value a generation match
  (``PreconditionFailed``).
- Reads stream through ``Blob.open("rb")`` pinned to the generation ``stat`` saw.
- Signed URLs are V4. With a service-account key the SDK signs locally; without one (Cloud
  Functions, Cloud Run: metadata-server credentials) it signs through the IAM ``signBlob`` API as
  ``signer_email`` (default: the runtime service account), which needs
  ``roles/iam.serviceAccountTokenCreator`` on itself. Against an emulator
  (``STORAGE_EMULATOR_HOST``) an ephemeral key signs and the URL points at the emulator, which
  does not check signatures but serves the same paths.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, BinaryIO, Literal, cast

from dynastore.backends.checks import check_put_options, check_signed_url_request, key_under
from dynastore.backends.gcp._errors import sdk_errors
from dynastore.backends.gcp.lazy_client import LazyClient
from dynastore.domain import time as dtime
from dynastore.domain.object_keys import check_key
from dynastore.errors import Conflict, Invalid, NotFound, PreconditionFailed, Unavailable
from dynastore.ports import BlobInfo, BlobStoreBase, StorageTier

CHUNK = 8 * 1024 * 1024
# ports.StorageTier -> Cloud Storage class (every class serves reads at once; colder ones cost per read)
STORAGE_CLASSES = {"hot": "STANDARD", "cold": "COLDLINE", "archive": "ARCHIVE"}


_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")


def check_bucket_name(bucket: str) -> str:
    """``bucket`` if Cloud Storage accepts it as a bucket name (3-63 characters per dot-separated
    part; lowercase letters, digits, ``-``, ``_`` and ``.``), else ``Invalid``."""
    if not isinstance(bucket, str) or not _BUCKET_NAME.match(bucket):
        raise Invalid(
            f"bucket name {bucket!r} is not valid: 3-63 lowercase letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    if ".." in bucket or any(len(part) > 63 for part in bucket.split(".")) or ("." not in bucket and len(bucket) > 63):
        raise Invalid(f"bucket name {bucket!r} is not valid: at most 63 characters between dots")
    return bucket


def _b64_hex(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return base64.b64decode(value).hex()
    except (binascii.Error, ValueError):
        return None


def blob_info(blob: Any) -> BlobInfo:
    return BlobInfo(
        bucket=blob.bucket.name,
        key=blob.name,
        size=int(blob.size or 0),
        generation=str(blob.generation),
        etag=blob.etag,
        md5=_b64_hex(blob.md5_hash),
        crc32c=_b64_hex(blob.crc32c),
        content_type=blob.content_type,
        metadata={str(k): str(v) for k, v in (blob.metadata or {}).items()},
        updated=dtime.isoformat(blob.updated) if blob.updated else None,
        storage_class=blob.storage_class,
    )


_ephemeral_lock = threading.Lock()
_ephemeral: Any = None


def ephemeral_signing_credentials() -> Any:
    """A throwaway service-account key (emulator only: nothing checks its signatures)."""
    global _ephemeral
    with _ephemeral_lock:
        if _ephemeral is None:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import rsa
            from google.oauth2 import service_account

            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
            _ephemeral = service_account.Credentials.from_service_account_info(
                {
                    "type": "service_account",
                    "client_email": "emulator-signer@dynastore-local.iam.gserviceaccount.com",
                    "private_key": pem,
                    "token_uri": "http://127.0.0.1/token",
                    "project_id": "dynastore-local",
                }
            )
        return _ephemeral


class GcsBlobStore(BlobStoreBase):
    """One Cloud Storage bucket."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        signer_email: str | None = None,
        emulator_host: str | None = None,
    ) -> None:
        """``client``: a ``storage.Client``, or a function that makes one on first use (cold starts
        that never touch storage do not import the SDK)."""
        self._client = LazyClient(client)
        self.bucket = bucket
        self.signer_email = signer_email
        self.emulator_host = emulator_host if emulator_host is not None else os.environ.get("STORAGE_EMULATOR_HOST")
        self._bucket_ref: Any = None

    @property
    def client(self) -> Any:
        return self._client.get()

    @property
    def _bucket(self) -> Any:
        if self._bucket_ref is None:
            self._bucket_ref = self.client.bucket(self.bucket)
        return self._bucket_ref

    def for_bucket(self, bucket: str) -> GcsBlobStore:
        """This store for its own name, else a store on ``bucket`` (per-catalog buckets) sharing the
        client, made on first use by whichever store needs it first. ``Invalid`` for a name Cloud
        Storage would refuse; a missing bucket shows on first use (``health`` says ``Unavailable``)."""
        if bucket == self.bucket:
            return self
        check_bucket_name(bucket)
        return GcsBlobStore(
            lambda: self.client, bucket, signer_email=self.signer_email, emulator_host=self.emulator_host
        )

    def _what(self, key: str) -> str:
        return f"object {key!r} in bucket {self.bucket!r}"

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
        blob = self._bucket.blob(key, chunk_size=CHUNK)
        if if_generation_match is not None and not isinstance(data, bytes | bytearray | memoryview):
            data = _small_as_bytes(data)  # one request: its precondition holds on the emulator too
        if metadata:
            blob.metadata = dict(metadata)
        from google.api_core import exceptions as gexc

        try:
            with sdk_errors(f"upload of {self._what(key)}"):
                try:
                    if isinstance(data, bytes | bytearray | memoryview):
                        blob.upload_from_string(
                            bytes(data),
                            content_type=content_type or "application/octet-stream",
                            if_generation_match=if_generation_match,
                        )
                    else:
                        blob.upload_from_file(
                            data,
                            content_type=content_type or "application/octet-stream",
                            if_generation_match=if_generation_match,
                            rewind=False,
                        )
                except gexc.PreconditionFailed as exc:
                    if if_generation_match == 0:
                        raise Conflict(f"{self._what(key)} already exists") from exc
                    raise PreconditionFailed(f"{self._what(key)} is not at generation {if_generation_match}") from exc
        except NotFound as exc:
            raise Unavailable(f"bucket {self.bucket!r} does not exist") from exc
        return blob_info(blob)

    def copy(self, source_key: str, dest_key: str) -> BlobInfo:
        check_key(source_key)
        check_key(dest_key)
        with sdk_errors(f"copy of {self._what(source_key)}"):
            copied = self._bucket.copy_blob(self._bucket.blob(source_key), self._bucket, dest_key)
        return blob_info(copied)

    def set_storage_class(self, key: str, tier: StorageTier) -> BlobInfo:
        """A rewrite in place (``Blob.update_storage_class``): a new generation of the same bytes.

        fake-gcs-server ignores the class of a rewrite but honours it on upload, so against the
        emulator the bytes are uploaded again with the class (same key, bytes, type and metadata)."""
        blob = self._existing_blob(key, "storage class change")
        wanted = STORAGE_CLASSES[tier]
        if blob.storage_class == wanted:
            return blob_info(blob)
        with sdk_errors(f"storage class change of {self._what(key)}"):
            if not self.emulator_host:
                blob.update_storage_class(wanted)
                return blob_info(blob)
            again = self._bucket.blob(key)
            again.storage_class, again.metadata = wanted, blob.metadata
            again.upload_from_string(
                blob.download_as_bytes(), content_type=blob.content_type, if_generation_match=blob.generation
            )
        return blob_info(again)

    def delete(self, key: str, *, missing_ok: bool = True) -> None:
        check_key(key)
        try:
            with sdk_errors(f"delete of {self._what(key)}"):
                self._bucket.blob(key).delete()
        except NotFound:
            if not missing_ok:
                raise NotFound(f"{self._what(key)} does not exist") from None

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix``; returns how many."""
        if not prefix:
            raise Invalid("refusing to delete a whole bucket through delete_prefix")
        count = 0
        for info in self.list(prefix):
            self.delete(info.key)
            count += 1
        return count

    # ------------------------------------------------------------------ reads
    def _existing_blob(self, key: str, action: str) -> Any:
        """The blob of ``key`` with its properties read (``NotFound`` if absent); ``action`` names
        the operation in errors."""
        check_key(key)
        with sdk_errors(f"{action} of {self._what(key)}"):
            blob = self._bucket.get_blob(key)
        if blob is None:
            raise NotFound(f"{self._what(key)} does not exist")
        return blob

    def stat(self, key: str) -> BlobInfo:
        return blob_info(self._existing_blob(key, "stat"))

    def get(self, key: str) -> bytes:
        check_key(key)
        try:
            with sdk_errors(f"download of {self._what(key)}"):
                return bytes(self._bucket.blob(key).download_as_bytes())
        except NotFound:
            raise NotFound(f"{self._what(key)} does not exist") from None

    def open(self, key: str) -> BinaryIO:
        blob = self._existing_blob(key, "open")
        with sdk_errors(f"open of {self._what(key)}"):
            reader = blob.open("rb", chunk_size=CHUNK, if_generation_match=blob.generation)
        return cast(BinaryIO, _Reader(reader, self._what(key)))

    def list(self, prefix: str = "") -> Iterator[BlobInfo]:
        if not isinstance(prefix, str):
            raise Invalid("a list prefix must be a string")
        with sdk_errors(f"list of bucket {self.bucket!r}"):
            for blob in self.client.list_blobs(self.bucket, prefix=prefix or None):
                yield blob_info(blob)

    # ------------------------------------------------------------------ addressing
    def href(self, key: str) -> str:
        return f"gs://{self.bucket}/{check_key(key)}"

    def key_for_href(self, href: str) -> str | None:
        return key_under(href, f"gs://{self.bucket}/", check_key)

    def signed_url(
        self,
        key: str,
        *,
        method: Literal["GET", "PUT"] = "GET",
        expires_seconds: int = 900,
        content_type: str | None = None,
    ) -> str | None:
        check_key(key)
        lifetime = "a V4 signed URL lives from 1 second to 7 days"
        check_signed_url_request(method, expires_seconds, 7 * 24 * 3600, lifetime)
        kwargs: dict[str, Any] = {
            "version": "v4",
            "expiration": timedelta(seconds=expires_seconds),
            "method": method,
        }
        if content_type and method == "PUT":
            kwargs["content_type"] = content_type
        if self.emulator_host:
            kwargs["api_access_endpoint"] = self.emulator_host.rstrip("/")
            kwargs["credentials"] = ephemeral_signing_credentials()
        else:
            kwargs.update(self._signing_kwargs())
        with sdk_errors(f"signing a URL for {self._what(key)}"):
            return str(self._bucket.blob(key).generate_signed_url(**kwargs))

    def _signing_kwargs(self) -> dict[str, Any]:
        credentials = self.client._credentials
        if getattr(credentials, "signer", None) is not None and hasattr(credentials, "sign_bytes"):
            return {"credentials": credentials}  # a key file: sign locally
        import google.auth.transport.requests

        with sdk_errors("refreshing credentials to sign a URL"):
            if not credentials.valid:
                credentials.refresh(google.auth.transport.requests.Request())
        email = self.signer_email or getattr(credentials, "service_account_email", None)
        if not email or email == "default":
            raise Unavailable(
                "cannot sign URLs: no key file and no service account email; set DYNASTORE_GCP_SIGNER_EMAIL"
            )
        return {"service_account_email": email, "access_token": credentials.token}

    def health(self) -> None:
        try:
            with sdk_errors(f"bucket {self.bucket!r}"):
                exists = self._bucket.exists()
        except NotFound:
            exists = False
        if not exists:
            raise Unavailable(f"bucket {self.bucket!r} does not exist")

    def ensure_bucket(self, location: str | None = None) -> None:
        """Create the bucket if it is missing (emulator and dev setups; Terraform in production)."""
        from google.api_core import exceptions as gexc

        try:
            with sdk_errors(f"bucket {self.bucket!r}"):
                if not self._bucket.exists():
                    self.client.create_bucket(self.bucket, location=location)
        except Conflict:
            pass
        except gexc.Conflict:  # pragma: no cover - raced with another creator
            pass


class _Reader:
    """A ``BlobReader`` whose SDK errors come out as dynastore errors."""

    def __init__(self, reader: Any, what: str) -> None:
        self._reader = reader
        self._what = what

    def read(self, size: int = -1) -> bytes:
        with sdk_errors(f"read of {self._what}"):
            return bytes(self._reader.read(size))

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[bytes]:
        while True:
            chunk = self.read(CHUNK)
            if not chunk:
                return
            yield chunk

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


def _small_as_bytes(data: BinaryIO) -> bytes | BinaryIO:
    """A stream of at most ``CHUNK`` bytes as bytes (a single-request upload, whose precondition the
    emulator checks; it ignores one on a resumable session), else the stream from where it was."""
    start = data.tell() if data.seekable() else None
    head = data.read(CHUNK + 1)
    if len(head) <= CHUNK:
        return head
    if start is not None:
        data.seek(start)
        return data
    return io.BytesIO(head + data.read())
