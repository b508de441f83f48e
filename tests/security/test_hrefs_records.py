"""Asset records have a size cap on every write path; the uploads endpoint answers bad names with 400.

Reproducers of issue 7 (a 50 MB asset record; a 500 for ``{"filename": [null, null]}``), over HTTP.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.helpers import Api, assert_problem

LIMIT = 256 * 1024  # DYNASTORE_MAX_RECORD_BYTES by default
BIG = {"blob": "x" * (LIMIT + 1)}  # metadata that alone passes the limit
HREF = "https://example.org/data/B04.tif"
LIMIT_WORDS = ("DYNASTORE_MAX_RECORD_BYTES", str(LIMIT))


def assets_of(catalog_id: str) -> str:
    return f"/assets/catalogs/{catalog_id}/assets"


def test_default_record_limit_is_256_kib(api: Api) -> None:
    assert api.services.settings.max_record_bytes == LIMIT


def test_an_oversized_record_is_refused_on_create_put_and_patch(api: Api, catalog: str) -> None:
    base = assets_of(catalog)
    # WHEN a record larger than the limit is created or replaced THEN 413 naming the limit, nothing stored
    assert_problem(api.editor.post(base, json={"id": "big", "href": HREF, "metadata": BIG}), 413, *LIMIT_WORDS)
    assert_problem(api.editor.put(f"{base}/big", json={"href": HREF, "metadata": BIG}), 413, *LIMIT_WORDS)
    assert api.reader.get(f"{base}/big").status_code == 404
    # WHEN an existing record is patched past the limit THEN 413 and it is unchanged
    created = api.editor.post(base, json={"id": "small", "href": HREF, "title": "small"})
    assert created.status_code == 201
    assert_problem(api.editor.patch(f"{base}/small", json={"metadata": BIG}), 413, *LIMIT_WORDS)
    assert api.reader.get(f"{base}/small").json() == created.json()
    # AND a record just under the limit is fine
    fits = {"blob": "x" * (LIMIT - 2048)}
    assert api.editor.post(base, json={"id": "fits", "href": HREF, "metadata": fits}).status_code == 201


def test_an_oversized_record_in_a_bulk_request_fails_alone(api: Api, catalog: str) -> None:
    body = {
        "catalog_id": catalog,
        "assets": [{"id": "ok", "href": HREF}, {"id": "big", "href": HREF, "metadata": BIG}],
    }
    response = api.editor.post("/assets/bulk", json=body)
    assert response.status_code == 200, response.text
    ok, big = response.json()["results"]
    assert ok["status"] == "created"
    assert big["status"] == "error" and big["error"]["status"] == 413
    assert all(word in big["error"]["detail"] for word in LIMIT_WORDS)
    assert api.reader.get(f"{assets_of(catalog)}/big").status_code == 404


def test_an_upload_with_oversized_metadata_is_refused_and_leaves_no_file(api: Api, catalog: str) -> None:
    files: dict[str, Any] = {"file": ("big.bin", b"bytes", "application/octet-stream")}
    form = {"metadata": json.dumps({"metadata": BIG})}
    response = api.editor.post(f"{assets_of(catalog)}/upload", files=files, data=form)
    assert_problem(response, 413, *LIMIT_WORDS)
    assert list(api.services.adapters.blobs.list(f"{catalog}/")) == []
    # AND the same file with small metadata uploads
    assert api.editor.post(f"{assets_of(catalog)}/upload", files=files).status_code == 201


@pytest.mark.parametrize("filename", [[None, None], 5, {"a": 1}, True])
def test_the_uploads_endpoint_answers_a_non_string_file_name_with_400(api: Api, catalog: str, filename: Any) -> None:
    response = api.editor.post(f"/assets/catalogs/{catalog}/uploads", json={"filename": filename})
    assert_problem(response, 400, "filename must be a string")
