"""gzip for large JSON pages, when the client accepts it (``Accept-Encoding``).

Only where it is asked for (asset pages: up to 10,000 records, 2-3 MB that gzip to ~4 %), not as an
app-wide middleware: downloads and ranged reads must keep their bytes and ``Content-Length``. Level 1:
a 2.6 MB page takes ~4 ms of CPU and comes within ~3 % of level 6's size (``scripts/bench/lean_page.py``).
"""

from __future__ import annotations

import gzip

from starlette.requests import Request

from dynastore.api.deps import JSONResponse

GZIP_MIN_BYTES = 1024  # below this the gzip header and the CPU cost more than they save
GZIP_LEVEL = 1


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Does ``Accept-Encoding`` allow gzip: ``gzip`` (else ``*``) with a q-value above 0?"""
    weights: dict[str, float] = {}
    for part in (accept_encoding or "").split(","):
        coding, _, params = part.partition(";")
        q = params.strip().lower()
        try:
            weight = float(q[2:]) if q.startswith("q=") else 1.0
        except ValueError:
            weight = 0.0
        weights[coding.strip().lower()] = weight
    return weights.get("gzip", weights.get("*", 0.0)) > 0


def json_page_response(request: Request, body: bytes) -> JSONResponse:
    """A JSON page, gzipped when it is large and the client accepts gzip (``Vary: Accept-Encoding``
    either way, so caches keep the two apart)."""
    headers = {"Vary": "Accept-Encoding"}
    if len(body) >= GZIP_MIN_BYTES and accepts_gzip(request.headers.get("accept-encoding")):
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
    return JSONResponse(body, headers=headers)
