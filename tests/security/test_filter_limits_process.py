"""Filters that used to kill the process (segfault in the CQL2 parser) or stall it (LIKE backtracking).

The server runs as a real subprocess (``dynastore dev``), so a crash or a stalled interpreter fails
these tests rather than taking pytest down with it. ``/health`` must keep answering within 1 s
while an attack runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.devserver import dev_server
from support.stac_docs import collection_doc, item_doc

PATHS = ("/assets/search", "/stac/search", "/stac/catalogs/{c}/asset-search")
DEEP_PARENS = "(" * 2000 + "id = 'a'" + ")" * 2000
MANY_NOTS = "NOT " * 10_000 + "id = 'a'"
LONG = "a" * 3000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Any]]:
    """A dev server with catalog ``long``: 5 assets and 5 items whose titles are 3,000 ``a``s."""
    data_dir: Path = tmp_path_factory.mktemp("process") / "data"
    with dev_server(data_dir, DYNASTORE_WATCH_BUCKET="false") as (client, process):
        assert client.post("/assets/catalogs", json={"id": "long", "title": "long"}).status_code == 201
        response = client.post("/stac/catalogs/long/collections", json=collection_doc("c", description="c"))
        assert response.status_code == 201, response.text
        for i in range(5):
            properties = {"datetime": "2024-01-01T00:00:00Z", "title": LONG}
            item = item_doc(f"item-{i}", "c", (0, 0, 0, 0), properties=properties)
            response = client.post("/stac/catalogs/long/collections/c/items", json=item)
            assert response.status_code == 201, response.text
        assets = [{"id": f"a{i}", "href": f"https://x.org/a{i}.tif", "title": LONG} for i in range(5)]
        response = client.post("/assets/bulk", json={"catalog_id": "long", "assets": assets})
        assert response.json()["created"] == 5, response.text
        yield client, process


def _problem(response: httpx.Response, *words: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"].lower()
    for word in words:
        assert word.lower() in detail, detail


def _alive(client: httpx.Client, process: Any) -> None:
    assert process.poll() is None, f"the server died with exit code {process.returncode}"
    assert client.get("/health").status_code == 200


def _send(process: Any, request: Callable[[], httpx.Response]) -> httpx.Response:
    try:
        return request()
    except httpx.TransportError as exc:
        raise AssertionError(f"the server crashed: {exc}; exit code {process.poll()}") from exc


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("text", [DEEP_PARENS, MANY_NOTS], ids=["2000-parentheses", "10000-nots"])
def test_deeply_nested_cql2_text_is_refused_without_crashing(
    server: tuple[httpx.Client, Any], path: str, text: str
) -> None:
    client, process = server
    # GIVEN a CQL2 text filter nested thousands of levels deep
    # WHEN it is searched with GET and with POST
    got = _send(process, lambda: client.get(path.format(c="long"), params={"filter": text}))
    posted = _send(process, lambda: client.post(path.format(c="long"), json={"filter": text}))
    # THEN both answer 400 naming the nesting limit, and the server is still up
    _problem(got, "nesting depth", "limit")
    _problem(posted, "nesting depth", "limit")
    _alive(client, process)


@pytest.mark.parametrize("path", PATHS)
def test_deeply_nested_cql2_json_is_refused_without_crashing(server: tuple[httpx.Client, Any], path: str) -> None:
    client, process = server
    # GIVEN a CQL2 JSON filter of 500 nested NOTs (1,000 JSON levels, just under orjson's own limit)
    text = '{"op":"not","args":[' * 500 + '{"op":"=","args":[{"property":"id"},"a"]}' + "]}" * 500
    # WHEN it is sent as a GET parameter
    got = _send(process, lambda: client.get(path.format(c="long"), params={"filter": text}))
    # THEN it answers 400 naming the nesting limit
    _problem(got, "nesting depth", "limit")
    _alive(client, process)


def test_overlong_cql2_text_is_refused(server: tuple[httpx.Client, Any]) -> None:
    client, process = server
    # GIVEN a CQL2 text filter longer than the length limit
    text = "id = 'a' OR " * 20_000 + "id = 'b'"
    # WHEN it is posted to the asset search
    response = _send(process, lambda: client.post("/assets/search", json={"filter": text}))
    # THEN the answer names the length limit
    _problem(response, "characters", "limit")
    _alive(client, process)


def while_attacking(client: httpx.Client, attack: Callable[[], httpx.Response]) -> tuple[list[float], Any]:
    """Run ``attack`` in a thread; meanwhile time ``GET /health``. Returns (health times, attack answer)."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["response"] = attack()
        except httpx.HTTPError as exc:  # reported by the caller
            result["response"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    times: list[float] = []
    time.sleep(0.1)
    while thread.is_alive() or len(times) < 3:
        start = time.monotonic()
        try:
            assert client.get("/health", timeout=5).status_code == 200
            times.append(time.monotonic() - start)
        except httpx.TimeoutException:
            times.append(5.0)
        if times[-1] > 1.0:
            return times, None  # the server is stalled: fail now rather than wait for the attack
        time.sleep(0.05)
    thread.join()
    return times, result.get("response")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("pattern", ["%a%a%a%a%b", "%a%a%a%b", "%a_a%a_a%_%b"])
def test_like_backtracking_does_not_block_the_server(server: tuple[httpx.Client, Any], path: str, pattern: str) -> None:
    client, _ = server
    # GIVEN assets and items with 3,000-character titles
    # WHEN a LIKE pattern that backtracks catastrophically in a regex engine is searched
    times, response = while_attacking(
        client, lambda: client.get(path.format(c="long"), params={"filter": f"title LIKE '{pattern}'"}, timeout=60)
    )
    # THEN /health answers within 1 s throughout, and the search answers (nothing matches)
    assert max(times) < 1.0, times
    assert isinstance(response, httpx.Response), response
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("assets", body.get("features")) == []


@pytest.mark.parametrize("path", PATHS)
def test_like_still_finds_matches_on_long_values(server: tuple[httpx.Client, Any], path: str) -> None:
    client, _ = server
    # GIVEN 3,000-character titles; WHEN a multi-% pattern that does match is searched
    response = client.get(path.format(c="long"), params={"filter": "title LIKE '%a%a_a%a'", "limit": 100})
    # THEN every asset (or item) is found
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body.get("assets", body.get("features"))) == 5
