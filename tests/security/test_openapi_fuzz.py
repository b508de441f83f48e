"""Schemathesis over the OpenAPI document at /api, against the real app served by uvicorn on a
fresh local backend, with an admin key.

GIVEN the document the service publishes
WHEN schemathesis sends a bounded, derandomized set of generated requests to every operation
THEN no answer is a server error, every status and content type is one the document declares for
that operation, and every documented body matches its schema.

Each operation gets MAX_EXAMPLES valid ("positive") and MAX_EXAMPLES invalid ("negative") cases. In
positive cases the path parameters name records seeded before the run (catalog, collection, item, asset), so the
generated bodies and query parameters reach the handlers instead of stopping at a 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from support.live_api import KEYS, LiveApi, start_live_api
from support.stac_docs import collection_doc, item_doc

CATALOG, COLLECTION, ITEM = "fuzz", "col", "item"
# One asset per level (asset ids are unique in a catalog); DELETE operations get records of their own so
# the operations that run after them still find theirs.
LEVELS = {
    "catalog": (f"/assets/catalogs/{CATALOG}", "asset-cat"),
    "collection": (f"/assets/catalogs/{CATALOG}/collections/{COLLECTION}", "asset-col"),
    "item": (f"/assets/catalogs/{CATALOG}/collections/{COLLECTION}/items/{ITEM}", "asset-item"),
}
DOOMED = {"catalog_id": "fuzz-retired", "collection_id": "col-deleted", "item_id": "item-deleted"}
MAX_EXAMPLES = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# small uploads; sync-execute turns into a job quickly (no workers run here, so it would wait the full timeout)
SETTINGS: dict[str, Any] = {"max_upload_bytes": 64 * 1024, "sync_execute_timeout_seconds": 0.2}
HEADERS = {"Authorization": f"Bearer {KEYS['admin']}"}


def _seed(api: LiveApi) -> None:
    admin = api.admin
    assert admin.post("/assets/catalogs", json={"id": CATALOG, "title": "Fuzzed"}).status_code == 201
    collection = collection_doc(COLLECTION, description="fuzzed collection")
    assert admin.post(f"/stac/catalogs/{CATALOG}/collections", json=collection).status_code == 201
    assert admin.post("/assets/catalogs", json={"id": DOOMED["catalog_id"]}).status_code == 201
    doomed_collection = {**collection, "id": DOOMED["collection_id"]}
    assert admin.post(f"/stac/catalogs/{CATALOG}/collections", json=doomed_collection).status_code == 201
    for item_id in (ITEM, DOOMED["item_id"]):
        _add_item(api, item_id)
    for path, asset_id in LEVELS.values():
        for name in (asset_id, f"{asset_id}-deleted"):
            files = {"file": (f"{name}.csv", b"a,b\n1,2\n", "text/csv")}
            response = admin.post(f"{path}/assets/upload", files=files, data={"metadata": f'{{"id": "{name}"}}'})
            assert response.status_code == 201, response.text


def _add_item(api: LiveApi, item_id: str) -> None:
    item = item_doc(item_id, COLLECTION, datetime="2024-01-01T10:00:00Z")
    response = api.admin.post(f"/stac/catalogs/{CATALOG}/collections/{COLLECTION}/items", json=item)
    assert response.status_code == 201, response.text


def _seeded(method: str, path: str) -> dict[str, str]:
    """The seeded records a positive case of ``method path`` addresses: each level's asset, and for
    DELETE records of its own."""
    ids = {"catalog_id": CATALOG, "collection_id": COLLECTION, "item_id": ITEM}
    for level, (_base, asset_id) in LEVELS.items():
        if path.startswith(_TEMPLATES[level]):
            ids["asset_id"] = asset_id
    if method == "DELETE":
        if "asset_id" in ids and path.endswith("{asset_id}"):
            ids["asset_id"] += "-deleted"
        for name, doomed in DOOMED.items():
            if path.endswith(f"{{{name}}}"):
                ids[name] = doomed
    return ids


_TEMPLATES = {
    "catalog": "/assets/catalogs/{catalog_id}/assets/{asset_id}",
    "collection": "/assets/catalogs/{catalog_id}/collections/{collection_id}/assets/{asset_id}",
    "item": "/assets/catalogs/{catalog_id}/collections/{collection_id}/items/{item_id}/assets/{asset_id}",
}


@pytest.fixture(scope="module")
def served(serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    for api in start_live_api(LiveApi, serve, tmp_path_factory.mktemp("fuzz"), **SETTINGS):
        _seed(api)
        yield api


def _schema(base_url: str) -> Any:
    config = schemathesis.Config.from_dict(
        {
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        }
    )
    return schemathesis.openapi.from_url(f"{base_url}/api", config=config)


def _fuzz(operation: Any, mode: GenerationMode, base_url: str, failures: list[str]) -> None:
    """Up to MAX_EXAMPLES derandomized cases of ``operation``; each failing request is recorded."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        if mode is GenerationMode.POSITIVE and case.path_parameters:
            seeded = _seeded(case.method, operation.path)
            case.path_parameters = {k: seeded.get(k, v) for k, v in case.path_parameters.items()}
        try:
            case.call_and_validate(base_url=base_url, headers=HEADERS, checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{case.method} {case.formatted_path} ({mode.value}): {exc}\n  {case.as_curl_command()}")

    try:
        run()
    except Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        # nothing about the operation can be made invalid (no parameters, no body)


def test_every_operation_answers_as_documented(served: LiveApi) -> None:
    schema = _schema(served.base_url)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50, "the document lists the service's operations"
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, served.base_url, failures)
    assert not failures, f"{len(failures)} failing requests:\n" + "\n".join(failures[:40])


# ---------------------------------------------------------------- regressions of what the fuzzer found


@pytest.mark.parametrize("path", ["/assets/search", f"/assets/catalogs/{CATALOG}/assets"])
def test_free_text_with_a_nul_character_is_searched_not_a_server_error(served: LiveApi, path: str) -> None:
    # GIVEN the seeded catalog-level asset "asset-cat"
    # WHEN `q` carries a NUL character (the local trigram index cannot parse it as a phrase)
    response = served.reader.get(path, params={"q": "asset-cat\x00x"})
    # THEN the search answers, by substring, with no match
    assert response.status_code == 200, response.text
    assert response.json()["assets"] == []
    # AND the same text without the NUL finds the asset
    plain = served.reader.get(path, params={"q": "asset-cat"})
    assert "asset-cat" in {asset["id"] for asset in plain.json()["assets"]}
