"""A small client for the AIOS Assets DB and registry API (seed 002), served at ``{dynastore}/aios``.

An application of the old service switches by changing its URL::

    from dynastore.client import AssetsDBClient
    db = AssetsDBClient("https://dynastore.example.org/aios", api_key="...")
    db.upload_asset("model.pt", {"asset_name": "m", "asset_version": {"version": "1.0", "tag": "initial"}})
    db.get_asset("m:1.0-initial")

Every call returns the ``data`` of the ``{"success": true, "data": ...}`` answer, and raises
``AssetsDBError`` (status, problem document) otherwise. Standard library only; pass ``session`` (an
``httpx.Client`` or a FastAPI ``TestClient``) to reuse connections or test in-process.
"""

from __future__ import annotations

import json
import mimetypes
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urljoin, urlsplit


class AssetsDBError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        detail = body.get("detail") if isinstance(body, dict) else body
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.body = body


class _Response(Protocol):
    status_code: int
    content: bytes
    headers: Any


class Session(Protocol):
    def request(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        follow_redirects: bool = ...,
    ) -> _Response: ...


@dataclass
class _UrllibResponse:
    status_code: int
    content: bytes
    headers: Any


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 30x comes back as an HTTPError, answered as a response


class UrllibSession:
    """The default transport (standard library)."""

    def request(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = None,
        follow_redirects: bool = True,
    ) -> _UrllibResponse:
        req = urllib.request.Request(url, data=content, method=method, headers=headers or {})
        opener = urllib.request.build_opener() if follow_redirects else urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(req, timeout=timeout) as answer:
                return _UrllibResponse(answer.status, answer.read(), answer.headers)
        except urllib.error.HTTPError as exc:
            return _UrllibResponse(exc.code, exc.read(), exc.headers)


def _multipart(fields: dict[str, tuple[str | None, bytes, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, (filename, data, ctype) in fields.items():
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        parts.append(
            f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: {ctype}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class AssetsDBClient:
    def __init__(
        self, base_url: str, *, api_key: str | None = None, session: Session | None = None, timeout: float = 30
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.session: Session = session or UrllibSession()
        self.timeout = timeout

    # ------------------------------------------------------------------------------ plumbing
    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        raw: bytes | None = None,
        content_type: str | None = None,
        expect_json: bool = True,
    ) -> Any:
        answer = self._send(method, path, body=body, raw=raw, content_type=content_type)
        if not expect_json:
            return answer.content
        return json.loads(answer.content)["data"]

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        raw: bytes | None = None,
        content_type: str | None = None,
        follow_redirects: bool = True,
    ) -> _Response:
        headers: dict[str, str] = {}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if body is not None:
            raw, content_type = json.dumps(body).encode(), "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        # httpx/TestClient sessions keep their own timeout; the urllib default takes ours.
        extra = {"timeout": self.timeout} if isinstance(self.session, UrllibSession) else {}
        url = path if "://" in path else self.base_url + path
        answer = self.session.request(
            method, url, content=raw, headers=headers, follow_redirects=follow_redirects, **extra
        )
        return _checked(answer)

    @staticmethod
    def _uri(asset_uri: str) -> str:
        return quote(asset_uri, safe=":")

    # ------------------------------------------------------------------------------ Assets DB
    def health(self) -> Any:
        return self._call("GET", "/health")

    def upload_asset(
        self, file: str | Path | bytes, asset_metadata: dict[str, Any], *, filename: str | None = None
    ) -> Any:
        if isinstance(file, bytes):
            data, name = file, filename or "asset"
        else:
            data, name = Path(file).read_bytes(), filename or Path(file).name
        ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        raw, content_type = _multipart(
            {
                "asset": (name, data, ctype),
                "asset_metadata": (None, json.dumps(asset_metadata).encode(), "application/json"),
            }
        )
        return self._call("POST", "/upload_asset", raw=raw, content_type=content_type)

    def create_asset(self, asset: dict[str, Any]) -> Any:
        return self._call("POST", "/asset", body=asset)

    def get_asset(self, asset_uri: str) -> Any:
        return self._call("GET", f"/asset/{self._uri(asset_uri)}")

    def update_asset(self, asset_uri: str, changes: dict[str, Any]) -> Any:
        return self._call("PUT", f"/asset/{self._uri(asset_uri)}", body=changes)

    def delete_asset(self, asset_uri: str) -> Any:
        return self._call("DELETE", f"/asset/{self._uri(asset_uri)}")

    def query_assets(self, query: dict[str, Any]) -> Any:
        return self._call("POST", "/assets", body=query)

    def get_asset_object(self, asset_id: str) -> bytes:
        """The file's bytes. A redirect to another host (a gcs/s3 signed URL) is followed without the
        API key: the signed URL carries its own authorization, and the key stays with this service."""
        path = f"/asset-object/{quote(asset_id, safe='')}"
        answer = self._send("GET", path, follow_redirects=False)
        location = answer.headers.get("location") if 300 <= answer.status_code < 400 else None
        if location:
            target = urljoin(self.base_url + path, location)
            if urlsplit(target)[:2] == urlsplit(self.base_url)[:2]:
                answer = self._send("GET", target)
            else:
                answer = _checked(UrllibSession().request("GET", target, timeout=self.timeout))
        return answer.content

    # ------------------------------------------------------------------------------ registry
    def create_registry(self, entry: dict[str, Any]) -> Any:
        return self._call("POST", "/asset_registry", body=entry)

    def get_registry(self, asset_db_id: str) -> Any:
        return self._call("GET", f"/asset_registry/{quote(asset_db_id, safe='')}")

    def update_registry(self, asset_db_id: str, changes: dict[str, Any]) -> Any:
        return self._call("PUT", f"/asset_registry/{quote(asset_db_id, safe='')}", body=changes)

    def delete_registry(self, asset_db_id: str) -> Any:
        return self._call("DELETE", f"/asset_registry/{quote(asset_db_id, safe='')}")

    def query_registries(self, query: dict[str, Any]) -> Any:
        return self._call("POST", "/asset_registries", body=query)

    def check_health(self, asset_db_id: str) -> Any:
        return self._call("GET", f"/check_health/{quote(asset_db_id, safe='')}")


def _checked(answer: _Response) -> _Response:
    if answer.status_code >= 400:
        try:
            problem = json.loads(answer.content)
        except ValueError:
            problem = answer.content.decode(errors="replace")
        raise AssetsDBError(answer.status_code, problem)
    return answer
