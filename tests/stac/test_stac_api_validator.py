"""stac-api-validator (PyPI), unmodified, against a catalog root served by uvicorn.

It runs in its own venv (``.infra-venvs/stac-validator``, created here on first use) because its
pins conflict with ours, through ``data/run_stac_api_validator.py``, which answers its schema
fetches from pystac's bundled copies (no internet in tests). It can print "Failed." and still
exit 0, so the test reads its output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .helpers import StacApi, item, start_stac_api

VALIDATOR_VERSION = "0.6.8"
REPO = Path(__file__).resolve().parents[2]
VENV = REPO / ".infra-venvs" / "stac-validator"
WRAPPER = Path(__file__).parent / "data" / "run_stac_api_validator.py"
CONFORMANCE = (
    "core", "collections", "features", "item-search", "filter",
    "item-search#sort", "item-search#fields", "item-search#query",
    "features#sort", "features#fields", "features#query",
)
# Not "transaction": the validator insists on 204 answers and on reading back datetimes byte for byte,
# while we answer 200 with the stored item and store datetimes in one normalized form (text order is
# time order in every backend). tests/stac/test_stac_api.py covers the Transaction extension.


def validator_python() -> Path:
    """The venv's python, with stac-api-validator installed (created once; reused after)."""
    python = VENV / "bin" / "python"
    marker = VENV / f".stac-api-validator-{VALIDATOR_VERSION}"
    if marker.exists() and python.exists():
        return python
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(VENV)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"stac-api-validator=={VALIDATOR_VERSION}",
        ],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.fail(
                f"could not install stac-api-validator into {VENV} ({' '.join(step)} exited {done.returncode}).\n"
                f"It needs PyPI access once; install it by hand with:\n  {sys.executable} -m venv {VENV} && "
                f"{python} -m pip install stac-api-validator=={VALIDATOR_VERSION}\n"
                f"--- output ---\n{(done.stdout + done.stderr)[-3000:]}"
            )
    marker.touch()
    return python


@pytest.fixture(scope="module")
def public_api(serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StacApi]:
    yield from start_stac_api(serve, tmp_path_factory.mktemp("validator"), public_read=True)


@pytest.fixture(scope="module")
def catalog(public_api: StacApi) -> str:
    catalog_id = public_api.new_catalog("validated")
    public_api.new_collection(catalog_id, "s2")
    public_api.new_collection(catalog_id, "l8")
    # the validator opens asset hrefs: they point at this server (no network here)
    landing = f"{public_api.base_url}/stac/catalogs/{catalog_id}"
    features = [
        item(
            f"s2-{i:03d}",
            west=-10 + i * 0.5,
            south=40 + (i % 5),
            datetime=f"2024-01-{1 + i % 28:02d}T10:00:00Z",
            assets={
                f"s2-{i:03d}-meta": {
                    "href": landing, "type": "application/json", "roles": ["metadata"], "title": "Landing page"
                }
            },
            cloud_cover=1 + i % 9,
            platform="sentinel-2a" if i % 2 else "sentinel-2b",
            instruments=["msi"] if i % 3 else ["msi", "oli"],
        )
        for i in range(30)
    ]
    public_api.post_items(catalog_id, "s2", features)
    public_api.post_items(catalog_id, "l8", [item("l8-000", west=0, south=0, datetime="2023-06-01T00:00:00Z")])
    return catalog_id


def test_stac_api_validator_reports_no_errors(public_api: StacApi, catalog: str) -> None:
    python = validator_python()
    geometry = {"type": "Polygon", "coordinates": [[[-12, 38], [12, 38], [12, 48], [-12, 48], [-12, 38]]]}
    args = [
        str(python),
        str(WRAPPER),
        "--root-url",
        f"{public_api.base_url}/stac/catalogs/{catalog}",
        "--collection",
        "s2",
        "--geometry",
        json.dumps(geometry),
        "--log-level",
        "ERROR",
    ]
    for conformance in CONFORMANCE:
        args += ["--conformance", conformance]
    args += [
        "--fields-nested-property", "properties.eo:cloud_cover",
        "--query-comparison-field", "eo:cloud_cover",
        "--query-eq-value", "5", "--query-neq-value", "5",
        "--query-lt-value", "5", "--query-lte-value", "5", "--query-gt-value", "5", "--query-gte-value", "5",
        "--query-substring-field", "platform",
        "--query-starts-with-value", "sentinel", "--query-ends-with-value", "2a", "--query-contains-value", "nel-2",
        "--query-in-field", "instruments", "--query-in-values", "oli,tirs",
    ]
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"))
    }
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, env=env)
    output = done.stdout + done.stderr
    assert "Failed." not in output, output[-6000:]
    assert "Errors: none" in output, output[-6000:]
    assert done.returncode == 0, output[-6000:]
