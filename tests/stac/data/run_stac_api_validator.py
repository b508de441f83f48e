"""Run stac-api-validator offline: its schema fetches are answered from pystac's bundled copies.

Usage: <venv>/bin/python run_stac_api_validator.py <stac-api-validator arguments...>

Every HTTP(S) request the validator, stac-validator, stac-check or pystac make goes through
``requests`` or ``urllib``. This wrapper answers requests for the STAC 1.1.0 core and GeoJSON
schemas (and JSON Schema meta-schemas) from the files bundled with pystac / jsonschema, lets
requests to loopback addresses through, and refuses anything else with a clear error, so the run
never depends on the internet.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
import sys
import urllib.request
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests
from requests.adapters import HTTPAdapter

# found without importing pystac: its StacIO binds urlopen at import, before the patch below
_PYSTAC = importlib.util.find_spec("pystac")
assert _PYSTAC is not None and _PYSTAC.submodule_search_locations, "pystac is not installed in this venv"
SCHEMAS = Path(next(iter(_PYSTAC.submodule_search_locations))) / "validation" / "jsonschemas"
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
_STAC = re.compile(
    r"^https?://schemas\.stacspec\.org/v1\.1\.0/(item|collection|catalog)-spec/json-schema/([\w-]+)\.json$"
)
_GEOJSON = re.compile(r"^https?://geojson\.org/schema/(\w+)\.json$")


def bundled(url: str) -> bytes | None:
    """The bundled bytes of a schema URL, or None."""
    url = url.split("#", 1)[0]
    if match := _STAC.match(url):
        path = SCHEMAS / "stac-spec" / "v1.1.0" / f"{match.group(2)}.json"
        return path.read_bytes() if path.exists() else None
    if match := _GEOJSON.match(url):
        path = SCHEMAS / "geojson" / f"{match.group(1)}.json"
        return path.read_bytes() if path.exists() else None
    if "json-schema.org/" in url:
        from jsonschema_specifications import REGISTRY

        for key in (url, url.rstrip("/") + "#", url.rstrip("#")):
            try:
                return json.dumps(REGISTRY.contents(key)).encode()
            except Exception:
                continue
    return None


def is_loopback(url: str) -> bool:
    return (urlparse(url).hostname or "") in LOOPBACK


class OfflineAdapter(HTTPAdapter):
    def send(self, request: Any, *args: Any, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        if is_loopback(url):
            return super().send(request, *args, **kwargs)
        body = bundled(url)
        if body is None:
            raise requests.exceptions.ConnectionError(f"offline test run: refusing to fetch {url}")
        response = requests.Response()
        response.status_code = 200
        response._content = body
        response.headers["Content-Type"] = "application/json"
        response.url = url
        response.request = request
        return response


_original_session_init = requests.Session.__init__


def _session_init(self: requests.Session, *args: Any, **kwargs: Any) -> None:
    _original_session_init(self, *args, **kwargs)
    self.mount("http://", OfflineAdapter())
    self.mount("https://", OfflineAdapter())


requests.Session.__init__ = _session_init  # type: ignore[method-assign]
_original_urlopen = urllib.request.urlopen


class _Bundled(io.BytesIO):
    def __init__(self, url: str, body: bytes) -> None:
        super().__init__(body)
        self.url = url
        self.status = 200
        self.headers = Message()
        self.headers["Content-Type"] = "application/json"

    def getcode(self) -> int:
        return 200

    def geturl(self) -> str:
        return self.url

    def info(self) -> Message:
        return self.headers


def _urlopen(url: Any, *args: Any, **kwargs: Any) -> Any:
    target = url.full_url if isinstance(url, urllib.request.Request) else str(url)
    if is_loopback(target):
        return _original_urlopen(url, *args, **kwargs)
    body = bundled(target)
    if body is None:
        raise OSError(f"offline test run: refusing to fetch {target}")
    return _Bundled(target, body)


urllib.request.urlopen = _urlopen  # type: ignore[assignment]

if __name__ == "__main__":
    from stac_api_validator.__main__ import main

    sys.exit(main(args=sys.argv[1:], prog_name="stac-api-validator"))
