"""The web page in a real browser (Chromium), on the local backend and on the gcp emulators, with the
network cut (the ``browse`` fixture fails a test whose page tried to reach another host)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from .conftest import VERSIONS, Browse

AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def test_home_lists_the_catalog_with_its_collection_count(browse: Browse) -> None:
    # GIVEN the seeded catalog WHEN an editor opens /ui/
    page = browse.open()
    # THEN the catalog is listed with 1 collection, and the page found the key's role
    row = page.locator("tr", has=page.get_by_role("link", name=browse.site.catalog, exact=True))
    expect(row.locator(".count")).to_have_text("1")
    expect(page.locator("#whoami")).to_contain_text("editor")
    browse.screenshot("home")


def test_three_clicks_from_catalog_to_file(browse: Browse) -> None:
    # GIVEN the home page WHEN the user clicks catalog, collection, item
    page = browse.open()
    page.get_by_role("link", name=browse.site.catalog, exact=True).click()
    expect(page.locator("tr", has_text="tracks").locator(".count")).to_have_text("1")
    browse.screenshot("catalog")
    page.get_by_role("link", name="tracks", exact=True).click()
    expect(page.locator("tr", has_text="bluefin-12").locator(".count")).to_have_text("3")
    browse.screenshot("collection")
    page.get_by_role("link", name="bluefin-12", exact=True).click()
    # THEN the item's files are listed, each with a marker on the map
    expect(page.get_by_role("link", name="bluefin-track.geojson")).to_be_visible()
    expect(page.locator("path.asset-marker")).to_have_count(3)
    browse.screenshot("item")


def test_search_finds_the_file_and_marks_it_on_the_map(browse: Browse) -> None:
    # GIVEN the search page WHEN the user searches a part of the file name with a bbox around the item
    page = browse.open("#/search")
    page.get_by_label("Search text").fill("bluefin-tr")
    page.get_by_label("Bounding box").fill("9,39,12,42")
    page.get_by_role("button", name="Search", exact=True).click()
    # THEN exactly that file is found and shown as one marker on the map
    results = page.locator("#results a.asset-link")
    expect(results).to_have_count(1)
    expect(results).to_have_text("bluefin-track.geojson")
    expect(page.locator("path.asset-marker")).to_have_count(1)
    browse.screenshot("search")
    # AND a bbox far from the item finds nothing
    page.get_by_label("Bounding box").fill("-80,-10,-70,0")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="asset(s) found")).to_have_text("0 asset(s) found.")


def test_bbox_drawn_on_the_map_fills_the_filter(browse: Browse) -> None:
    # GIVEN the search page WHEN the user clicks "Draw box on map" and two points of the map
    page = browse.open("#/search")
    page.get_by_role("button", name="Draw box on map").click()
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.click(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.7)
    # THEN the bbox field holds west,south,east,north with west < east and south < north
    value = page.get_by_label("Bounding box").input_value()
    west, south, east, north = (float(v) for v in value.split(","))
    assert west < east and south < north


def test_asset_page_shows_metadata_audit_and_downloads(browse: Browse) -> None:
    # GIVEN the geojson asset WHEN its page is opened from a search
    page = browse.open("#/search?q=bluefin-track")
    page.locator("#results a.asset-link").click()
    expect(page.locator("#asset-title")).to_have_text("bluefin-track.geojson")
    # THEN its metadata and its audit trail (the upload) are shown
    expect(page.get_by_role("row", name="file:size")).to_contain_text("42")
    expect(page.locator("table", has_text="Action").get_by_role("cell", name="create")).to_be_visible()
    browse.screenshot("asset")
    # AND Download saves the file's bytes
    with page.expect_download() as info:
        page.get_by_role("button", name="Download").click()
    assert Path(info.value.path()).read_bytes() == b'{"type":"FeatureCollection","features":[]}'


def test_history_panel_compares_two_versions_side_by_side(browse: Browse) -> None:
    # GIVEN two published versions of scene.png WHEN the newest one's page is opened
    site = browse.site
    new = site.assets["new"]
    page = browse.open(f"#/asset/{site.catalog}/tracks/bluefin-12/{new['id']}")
    # THEN the history panel lists both versions, newest first and marked latest
    rows = page.locator("#versions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(VERSIONS[1])
    expect(rows.nth(0)).to_contain_text("latest")
    # WHEN the two are compared
    page.get_by_role("button", name="Compare").click()
    # THEN both images are previewed side by side and the differing fields are highlighted
    expect(page.locator("#compare-result img")).to_have_count(2)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#compare-result img')].every(i => i.complete && i.naturalWidth === 8)"
    )
    expect(page.locator("#compare-result tr.diff", has_text="file:checksum")).to_have_count(1)
    expect(page.locator("#compare-result tr:not(.diff)", has_text="type")).not_to_have_count(0)
    browse.screenshot("compare")


def test_comparing_two_geotiff_versions_shows_both_previews_made_by_an_editor(browse: Browse) -> None:
    # GIVEN two GeoTIFF versions without previews WHEN a reader compares them
    site = browse.site
    new = site.assets["grid-new"]
    fragment = f"#/asset/{site.raster_catalog}/rasters/grid-7/{new['id']}"
    page = browse.open(fragment, role="reader")
    page.get_by_role("button", name="Compare").click()
    # THEN it says there is no preview yet and offers the reader no button to make one
    expect(page.locator("#compare-result .raster-preview")).to_have_count(2)
    expect(page.locator("#compare-result")).to_contain_text("No preview of this raster yet")
    expect(page.get_by_role("button", name="Make preview")).to_have_count(0)

    # WHEN an editor compares them and makes both previews
    page = browse.open(fragment)
    page.get_by_role("button", name="Compare").click()
    for name in ("grid@" + VERSIONS[0] + ".tif", "grid@" + VERSIONS[1] + ".tif"):
        page.get_by_role("button", name=f"Make preview of {name}").click()
    # THEN both versions' previews load side by side (real PNGs rendered by the thumbnail task)
    expect(page.locator("#compare-result .raster-preview img")).to_have_count(2)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#compare-result .raster-preview img')]"
        ".every(i => i.complete && i.naturalWidth === 96 && i.naturalHeight === 64)"
    )
    browse.screenshot("compare-rasters")
    # AND a reader comparing them again sees the stored previews
    page = browse.open(fragment, role="reader")
    page.get_by_role("button", name="Compare").click()
    page.wait_for_function(
        "() => { const imgs = [...document.querySelectorAll('#compare-result .raster-preview img')];"
        " return imgs.length === 2 && imgs.every(i => i.complete && i.naturalWidth > 0); }"
    )


def test_jobs_live_status_and_dismiss(browse: Browse) -> None:
    # GIVEN an accepted checksum job WHEN an editor opens the jobs page and dismisses it
    job = browse.site.assets["job"]
    page = browse.open("#/jobs")
    row = page.locator(f"tr[data-job='{job['id']}']")
    expect(row.locator(".job-status")).to_have_text("accepted")
    browse.screenshot("jobs")
    # AND the 2-second refresh keeps the row's button the same node (a click never lands on a removed
    # one): polls run one at a time, so when the second answer arrives the first one was drawn
    button = row.get_by_role("button", name="Dismiss")
    button.evaluate("b => { b.dataset.seen = 'before-refresh'; }")
    for _ in range(2):
        with page.expect_response(lambda r: "/assets/jobs?limit=" in r.url):
            pass
    expect(button).to_have_attribute("data-seen", "before-refresh")
    button.click()
    # THEN the table (refreshed from the server) shows it dismissed, with no dismiss button left
    expect(row.locator(".job-status")).to_have_text("dismissed")
    expect(row.get_by_role("button", name="Dismiss")).to_have_count(0)
    assert browse.site.api.reader.get(f"/assets/jobs/{job['id']}").json()["status"] == "dismissed"


def test_a_reader_sees_no_write_buttons(browse: Browse) -> None:
    # GIVEN a running-or-accepted job and an asset WHEN a reader opens the jobs and asset pages
    site = browse.site
    response = site.api.editor.post(
        f"/assets/catalogs/{site.catalog}/collections/tracks/items/bluefin-12/assets/{site.assets['old']['id']}"
        "/tasks/checksum/execute",
        json={},
    )
    assert response.status_code == 201, response.text
    listed = site.api.reader.get("/assets/jobs", params={"limit": 50}).json()["jobs"]
    assert response.json()["id"] in [j["id"] for j in listed], (response.json(), listed)
    page = browse.open("#/jobs", role="reader")
    expect(page.locator(f"tr[data-job='{response.json()['id']}'] .job-status")).to_have_text("accepted")
    # THEN there is no dismiss button and no task button
    expect(page.get_by_role("button", name="Dismiss")).to_have_count(0)
    page.evaluate("h => { location.hash = h; }", f"#/asset/{site.catalog}/tracks/bluefin-12/{site.assets['old']['id']}")
    expect(page.locator("#asset-title")).to_be_visible()
    expect(page.get_by_role("button", name="Run checksum task")).to_have_count(0)
    expect(page.get_by_role("button", name="Download")).to_be_visible()


def test_ingest_panel_lists_the_catalogs_failures_first(browse: Browse) -> None:
    # GIVEN a file dropped in the bucket whose sidecar is not JSON (it has no asset to find it by)
    # WHEN the user opens the ingest page and chooses the catalog, typing no key
    page = browse.open("#/ingest")
    page.get_by_label("Catalog").select_option(browse.site.catalog)
    # THEN the failed sidecar is the first row, marked failed with the indexer's error
    first = page.locator("#ingest-records tbody tr").first
    expect(first).to_contain_text(browse.site.failed_key)
    expect(first).to_contain_text("not valid JSON")
    expect(first).to_have_class("failed")
    # AND the file it describes, indexed without it, follows with a link to its asset
    data_key = browse.site.failed_key.removesuffix(".meta.json")
    indexed = page.locator("#ingest-records tbody tr", has=page.get_by_role("cell", name=data_key, exact=True))
    expect(indexed).to_contain_text("indexed")
    expect(indexed.get_by_role("link", name="asset")).to_be_visible()
    browse.screenshot("ingest")
    # AND a key typed in the lookup shows that key's status
    page.get_by_label("Object key").fill(browse.site.failed_key)
    page.get_by_role("button", name="Check key").click()
    expect(page.locator("#ingest-lookup")).to_contain_text("failed")


def test_every_input_has_a_label_and_no_axe_violations(browse: Browse) -> None:
    # GIVEN the search and asset pages WHEN axe-core checks them (WCAG 2 A/AA rules but colour contrast)
    site = browse.site
    for fragment in ("#/search?q=scene", f"#/asset/{site.catalog}/tracks/bluefin-12/{site.assets['new']['id']}"):
        page = browse.open(fragment)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']},"
            " rules: {'color-contrast': {enabled: false}}})"
        )
        # THEN nothing is violated, and every input and select has a label
        assert result["violations"] == [], [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
        unlabelled = page.evaluate(
            "() => [...document.querySelectorAll('input, select')].filter(e => !e.labels || !e.labels.length)"
            ".map(e => e.id || e.name)"
        )
        assert unlabelled == []


def test_keyboard_reaches_search_and_opens_a_result(browse: Browse) -> None:
    # GIVEN the search page WHEN the user only uses Tab and Enter
    page = browse.open("#/search")
    page.evaluate("() => document.activeElement.blur()")
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("() => document.activeElement.id || document.activeElement.textContent"))
        if seen[-1] == "f-q":
            break
    # THEN Tab reaches the search box, Enter searches, Tab reaches the result and Enter opens it
    assert seen[-1] == "f-q", seen
    page.keyboard.type("bluefin-track")
    page.keyboard.press("Enter")
    expect(page.locator("#results a.asset-link")).to_have_count(1)
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.classList.contains('asset-link')"):
            break
    page.keyboard.press("Enter")
    expect(page.locator("#asset-title")).to_have_text("bluefin-track.geojson")


def test_api_docs_pages_render_offline(browse: Browse) -> None:
    # GIVEN the network cut WHEN the Swagger UI and ReDoc pages are opened
    page = browse.page
    page.goto(f"{browse.site.api.base_url}/api.html")
    # THEN each renders the API's operations from the vendored scripts
    expect(page.get_by_text("/assets/search").first).to_be_visible()
    browse.screenshot("api-swagger", full_page=False)
    # ReDoc: the vendored bundle (1 MB) ran, fetched the API document from this server and rendered it.
    # Parsing the bundle and the document takes long on a loaded machine: the fixture's default timeout
    # bounds it; a missing or broken bundle still fails at the first assertion (no `Redoc` global).
    with page.expect_response(lambda r: r.url == f"{browse.site.api.base_url}/api" and r.ok):
        page.goto(f"{browse.site.api.base_url}/api/redoc.html")
    page.wait_for_function("() => typeof window.Redoc === 'object'")
    expect(page.locator("h1", has_text="Dynastore Assets")).to_be_visible()
    expect(page.locator("[role=menuitem]", has_text="Search assets").first).to_be_attached()
    browse.screenshot("api-redoc", full_page=False)


# Holds the body of the home page's first answer until window.__release() is called, and records every
# request the page makes after that (window.__after).
HOLD_HOME_ANSWER = """() => {
  const text = Response.prototype.text, fetch = window.fetch;
  window.__held = []; window.__after = null;
  Response.prototype.text = function () {
    if (!this.url.includes('/assets/catalogs?limit=')) return text.call(this);
    return new Promise((resolve) => window.__held.push(() => {
      const body = text.call(this); resolve(body); return body;
    }));
  };
  window.fetch = function (url, options) {
    if (window.__after) window.__after.push(String(url));
    return fetch.call(this, url, options);
  };
  window.__release = async () => {
    window.__after = [];
    await Promise.all(window.__held.map((go) => go()));
    await new Promise((resolve) => setTimeout(resolve, 0));
    return window.__after;
  };
}"""


def test_a_page_left_while_loading_never_replaces_the_next_one(browse: Browse) -> None:
    # GIVEN the home page whose list of catalogs is still arriving (its body held back)
    page = browse.open("#/search")
    page.evaluate(HOLD_HOME_ANSWER)
    page.evaluate("() => { location.hash = '#/'; }")
    page.wait_for_function("() => window.__held.length === 1")
    # WHEN the user goes to the search page and searches before the home page has its answer
    page.get_by_role("link", name="Search", exact=True).click()
    expect(page.locator("#view")).to_have_attribute("data-shown", "#/search")
    page.get_by_label("Search text").fill("bluefin-track")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#results a.asset-link")).to_have_text("bluefin-track.geojson")
    # AND the home page's answer arrives late
    asked_after = page.evaluate("() => window.__release()")
    # THEN the abandoned home page stops there (asks nothing more) and the search results stay shown
    assert asked_after == [], asked_after
    expect(page.get_by_role("heading", name="Search assets")).to_be_visible()
    expect(page.locator("#results a.asset-link")).to_have_text("bluefin-track.geojson")
