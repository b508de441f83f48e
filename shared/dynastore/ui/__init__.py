"""The web page for people (``/ui/``) and the offline API docs pages: static files shipped in the package.

``STATIC_DIR`` holds ``index.html``, the page's scripts and styles and ``vendor/`` (Leaflet, Swagger UI,
ReDoc, copied from their npm packages; versions and licenses in ``vendor/README.md``). Nothing is
loaded from another host, so the page and the docs work with the network cut. The HTML of the docs
pages is built here (no FastAPI), the routes live in ``dynastore.api.routes.ui`` and ``api.openapi``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent
UI_PREFIX = "/ui"


def swagger_html(openapi_url: str, title: str, root: str = "") -> str:
    """Swagger UI over ``openapi_url`` from the vendored bundle (no validator badge: it calls a remote host)."""
    vendor = f"{root}{UI_PREFIX}/vendor/swagger-ui"
    config = json.dumps({"url": openapi_url, "dom_id": "#swagger-ui", "validatorUrl": None, "deepLinking": True})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{vendor}/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{vendor}/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle(Object.assign({config}, {{presets: [SwaggerUIBundle.presets.apis]}}));</script>
</body></html>"""


def redoc_html(openapi_url: str, title: str, root: str = "") -> str:
    """ReDoc over ``openapi_url`` from the vendored standalone bundle, with the system fonts."""
    vendor = f"{root}{UI_PREFIX}/vendor/redoc"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>body {{ margin: 0; }}</style></head>
<body><redoc spec-url="{html.escape(openapi_url)}" hide-download-button="false"></redoc>
<script src="{vendor}/redoc.standalone.js"></script></body></html>"""
