"""Browser tests of the web page: Debian's Chromium driven by Playwright, against the real app on the
local backend and on the gcp emulators (one server per backend per module, seeded once).

Chromium comes from the Debian package (``infra/setup.sh`` installs it; ``playwright install`` is never
used). Every page runs with the network cut: a request to any host but 127.0.0.1/localhost is
aborted and recorded, and the test fails if one was attempted. Screenshots go to
``test-artifacts/ui/`` (gitignored).
"""

from __future__ import annotations

import os
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from support.backends import BACKENDS
from support.live_api import KEYS, LiveApi, start_live_api
from support.stac_docs import collection_doc, item_doc
from tasks.files import write_geotiff

CHROMIUM = os.environ.get("DYNASTORE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
VERSIONS = ("2025-08-11T1112Z", "2025-08-12T0900Z")
# One default for every action, wait and ``expect`` (Playwright's own: 30 s actions, 5 s expect). The
# gcp stack (Java emulators) on a loaded 2-core machine answers a page's dozen requests in tens of
# seconds, so it gets 60 s; these only bound how long a failing test waits, they never pass one.
TIMEOUT_MS = {"local": 30_000, "gcp": 60_000}


def png(red: int, green: int, blue: int, size: int = 8) -> bytes:
    """A ``size`` by ``size`` PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = size.to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    rows = b"".join(b"\x00" + bytes([red, green, blue]) * size for _ in range(size))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@dataclass
class Site:
    """A served app with one seeded catalog: collection ``tracks``, item ``bluefin-12`` at lon 10..11,
    lat 40..41, two versions of ``scene@<stamp>.png`` and a file ``bluefin-track.geojson``, one
    accepted job and a file whose sidecar failed to index (``failed_key``, the sidecar's key).
    A second catalog (``raster_catalog``) holds two GeoTIFF versions ``grid@<stamp>.tif`` (no previews
    yet) in item ``rasters/grid-7``."""

    api: LiveApi
    backend: str
    catalog: str = ""
    assets: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed_key: str = ""
    raster_catalog: str = ""

    @property
    def ui(self) -> str:
        return f"{self.api.base_url}/ui/"


def _seed(api: LiveApi, backend: str) -> Site:
    site = Site(api, backend, catalog=api.new_catalog("ui"))
    stac = api.services.stac
    assert stac is not None
    stac.create_collection(site.catalog, collection_doc("tracks", start="2024-01-01T00:00:00Z"), actor="test")
    item = item_doc("bluefin-12", "tracks", (10.0, 40.0, 11.0, 41.0), datetime="2024-01-01T10:00:00Z")
    stac.create_item(site.catalog, "tracks", item, actor="test")
    base = f"/assets/catalogs/{site.catalog}/collections/tracks/items/bluefin-12/assets/upload"
    files = {
        "old": (f"scene@{VERSIONS[0]}.png", png(200, 30, 30), "image/png"),
        "new": (f"scene@{VERSIONS[1]}.png", png(30, 30, 200), "image/png"),
        "track": ("bluefin-track.geojson", b'{"type":"FeatureCollection","features":[]}', "application/geo+json"),
    }
    for name, upload in files.items():
        response = api.editor.post(base, files={"file": upload})
        assert response.status_code == 201, response.text
        site.assets[name] = response.json()
    job = api.editor.post(
        f"/assets/catalogs/{site.catalog}/collections/tracks/items/bluefin-12/assets/{site.assets['track']['id']}"
        "/tasks/checksum/execute",
        json={},
    )
    assert job.status_code == 201, job.text
    site.assets["job"] = job.json()
    # A file dropped in the bucket with a sidecar that is not JSON: indexing records the sidecar as failed.
    data_key = f"{site.catalog}/stations.csv"
    site.failed_key = f"{data_key}.meta.json"
    api.services.adapters.blobs.put(data_key, b"id,lon,lat\n1,10.5,40.5\n", content_type="text/csv")
    api.services.adapters.blobs.put(site.failed_key, b"{not json", content_type="application/json")
    outcomes = api.services.indexing.index_keys([data_key, site.failed_key], listed=True)
    assert [o.status for o in outcomes if o.key == site.failed_key] == ["failed"], outcomes
    _seed_rasters(api, site)
    return site


def _seed_rasters(api: LiveApi, site: Site) -> None:
    """Two GeoTIFF versions of ``grid`` in their own catalog (the counts of the first catalog stay as they are)."""
    site.raster_catalog = api.new_catalog("ui-rasters")
    stac = api.services.stac
    assert stac is not None
    stac.create_collection(site.raster_catalog, collection_doc("rasters", start="2024-01-01T00:00:00Z"), actor="test")
    item = item_doc("grid-7", "rasters", (10.0, 40.0, 11.0, 41.0), datetime="2024-01-01T10:00:00Z")
    stac.create_item(site.raster_catalog, "rasters", item, actor="test")
    base = f"/assets/catalogs/{site.raster_catalog}/collections/rasters/items/grid-7/assets/upload"
    with tempfile.TemporaryDirectory() as folder:
        for label, stamp, count in (("grid-old", VERSIONS[0], 1), ("grid-new", VERSIONS[1], 3)):
            path = write_geotiff(Path(folder) / f"grid@{stamp}.tif", width=96, height=64, count=count, dtype="uint8")
            response = api.editor.post(base, files={"file": (path.name, path.read_bytes(), "image/tiff")})
            assert response.status_code == 201, response.text
            site.assets[label] = response.json()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; a clear failure (never a skip) when it is missing."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: run `bash infra/setup.sh` (it runs `apt-get install -y chromium`) "
            "or set DYNASTORE_CHROMIUM to a Chromium binary. Never `playwright install`."
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    backend = request.param
    for api in start_live_api(LiveApi, serve, tmp_path_factory.mktemp(f"ui-{backend}"), backend=backend):
        yield _seed(api, backend)


@dataclass
class Browse:
    """One browser page on the site, with the network cut; ``external`` lists what was refused."""

    page: Any
    site: Site
    external: list[str]

    def open(self, fragment: str = "#/", role: str = "editor") -> Any:
        """Load ``/ui/<fragment>`` with the key of ``role`` entered once (sessionStorage)."""
        page = self.page
        page.goto(self.site.ui)
        expect(page.locator("#whoami")).not_to_be_empty()
        page.get_by_label("API key").fill(KEYS[role])
        page.get_by_role("button", name="Use key").click()
        expect(page.locator("#whoami")).to_contain_text(f": {role}")
        # The page marks the view with the hash it finished showing (only the newest route does).
        hash_now = page.evaluate("fragment => { location.hash = fragment; return location.hash; }", fragment)
        expect(page.locator("#view")).to_have_attribute("data-shown", hash_now or "")
        return page

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.site.backend}-{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def browse(browser: Any, site: Site) -> Iterator[Browse]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS[site.backend])
    expect.set_options(timeout=TIMEOUT_MS[site.backend])
    external: list[str] = []

    def cut(route: Any) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("http:", "https:", "ws:", "wss:")) and host not in LOCAL_HOSTS:
            external.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", cut)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield Browse(page, site, external)
    finally:
        context.close()
    assert not external, f"the page tried to reach other hosts (network cut): {external}"
    assert not errors, f"JavaScript errors on the page: {errors}"
