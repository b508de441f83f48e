"""/aios Assets DB: each request example of seed 002 sent as written, through dynastore.client."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dynastore.client import AssetsDBClient, AssetsDBError

from . import seed_examples as seed
from .conftest import client_for

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def test_upload_get_download_update_delete_as_in_the_seed(editor: AssetsDBClient, reader: AssetsDBClient) -> None:
    # WHEN the seed's upload is sent (file part `asset`, JSON part `asset_metadata`)
    uploaded = editor.upload_asset(PNG, seed.UPLOAD_METADATA, filename="file.png")
    # THEN the answer is the AssetObject with its URI and a public URL that downloads the bytes
    assert uploaded["asset_uri"] == "SampleAsset:1.0-initial"
    assert uploaded["asset_version"] == {"version": "1.0", "tag": "initial"}
    assert uploaded["asset_tags"] == ["image", "sample"]
    assert uploaded["asset_public_url"].endswith(f"/aios/asset-object/{uploaded['asset_id']}")
    assert uploaded["asset_file_info"]["size"] == len(PNG) and uploaded["assets_db_id"] == "aios"
    assert reader.get_asset_object(uploaded["asset_id"]) == PNG
    # WHEN it is fetched by its URI THEN it is the same object
    assert reader.get_asset(seed.GET_URI) == uploaded
    # WHEN the seed's update is sent THEN metadata and tags are replaced, the URI stays
    updated = editor.update_asset(seed.GET_URI, seed.UPDATE_BODY)
    assert updated["asset_metadata"] == {"description": "Updated asset description"}
    assert updated["asset_tags"] == ["updated", "sample"] and updated["asset_uri"] == seed.GET_URI
    # WHEN it is deleted THEN it is gone
    assert editor.delete_asset(seed.GET_URI)["asset_uri"] == seed.GET_URI
    with pytest.raises(AssetsDBError) as gone:
        reader.get_asset(seed.GET_URI)
    assert gone.value.status == 404


def test_external_asset_and_both_query_forms(editor: AssetsDBClient, reader: AssetsDBClient) -> None:
    # GIVEN the seed's external asset, and an image asset with metadata type image
    external = editor.create_asset(seed.EXTERNAL_ASSET)
    assert external["asset_uri"] == "Sample Asset:1.0-initial" and external["asset_tags"] == ["test", "sample"]
    image = {**seed.UPLOAD_METADATA, "asset_metadata": {"type": "image"}}
    editor.create_asset({**image, "asset_public_url": "https://example.org/sample.png"})
    # WHEN the seed's plain query is sent THEN only the image asset matches (tags all of, metadata equal)
    plain = reader.query_assets(seed.QUERY_PLAIN)
    assert [a["asset_uri"] for a in plain] == ["SampleAsset:1.0-initial"]
    assert plain[0]["asset_public_url"] == "https://example.org/sample.png"
    # WHEN the seed's Mongo-style query is sent THEN the same
    assert [a["asset_uri"] for a in reader.query_assets(seed.QUERY_MONGO)] == ["SampleAsset:1.0-initial"]
    # AND an empty query lists both
    assert len(reader.query_assets({})) == 2


def test_latest_and_tags_resolve_to_versions(editor: AssetsDBClient, reader: AssetsDBClient) -> None:
    # GIVEN two versions of one name
    editor.upload_asset(b"one", {"asset_name": "model", "asset_version": {"version": "1.0", "tag": "initial"}})
    editor.upload_asset(b"two", {"asset_name": "model", "asset_version": {"version": "2.0", "tag": "stable"}})
    # THEN `latest` is the newest, a tag names its version, and only the newest carries latest
    assert reader.get_asset("model:latest")["asset_version"]["version"] == "2.0"
    assert reader.get_asset("model:initial")["asset_version"]["version"] == "1.0"
    assert reader.get_asset("model:1.0-initial")["latest"] is False
    # WHEN the newest is deleted THEN latest falls back to the previous one
    editor.delete_asset("model:latest")
    assert reader.get_asset("model:latest")["asset_uri"] == "model:1.0-initial"
    # AND a tag that names no version is a 404 saying so
    with pytest.raises(AssetsDBError) as missing:
        reader.get_asset("model:nightly")
    assert missing.value.status == 404 and "names no version" in missing.value.body["detail"]


@pytest.mark.parametrize("uri", ["no-colon", ":1.0-x", "name:", "name:-x", "name:1.0-"])
def test_a_malformed_uri_is_a_400_naming_the_form(reader: AssetsDBClient, uri: str) -> None:
    with pytest.raises(AssetsDBError) as bad:
        reader.get_asset(uri)
    assert bad.value.status == 400 and "name:version-tag" in bad.value.body["detail"]


def test_failure_paths(http: TestClient, editor: AssetsDBClient, reader: AssetsDBClient) -> None:
    # an operator we do not run → 400 naming the supported ones
    with pytest.raises(AssetsDBError) as unknown:
        reader.query_assets({"asset_tags": {"$regex": "sam.*"}})
    assert unknown.value.status == 400 and "$in" in unknown.value.body["detail"]
    # a field the AssetObject does not have → 400 naming the fields
    with pytest.raises(AssetsDBError) as field:
        reader.query_assets({"colour": "red"})
    assert field.value.status == 400 and "asset_tags" in field.value.body["detail"]
    # a missing asset → 404; a reader writing → 403; no key → 401; a key of another catalog → 403
    with pytest.raises(AssetsDBError) as missing:
        reader.get_asset("absent:1.0-x")
    assert missing.value.status == 404
    for client, status in ((reader, 403), (client_for(http, None), 401), (client_for(http, "other-key"), 403)):
        with pytest.raises(AssetsDBError) as refused:
            client.create_asset(seed.EXTERNAL_ASSET)
        assert refused.value.status == status
    # a second create of one URI → 409; changing the name → 400
    editor.create_asset(seed.EXTERNAL_ASSET)
    with pytest.raises(AssetsDBError) as twice:
        editor.create_asset(seed.EXTERNAL_ASSET)
    assert twice.value.status == 409
    with pytest.raises(AssetsDBError) as renamed:
        editor.update_asset("Sample Asset:1.0-initial", {"asset_name": "other"})
    assert renamed.value.status == 400


def test_health_needs_no_key(http: TestClient) -> None:
    answer = http.get("/aios/health")
    assert answer.status_code == 200 and answer.json()["success"] is True
