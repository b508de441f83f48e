"""The auth and cross-catalog matrix on the gcp backend (Firestore, GCS and Cloud Tasks emulators,
started by the suite: a missing emulator fails these tests, it does not skip them)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from .matrix import (
    KEYS,
    MINE,
    OPERATIONS,
    OTHER,
    Env,
    check_foreign_key_is_refused,
    check_in_scope_key_passes,
    check_no_key,
    check_reader_cannot_write,
    scoped_env,
)

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

pytestmark = pytest.mark.gcp
OP_IDS = [f"{method} {path}" for method, path in OPERATIONS]


def gcp_env() -> Iterator[Env]:
    from infra.testing import gcp_adapters

    with ExitStack() as stack:
        built = stack.enter_context(gcp_adapters(audit_salt="gcp-test-salt"))
        yield stack.enter_context(scoped_env(built.settings, built.adapters))


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    yield from gcp_env()


@pytest.fixture(scope="module")
def writable_env() -> Iterator[Env]:
    yield from gcp_env()


@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
def test_without_a_key_every_operation_but_health_answers_401_before_validating(env: Env, op: tuple[str, str]) -> None:
    check_no_key(env, op)


@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
def test_a_reader_key_cannot_write(env: Env, op: tuple[str, str]) -> None:
    check_reader_cannot_write(env, op)


@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
def test_a_key_scoped_to_another_catalog_is_refused_without_leaking(env: Env, op: tuple[str, str]) -> None:
    check_foreign_key_is_refused(env, op)


@pytest.mark.parametrize("op", OPERATIONS, ids=OP_IDS)
def test_the_key_scoped_to_the_catalog_gets_past_authorization(writable_env: Env, op: tuple[str, str]) -> None:
    check_in_scope_key_passes(writable_env, op)


def test_scoped_searches_and_lists_cover_only_the_keys_catalogs(env: Env) -> None:
    headers = {"Authorization": f"Bearer {KEYS['other_admin']}"}
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
