"""Publishing versions over HTTP (seed 004 §12, VERSIONS.md): multipart and JSON publishes, ``@latest``
in the asset API and the STAC asset route, history paging, search, and the failure answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from .helpers import StacApi, assert_problem, item


class HourlyClock:
    """The server clock of the publish service: one hour later at every publish."""

    def __init__(self) -> None:
        self.at = datetime(2025, 8, 11, 11, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.at += timedelta(hours=1)
        return self.at


@pytest.fixture
def track(stac_api: StacApi) -> Iterator[str]:
    """A fresh item with an hourly publish clock; yields its STAC path."""
    catalog = stac_api.new_catalog()
    stac_api.new_collection(catalog, "tracks")
    stac_api.post_items(catalog, "tracks", [item("Bluefin-12")])
    stac_api.services.publish.clock = HourlyClock()
    yield f"/stac/catalogs/{catalog}/collections/tracks/items/Bluefin-12"


def _publish(api: StacApi, path: str, *files: tuple[str, bytes], metadata: Any = None, client: Any = None) -> Any:
    parts: list[tuple[str, Any]] = [("file", (name, data, "application/octet-stream")) for name, data in files]
    if metadata is not None:
        parts.append(("metadata", (None, orjson.dumps(metadata), "application/json")))
    return (client or api.editor).post(f"{path}/publish", files=parts)


def _assets_api(path: str) -> str:
    return path.replace("/stac/", "/assets/", 1) + "/assets"


def test_publish_twice_then_latest_everywhere(stac_api: StacApi, track: str) -> None:
    # GIVEN a track with its thumbnail published, then a new track
    meta = {"sys:state": "draft", "files": {"track.geojson": {"roles": ["data", "track"]}}}
    first = _publish(stac_api, track, ("track.geojson", b'{"v":1}'), ("thumbnail.png", b"png-1"), metadata=meta)
    assert first.status_code == 201, first.text
    assert first.json()["prov:bundle"].endswith("Bluefin-12@2025-08-11T1212Z")
    second = _publish(stac_api, track, ("track.geojson", b'{"v":2}'))
    assert second.status_code == 201, second.text
    body = second.json()
    assert body["written"] == ["track@2025-08-11T1312Z.geojson"]
    assert second.headers["Location"].endswith(body["versions"][0]["links"][0]["href"].split("/assets/", 1)[1])
    # WHEN a client asks for track@latest in the asset API and downloads it
    latest = stac_api.reader.get(f"{_assets_api(track)}/track@latest")
    assert latest.status_code == 200, latest.text
    assert latest.json()["version"] == "2025-08-11T13:12Z" and latest.json()["latest"] is True
    download = stac_api.reader.get(f"{_assets_api(track)}/track@latest.geojson/download")
    assert download.status_code == 200 and download.content == b'{"v":2}'
    # AND through the STAC item asset route, by alias and by file name
    stac_asset = stac_api.reader.get(f"{track}/assets/track@latest").json()
    assert stac_asset["version"] == "2025-08-11T13:12Z" and stac_asset["roles"] == ["data", "track"]
    older = stac_api.reader.get(f"{track}/assets/track@2025-08-11T1212Z.geojson").json()
    assert older["version"] == "2025-08-11T12:12Z" and "latest" not in older
    # THEN the item lists both versions by file name, mirrors the publish, and search finds it once
    doc = stac_api.reader.get(track).json()
    assert doc["assets"]["track@2025-08-11T1312Z.geojson"]["latest"] is True
    assert "latest" not in doc["assets"]["track@2025-08-11T1212Z.geojson"]
    assert doc["properties"]["prov:bundle"] == body["prov:bundle"]
    assert doc["properties"]["sys:state"] == "published"  # the second publish said nothing: the default
    catalog = track.split("/")[3]
    found = stac_api.reader.get(f"/stac/catalogs/{catalog}/search", params={"ids": "Bluefin-12"}).json()
    assert [f["id"] for f in found["features"]] == ["Bluefin-12"]
    # AND asset search can ask for the latest versions only
    latest_only = stac_api.reader.get(
        "/assets/search", params={"catalog_id": catalog, "query": orjson.dumps({"latest": True}).decode()}
    )
    assert latest_only.status_code == 200, latest_only.text
    names = sorted(a["storage"]["key"].rsplit("/", 1)[1] for a in latest_only.json()["assets"])
    assert names == ["thumbnail@2025-08-11T1212Z.png", "track@2025-08-11T1312Z.geojson"]


def test_same_bytes_answer_200_and_history_pages_newest_first(stac_api: StacApi, track: str) -> None:
    for n in range(3):
        assert _publish(stac_api, track, ("track.geojson", f"v{n}".encode())).status_code == 201
    again = _publish(stac_api, track, ("track.geojson", b"v2"))
    assert again.status_code == 200 and again.json()["written"] == [] and again.json()["created"] is False
    page = stac_api.reader.get(f"{track}/versions", params={"name": "track", "limit": 2}).json()
    assert [v["version"] for v in page["versions"]] == ["2025-08-11T14:12Z", "2025-08-11T13:12Z"]
    assert page["versions"][0]["latest"] is True and page["numberMatched"] == 3
    following = next(link["href"] for link in page["links"] if link["rel"] == "next")
    rest = stac_api.reader.get(following).json()
    assert [v["version"] for v in rest["versions"]] == ["2025-08-11T12:12Z"]
    assert not [link for link in rest["links"] if link["rel"] == "next"]


def test_publish_of_uploaded_keys_by_json(stac_api: StacApi, track: str) -> None:
    catalog = track.split("/")[3]
    target = stac_api.editor.post(
        f"/assets/catalogs/{catalog}/uploads", json={"collection_id": "tracks", "filename": "incoming.geojson"}
    ).json()
    uploaded = stac_api.editor.post(target["url"], files={"file": ("incoming.geojson", b'{"json":1}')})
    assert uploaded.status_code == 201, uploaded.text
    response = stac_api.editor.post(
        f"{track}/publish", json={"files": [{"key": target["key"], "name": "track.geojson"}]}
    )
    assert response.status_code == 201, response.text
    assert response.json()["written"] == ["track@2025-08-11T1212Z.geojson"]
    got = stac_api.reader.get(f"{_assets_api(track)}/track@latest/download")
    assert got.content == b'{"json":1}'
    # AND the upload was moved into the version: it is no longer an asset of its own
    found = stac_api.reader.get("/assets/search", params={"catalog_id": catalog}).json()["assets"]
    assert [a["storage"]["key"].rsplit("/", 1)[1] for a in found] == ["track@2025-08-11T1212Z.geojson"]
    upload_record = f"/assets/catalogs/{catalog}/collections/tracks/assets/{uploaded.json()['id']}"
    assert stac_api.reader.get(upload_record).status_code == 404


def test_publish_failures_answer_problems(stac_api: StacApi, track: str) -> None:
    # a file name that carries its own stamp, or is not a plain name
    assert_problem(_publish(stac_api, track, ("track@2025-01-01T0000Z.geojson", b"x")), 400, "stamps")
    assert_problem(_publish(stac_api, track, ("tr ack.geojson", b"x")), 400, "publishable")
    assert_problem(_publish(stac_api, track, ("track.geojson", b"x"), metadata={"owner": "me"}), 400, "sys:state")
    # a missing item, a reader key
    missing = track.replace("Bluefin-12", "Nobody")
    assert_problem(_publish(stac_api, missing, ("track.geojson", b"x")), 404, "Nobody")
    assert_problem(_publish(stac_api, track, ("track.geojson", b"x"), client=stac_api.reader), 403)
    # bad version references
    assert_problem(stac_api.reader.get(f"{track}/versions", params={"name": "tr@ck"}), 400, "name=track")
    assert_problem(stac_api.reader.get(f"{_assets_api(track)}/track@yesterday"), 400, "@latest")
    assert_problem(stac_api.reader.get(f"{_assets_api(track)}/track@latest"), 404, "track@latest")
    # nothing was written by any of them
    assert stac_api.reader.get(f"{track}/versions", params={"name": "track"}).json()["versions"] == []


def test_overwriting_a_published_version_over_http_is_blocked(stac_api: StacApi, track: str) -> None:
    published = _publish(stac_api, track, ("track.geojson", b"original")).json()["written"][0]
    # WHEN a client uploads a file under the published version's name
    upload = stac_api.editor.post(f"{_assets_api(track)}/upload", files={"file": (published, b"tampered")})
    # THEN it is refused and the version keeps its bytes
    assert_problem(upload, 409)
    assert stac_api.reader.get(f"{_assets_api(track)}/track@latest/download").content == b"original"
