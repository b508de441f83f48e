"""What a cold process builds before its first answers: route modules on first use, no schema
compilation, no cloud SDK (behaviour only; the times are in scripts/bench/coldstart.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from dynastore.api.app import create_app
from dynastore.api.lazy_routes import install_lazy_routers
from dynastore.bootstrap import bootstrap
from dynastore.config import Settings

PROBE = r"""
import json, sys
from fastapi.testclient import TestClient
from dynastore.api.app import create_app
from dynastore.bootstrap import bootstrap
from dynastore.config import Settings
from dynastore.services.stac import validation

app = create_app(bootstrap(Settings(backend="local", data_dir=sys.argv[1], api_keys="k:admin")))
loaded = {}
with TestClient(app) as client:
    for path in ("/health", "/stac"):
        status = client.get(path, headers={"Authorization": "Bearer k"}).status_code
        loaded[path] = {
            "status": status,
            "routes": sorted(m.rsplit(".", 1)[1] for m in sys.modules if m.startswith("dynastore.api.routes.")),
            "validators": sorted(validation._VALIDATORS),
            "sdks": sorted(m for m in ("jsonschema", "google.cloud.storage", "google.cloud.firestore", "boto3")
                           if m in sys.modules),
        }
print(json.dumps(loaded))
"""


def test_a_fresh_process_answers_health_and_stac_without_the_other_routes_schemas_or_sdks(tmp_path: Path) -> None:
    # GIVEN a fresh interpreter on the local backend  WHEN it builds the app and answers GET /health, then /stac
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    # THEN /health needed only its own route module, /stac only the STAC ones (plus what they share)
    assert loaded["/health"] == {"status": 200, "routes": ["health"], "validators": [], "sdks": []}
    assert loaded["/stac"]["status"] == 200
    assert set(loaded["/stac"]["routes"]) - {"_stac_common"} == {
        "health",
        "stac",
        "stac_collections",
        "stac_items",
        "stac_publish",
        "stac_search",
    }
    # AND no STAC schema was compiled, no cloud SDK or jsonschema imported
    assert loaded["/stac"]["validators"] == []
    assert loaded["/stac"]["sdks"] == []


def test_every_route_answers_after_a_lazy_start_and_the_document_lists_them_all(tmp_path: Path) -> None:
    # GIVEN an app that has answered only /health
    services = bootstrap(Settings(backend="local", data_dir=tmp_path, api_keys="k:admin"))
    app = create_app(services)
    headers = {"Authorization": "Bearer k"}
    try:
        with TestClient(app) as client:
            assert client.get("/health", headers=headers).status_code == 200
            # WHEN an /assets route, an unknown path and the API document are asked for
            created = client.post("/assets/catalogs", json={"id": "lazy", "title": "Lazy"}, headers=headers)
            missing = client.get("/nothing-here", headers=headers)
            paths = client.get("/api", headers=headers).json()["paths"]
            # THEN they answer as with every router included from the start
            assert created.status_code == 201, created.text
            assert missing.status_code == 404
            assert {"/health", "/stac", "/assets/catalogs", "/assets/search", "/stac/search"} <= set(paths)
        # AND a fresh app's openapi() (no request yet) lists every route too
        assert "/assets/search" in create_app(services).openapi()["paths"]
    finally:
        services.close()


def test_a_group_module_serving_a_path_outside_its_prefix_loads_everything_first() -> None:
    # GIVEN a stac* module with a route outside /stac
    stray, other = APIRouter(), APIRouter()
    stray.add_api_route("/assets/stray", lambda: {"ok": True})
    other.add_api_route("/assets/other", lambda: {"ok": True})
    modules = {"stac_stray": stray, "tasks": other}
    app = FastAPI()
    loader = install_lazy_routers(app, lambda wanted: [(n, r) for n, r in modules.items() if wanted(n)])
    with TestClient(app) as client:
        # WHEN a /stac request arrives first
        assert client.get("/stac").status_code == 404
        # THEN every module is included, so no route is missed
        assert loader.everything and loader.loaded == {"stac_stray", "tasks"}
        assert client.get("/assets/stray").json() == {"ok": True}
