"""Streaming ``multipart/form-data`` parsing for uploads.

Parts: ``file`` (the bytes, with a filename) and optionally ``metadata`` (a JSON object of asset
fields). The file part streams into an ``UploadBuffer`` that counts and hashes as it goes and
stops at ``DYNASTORE_MAX_UPLOAD_BYTES`` (413) — the body is never buffered whole in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from fastapi import Request
from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool

from dynastore.errors import Invalid, PayloadTooLarge
from dynastore.services.assets import UploadBuffer

MAX_METADATA_BYTES = 1024 * 1024
MULTIPART_OVERHEAD = 2 * MAX_METADATA_BYTES  # room for headers, boundaries and the metadata part
T = TypeVar("T")


@dataclass
class ParsedUpload:
    buffer: UploadBuffer
    filename: str | None = None
    content_type: str | None = None
    metadata: Any = None
    saw_file: bool = False
    fields: dict[str, bytes] = field(default_factory=dict)


class MultipartParts:
    """python-multipart callbacks shared by every multipart route: part headers, form fields kept
    (each bounded by ``MAX_METADATA_BYTES``), and file parts streamed into the buffer ``open_file``
    returns for them (``None``: the part is a form field)."""

    def __init__(self) -> None:
        self.fields: dict[str, bytes] = {}
        self.headers: dict[bytes, bytes] = {}
        self.header_field = bytearray()
        self.header_value = bytearray()
        self.name: str | None = None
        self.sink: UploadBuffer | None = None
        self.value = bytearray()

    def open_file(self, name: str, raw_filename: bytes | None, content_type: str | None) -> UploadBuffer | None:
        raise NotImplementedError

    def close(self) -> None:
        """Close every buffer ``open_file`` handed out (on a refused or malformed body)."""

    def callbacks(self) -> Any:  # python-multipart's MultipartCallbacks (a TypedDict of these methods)
        return {name: getattr(self, name) for name in _CALLBACKS}

    # python-multipart callbacks --------------------------------------------------------------
    def on_part_begin(self) -> None:
        self.headers = {}
        self.name = None
        self.sink = None
        self.value = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[bytes(self.header_field).lower()] = bytes(self.header_value)
        self.header_field = bytearray()
        self.header_value = bytearray()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.name = options.get(b"name", b"").decode("latin-1")
        part_type = self.headers.get(b"content-type")
        content_type = part_type.decode("latin-1").strip() if part_type else None
        self.sink = self.open_file(self.name, options.get(b"filename"), content_type)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.sink is not None:
            self.sink.write(data[start:end])
            return
        self.value += data[start:end]
        if len(self.value) > MAX_METADATA_BYTES:
            raise PayloadTooLarge(f"the `{self.name}` part is larger than {MAX_METADATA_BYTES} bytes")

    def on_part_end(self) -> None:
        if self.sink is None and self.name:
            self.fields[self.name] = bytes(self.value)


_CALLBACKS = (
    "on_part_begin",
    "on_header_field",
    "on_header_value",
    "on_header_end",
    "on_headers_finished",
    "on_part_data",
    "on_part_end",
)


def decode_filename(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid(f"{what} is not valid UTF-8") from None


async def parse_multipart(request: Request, boundary: bytes, parts: MultipartParts) -> None:
    """Feed the body to ``parts`` while it streams in (never buffered whole); on a refusal or a malformed
    body the buffers ``parts`` opened are closed and the error is a 400/413."""
    parser = MultipartParser(boundary, parts.callbacks())
    try:
        async for chunk in request.stream():
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except (Invalid, PayloadTooLarge):
        parts.close()
        raise
    except Exception as exc:  # python-multipart raises its own errors for malformed bodies
        parts.close()
        raise Invalid(f"malformed multipart body: {exc}") from None


class _UploadParts(MultipartParts):
    """One file part named ``file_field`` (with or without a file name) into the upload's buffer."""

    def __init__(self, upload: ParsedUpload, file_field: str) -> None:
        super().__init__()
        self.upload = upload
        self.file_field = file_field
        self.fields = upload.fields

    def open_file(self, name: str, raw_filename: bytes | None, content_type: str | None) -> UploadBuffer | None:
        if name != self.file_field:
            return None
        if self.upload.saw_file:
            raise Invalid(f"send exactly one `{self.file_field}` part")
        self.upload.saw_file = True
        if raw_filename is not None:
            self.upload.filename = decode_filename(raw_filename, "the file name")
        self.upload.content_type = content_type
        return self.upload.buffer

    def close(self) -> None:
        self.upload.buffer.close()


async def read_upload(
    request: Request, max_bytes: int, *, file_field: str = "file", metadata_field: str = "metadata"
) -> ParsedUpload:
    """Parse the multipart body while it streams in; the caller closes ``result.buffer``.

    ``file_field``/``metadata_field``: the part names (``/aios/upload_asset``: ``asset``, ``asset_metadata``)."""
    content_type = request.headers.get("content-type", "")
    ctype, params = parse_options_header(content_type)
    if ctype != b"multipart/form-data" or not params.get(b"boundary"):
        raise Invalid(
            f"an upload is multipart/form-data with a `{file_field}` part and an optional `{metadata_field}` JSON part"
        )
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_bytes + MULTIPART_OVERHEAD:
        raise PayloadTooLarge(f"the upload exceeds DYNASTORE_MAX_UPLOAD_BYTES ({max_bytes} bytes)")
    upload = ParsedUpload(buffer=UploadBuffer(max_bytes))
    await parse_multipart(request, params[b"boundary"], _UploadParts(upload, file_field))
    if not upload.saw_file:
        upload.buffer.close()
        raise Invalid(f"the upload has no `{file_field}` part")
    unknown = sorted(set(upload.fields) - {metadata_field})
    if unknown:
        upload.buffer.close()
        raise Invalid(
            f"unknown form field(s) {', '.join(unknown)}; send `{file_field}` and optionally `{metadata_field}` (JSON)"
        )
    raw = upload.fields.get(metadata_field)
    if raw is not None and raw.strip():
        try:
            upload.metadata = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            upload.buffer.close()
            raise Invalid(f"the `{metadata_field}` part is not valid JSON: {exc}") from None
    return upload


async def store_upload(upload: ParsedUpload, store: Callable[..., T], *args: Any, actor: str) -> T:
    """``store(*args, filename=, data=, content_type=, metadata=, actor=)`` of a parsed upload, run in
    the thread pool; the upload's buffer is closed whatever happens."""
    try:
        return await run_in_threadpool(
            store,
            *args,
            filename=upload.filename,
            data=upload.buffer,
            content_type=upload.content_type,
            metadata=upload.metadata,
            actor=actor,
        )
    finally:
        upload.buffer.close()
