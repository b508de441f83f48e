"""A task that writes into another catalog (``ingestion`` with ``inputs.catalog_id``) needs the caller's
key to hold its role in that catalog too: a key scoped to one catalog cannot write into another
through a task."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dynastore.config import Settings

from .matrix import KEYS, MINE, OTHER, Env, scoped_env

EXECUTE = f"/assets/catalogs/{MINE}/assets/a1/tasks/ingestion/execute?mode=sync-execute"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("targets")), watch_bucket=False, worker_threads=0)
    with scoped_env(settings) as built:
        yield built


def execute(env: Env, key: str, catalog_id: str) -> tuple[int, dict]:
    body = {"inputs": {"catalog_id": catalog_id, "collection_id": "stations", "ingestion_request": {}}}
    response = env.client.post(EXECUTE, json=body, headers={"Authorization": f"Bearer {KEYS[key]}"})
    return response.status_code, response.json()


def test_a_key_scoped_to_one_catalog_cannot_ingest_into_another(env: Env) -> None:
    # GIVEN an editor of MINE only, and an asset of MINE
    # WHEN it runs ingestion on that asset with OTHER as the target catalog
    status, body = execute(env, "mine_editor", OTHER)
    # THEN it is refused before anything runs, naming the catalog, and no job was created
    assert status == 403, body
    assert OTHER in body["detail"]
    jobs = env.services.adapters.store.list_jobs(limit=100).items
    assert not [j for j in jobs if j.get("task_id") == "ingestion"]


def test_the_same_key_may_name_its_own_catalog_as_the_target(env: Env) -> None:
    # GIVEN the same editor; WHEN the target is its own catalog THEN the key passes the check (the
    # task itself then runs and judges its inputs: the asset is no table, which is the task's 4xx)
    status, body = execute(env, "mine_editor", MINE)
    assert status not in (401, 403), body
