"""Per-catalog authorization on every backend (the gcp cases on the Firestore, GCS and Cloud Tasks
emulators, started by the suite: a missing emulator fails them, it does not skip them): the matrix over
every OpenAPI operation, plus what scoped lists and searches answer, catalog creation by scoped keys,
admin-only operations and the audit actor."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dynastore.config import Settings
from support.backends import BACKENDS, gcp_adapters

from .matrix import (
    KEYS,
    MINE,
    OPERATIONS,
    OTHER,
    Env,
    check_foreign_key_is_refused,
    check_in_scope_key_passes,
    check_is_classified,
    check_no_key,
    check_reader_cannot_write,
    scoped_env,
)

OP_IDS = [f"{method} {path}" for method, path in OPERATIONS]


@contextmanager
def served_env(backend: str, data_dir: Path) -> Iterator[Env]:
    """The matrix's app on ``backend``: a fresh local data folder, or fresh buckets and prefixes on the emulators."""
    if backend == "local":
        with scoped_env(Settings(data_dir=data_dir, watch_bucket=False, worker_threads=0)) as built:
            yield built
        return
    with gcp_adapters(audit_salt="gcp-test-salt") as gcp, scoped_env(gcp.settings, gcp.adapters) as built:
        yield built


@pytest.fixture(scope="module", params=BACKENDS)
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with served_env(request.param, tmp_path_factory.mktemp("scopes")) as built:
        yield built


@pytest.fixture(scope="module", params=BACKENDS)
def writable_env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """A second app the in-scope key may change (it retires MINE along the way)."""
    with served_env(request.param, tmp_path_factory.mktemp("writable")) as built:
        yield built


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
def test_every_operation_is_in_a_scope_table(op: tuple[str, str]) -> None:
    check_is_classified(op)


# The rules every operation keeps against the shared app: the id names the rule, the check holds it.
RULES = {
    "without a key every operation but health answers 401 before validating": check_no_key,
    "a reader key cannot write": check_reader_cannot_write,
    "a key scoped to another catalog is refused without leaking": check_foreign_key_is_refused,
}


@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
@pytest.mark.parametrize("rule", list(RULES))
def test_every_operation_keeps_the_rule(env: Env, rule: str, op: tuple[str, str]) -> None:
    RULES[rule](env, op)


@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
def test_the_key_scoped_to_the_catalog_gets_past_authorization(writable_env: Env, op: tuple[str, str]) -> None:
    check_in_scope_key_passes(writable_env, op)


# ------------------------------------------------------------------------------------- filtered lists


def test_a_scoped_key_lists_only_its_catalogs(env: Env) -> None:
    # GIVEN catalogs MINE and OTHER WHEN MINE's editor lists catalogs THEN it sees MINE only
    body = env.client.get("/assets/catalogs", headers=auth(KEYS["mine_editor"])).json()
    assert [c["id"] for c in body["catalogs"]] == [MINE]
    # AND an unscoped key sees both
    body = env.client.get("/assets/catalogs", headers=auth(KEYS["reader"])).json()
    assert {MINE, OTHER} <= {c["id"] for c in body["catalogs"]}


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "member"),
    [
        ("GET", "/assets/search", {}, "assets"),
        ("POST", "/assets/search", {"json": {}}, "assets"),
        ("GET", "/stac/asset-search", {}, "assets"),
        ("POST", "/stac/asset-search", {"json": {}}, "assets"),
        ("GET", "/stac/search", {}, "features"),
        ("POST", "/stac/search", {"json": {}}, "features"),
    ],
)
def test_a_search_without_catalog_covers_only_the_keys_catalogs(
    env: Env, method: str, url: str, kwargs: dict, member: str
) -> None:
    # WHEN OTHER's key searches without naming a catalog
    response = env.client.request(method, url, headers=auth(KEYS["other_admin"]), **kwargs)
    # THEN it finds OTHER's records and none of MINE's
    assert response.status_code == 200, response.text
    found = response.json()[member]
    assert found and all(
        (r.get("catalog") or r.get("catalog_id") or r["links"][0]["href"]).find(f"/{MINE}/") < 0 for r in found
    )
    assert MINE not in {r.get("catalog_id") or r.get("catalog") for r in found}
    # AND the same search by an unscoped key finds both catalogs' records
    everything = env.client.request(method, url, headers=auth(KEYS["reader"]), **kwargs).json()[member]
    assert len(everything) > len(found)


def test_scoped_searches_and_lists_cover_only_the_keys_catalogs(env: Env) -> None:
    headers = auth(KEYS["other_admin"])
    # WHEN OTHER's key lists catalogs and searches assets and items without naming a catalog
    catalogs = env.client.get("/assets/catalogs", headers=headers).json()["catalogs"]
    assets = env.client.get("/assets/search", headers=headers).json()["assets"]
    items = env.client.post("/stac/search", json={}, headers=headers).json()["features"]
    jobs = env.client.get("/assets/jobs", headers=headers).json()["jobs"]
    # THEN only OTHER's records come back
    assert [c["id"] for c in catalogs] == [OTHER]
    assert {a["catalog_id"] for a in assets} == {OTHER}
    assert items and all(f"/catalogs/{MINE}/" not in f["links"][0]["href"] for f in items)
    assert env.job_id not in {j["jobID"] for j in jobs}


def test_a_search_naming_a_foreign_catalog_is_forbidden_not_emptied(env: Env) -> None:
    response = env.client.get(
        "/assets/search", params={"catalog_id": f"{OTHER},{MINE}"}, headers=auth(KEYS["other_admin"])
    )
    assert response.status_code == 403 and MINE in response.json()["detail"]


def test_the_stac_root_links_only_the_keys_catalogs(env: Env) -> None:
    links = env.client.get("/stac", headers=auth(KEYS["other_admin"])).json()["links"]
    children = [x["href"] for x in links if x["rel"] == "child"]
    assert len(children) == 1 and children[0].endswith(f"/stac/catalogs/{OTHER}")


def test_jobs_of_other_catalogs_are_invisible_to_a_scoped_key(env: Env) -> None:
    # GIVEN a job on MINE's asset
    # WHEN OTHER's key lists jobs THEN the job is not there, and asking for it by id is a 404
    jobs = env.client.get("/assets/jobs", headers=auth(KEYS["other_admin"])).json()["jobs"]
    assert env.job_id not in {j["jobID"] for j in jobs}
    assert env.client.get(f"/assets/jobs/{env.job_id}", headers=auth(KEYS["other_admin"])).status_code == 404
    # AND MINE's key sees it
    jobs = env.client.get("/assets/jobs", headers=auth(KEYS["mine_editor"])).json()["jobs"]
    assert env.job_id in {j["jobID"] for j in jobs}


def test_a_key_scoped_to_several_catalogs_lists_jobs_one_catalog_at_a_time(env: Env) -> None:
    response = env.client.get("/assets/jobs", headers=auth(KEYS["both_reader"]))
    assert response.status_code == 400 and "catalog_id" in response.json()["detail"]
    response = env.client.get("/assets/jobs", params={"catalog_id": MINE}, headers=auth(KEYS["both_reader"]))
    assert env.job_id in {j["jobID"] for j in response.json()["jobs"]}


def test_bulk_refuses_the_whole_request_when_one_record_is_foreign(env: Env) -> None:
    body = {
        "catalog_id": MINE,
        "assets": [
            {"id": "ok", "href": "https://example.org/ok"},
            {"id": "x", "catalog_id": OTHER, "href": "https://e/x"},
        ],
    }
    response = env.client.post("/assets/bulk", json=body, headers=auth(KEYS["mine_editor"]))
    assert response.status_code == 403 and OTHER in response.json()["detail"]
    assert env.client.get(f"/assets/catalogs/{MINE}/assets/ok", headers=auth(KEYS["admin"])).status_code == 404


# ------------------------------------------------------------------------------------- writes


def test_a_scoped_key_creates_only_catalogs_of_its_scope(env: Env) -> None:
    headers = auth(KEYS["fresh_editor"])
    assert env.client.post("/assets/catalogs", json={"id": "elsewhere"}, headers=headers).status_code == 403
    response = env.client.post("/assets/catalogs", json={"id": "fresh"}, headers=headers)
    assert response.status_code == 201, response.text
    assert (
        env.client.post(
            "/assets/catalogs/fresh/assets", json={"id": "f1", "href": "https://e/f1"}, headers=headers
        ).status_code
        == 201
    )


def test_retiring_a_catalog_and_hard_deletes_need_admin(env: Env) -> None:
    editor = auth(KEYS["mine_editor"])
    env.client.post(f"/assets/catalogs/{MINE}/assets", json={"id": "gone", "href": "https://e/gone"}, headers=editor)
    # WHEN MINE's editor retires MINE or hard-deletes an asset THEN 403
    assert env.client.delete(f"/assets/catalogs/{MINE}", headers=editor).status_code == 403
    response = env.client.delete(f"/assets/catalogs/{MINE}/assets/gone", params={"hard": "true"}, headers=editor)
    assert response.status_code == 403
    # AND MINE's (scoped) admin may hard-delete in MINE
    response = env.client.delete(
        f"/assets/catalogs/{MINE}/assets/gone", params={"hard": "true"}, headers=auth(KEYS["mine_admin"])
    )
    assert response.status_code == 204
    assert env.client.get(f"/assets/catalogs/{MINE}", headers=editor).status_code == 200


# ------------------------------------------------------------------------------------- audit actor


def test_the_audit_actor_is_the_keys_name_or_a_keyed_hash(env: Env) -> None:
    # GIVEN a named key and an unnamed one that each change an asset
    env.client.patch(f"/assets/catalogs/{MINE}/assets/a1", json={"title": "by name"}, headers=auth(KEYS["mine_editor"]))
    env.client.patch(f"/assets/catalogs/{MINE}/assets/a1", json={"title": "by hash"}, headers=auth(KEYS["mine_admin"]))
    events = env.client.get(f"/assets/catalogs/{MINE}/assets/a1/history", headers=auth(KEYS["reader"])).json()["events"]
    actors = [e["actor"] for e in events[:2]]
    # THEN the named key appears by its name and the unnamed one as key-<12 hex> that is no plain hash of it
    assert actors[1] == "mine-editor"
    assert actors[0].startswith("key-") and len(actors[0]) == 16
    assert actors[0] != "key-" + hashlib.sha256(KEYS["mine_admin"].encode()).hexdigest()[:12]
