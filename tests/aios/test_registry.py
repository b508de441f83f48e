"""/aios registry of asset databases: the seed's examples, and health checks of a live instance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dynastore.api.app import create_app
from dynastore.bootstrap import Services, bootstrap
from dynastore.client import AssetsDBClient, AssetsDBError
from dynastore.config import Settings

from . import seed_examples as seed


def test_registry_examples_as_in_the_seed(editor: AssetsDBClient, reader: AssetsDBClient) -> None:
    # WHEN the seed's create is sent (with the id its later examples use)
    created = editor.create_registry({**seed.REGISTRY_CREATE, "asset_registry_id": seed.REGISTRY_ID})
    assert created == {"message": "Asset registry created", "id": seed.REGISTRY_ID}
    # THEN get answers the seed's fields
    entry = reader.get_registry(seed.REGISTRY_ID)
    assert {k: entry[k] for k in seed.REGISTRY_CREATE} == seed.REGISTRY_CREATE
    assert entry["health"]["status"] == "unknown"
    # AND the seed's query finds it; after the seed's update (TensorFlow) it no longer does
    assert [e["asset_registry_id"] for e in reader.query_registries(seed.REGISTRY_QUERY)] == [seed.REGISTRY_ID]
    assert editor.update_registry(seed.REGISTRY_ID, seed.REGISTRY_UPDATE) == {"message": "Asset registry updated"}
    assert reader.query_registries(seed.REGISTRY_QUERY) == []
    assert reader.get_registry(seed.REGISTRY_ID)["asset_registry_tags"] == ["neural-network", "tensorflow"]
    # AND the seed's check_health answers; the test machine has no internet, so the entry is pointed
    # at a local port nobody listens on (connection refused): unhealthy, never seen
    editor.update_registry(seed.REGISTRY_ID, {"asset_registry_public_url": "http://127.0.0.1:9/aios"})
    health = reader.check_health(seed.REGISTRY_ID)
    assert set(health) >= {"healthy", "status", "latency_ms", "last_seen", "checked_at"}
    assert health["healthy"] is False and health["last_seen"] is None
    # WHEN the seed's delete is sent THEN the entry is gone
    assert editor.delete_registry(seed.REGISTRY_ID) == {"message": "Asset registry deleted"}
    with pytest.raises(AssetsDBError) as gone:
        reader.get_registry(seed.REGISTRY_ID)
    assert gone.value.status == 404


def test_registry_refusals(editor: AssetsDBClient, reader: AssetsDBClient) -> None:
    for client, body, status in (
        (reader, seed.REGISTRY_CREATE, 403),
        (editor, {"asset_registry_name": "no url"}, 400),
        (editor, {**seed.REGISTRY_CREATE, "asset_registry_public_url": "ftp://x"}, 400),
    ):
        with pytest.raises(AssetsDBError) as refused:
            client.create_registry(body)
        assert refused.value.status == status
    with pytest.raises(AssetsDBError) as bad:
        reader.query_registries({"asset_registry_tags": {"$where": "x"}})
    assert bad.value.status == 400


def test_a_local_catalog_entry_is_healthy_while_the_catalog_is_active(
    services: Services, editor: AssetsDBClient
) -> None:
    editor.create_asset(seed.EXTERNAL_ASSET)  # provisions catalog `aios`
    entry = editor.create_registry({"asset_registry_name": "here", "catalog_id": "aios"})
    assert editor.check_health(entry["id"])["healthy"] is True
    assert services.registry.check_all()["healthy"] == [entry["id"]]


def test_a_stopped_instance_is_unhealthy_at_the_next_check(serve: Any, tmp_path: Path, services: Services) -> None:
    # GIVEN a second Dynastore serving /aios on a free port, registered by its /aios base URL
    remote = bootstrap(Settings(backend="local", data_dir=tmp_path / "remote", api_keys="k:admin", watch_bucket=False))
    server = serve(create_app(remote))
    url = server.__enter__()
    try:
        entry = services.registry.create({"asset_registry_name": "remote", "asset_registry_public_url": f"{url}/aios"})
        # WHEN the scheduled check runs THEN it is healthy, with a latency and a last_seen
        assert services.registry.check_all() == {"checked": 1, "healthy": [entry["id"]], "unhealthy": []}
        seen = services.registry.get(entry["id"])["health"]
        assert seen["status"] == "healthy" and seen["last_seen"] == seen["checked_at"] and seen["latency_ms"] >= 0
    finally:
        server.__exit__(None, None, None)
        remote.close()
    # WHEN the instance has stopped and the next check runs
    report = services.registry.check_all()
    # THEN it is unhealthy and last_seen still says when it last answered
    assert report["unhealthy"] == [entry["id"]]
    after = services.registry.get(entry["id"])["health"]
    assert after["status"] == "unhealthy" and after["last_seen"] == seen["last_seen"]
    assert after["checked_at"] >= seen["checked_at"]


def test_the_dev_timer_runs_the_check_until_stopped(services: Services) -> None:
    # GIVEN a registry whose check_all signals each round
    import threading

    from dynastore.services.registry import RegistryHealthTimer

    rounds = threading.Semaphore(0)
    real = services.registry.check_all

    def counted() -> dict[str, Any]:
        rounds.release()
        return real()

    services.registry.check_all = counted  # type: ignore[method-assign]
    timer = RegistryHealthTimer(services.registry, interval=0.01)
    # WHEN it is started THEN rounds run; after stop none do
    timer.start()
    assert rounds.acquire(timeout=30) and rounds.acquire(timeout=30)
    timer.stop()
    assert timer._thread is not None and not timer._thread.is_alive()


def _probed(tmp_path: Path, allowed: str = "") -> tuple[Services, list[str]]:
    """A registry whose probe records the URLs it was asked to call (and answers them healthy)."""
    from dynastore.services.registry import RegistryService

    built = bootstrap(
        Settings(
            backend="local",
            data_dir=tmp_path / "probe",
            watch_bucket=False,
            aios_registry_allowed_hosts=allowed,
        )
    )
    called: list[str] = []
    built.registry = RegistryService(
        built.settings, built.adapters.store, built.catalogs, probe=lambda url, timeout: called.append(url)
    )
    return built, called


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",  # the cloud metadata server
        "https://169.254.169.254/computeMetadata/v1",
        "https://127.0.0.1:8443/aios",
        "https://10.0.0.7/aios",
        "https://localhost/aios",
        "https://[::1]/aios",
        "http://assets.example.org/aios",  # plain http to a public name
    ],
)
def test_the_health_check_never_calls_private_addresses_or_plain_http(tmp_path: Path, url: str) -> None:
    # GIVEN an editor registered a URL pointing into the deployment's network (or over plain http)
    built, called = _probed(tmp_path)
    try:
        entry = built.registry.create({"asset_registry_name": "probe", "asset_registry_public_url": url})
        # WHEN the health check runs
        health = built.registry.check(entry["id"])
        # THEN nothing was called, and the entry is unhealthy with a detail naming the setting
        assert called == []
        assert health["status"] == "unhealthy" and health["last_seen"] is None
        assert "DYNASTORE_AIOS_REGISTRY_ALLOWED_HOSTS" in health["detail"]
    finally:
        built.close()


def test_an_allow_listed_host_is_probed(tmp_path: Path) -> None:
    # GIVEN 127.0.0.1 allow-listed (development) WHEN an entry on it is checked THEN it is called
    built, called = _probed(tmp_path, allowed="127.0.0.1")
    try:
        entry = built.registry.create(
            {"asset_registry_name": "dev", "asset_registry_public_url": "http://127.0.0.1:9/aios"}
        )
        assert built.registry.check(entry["id"])["status"] == "healthy"
        assert called == ["http://127.0.0.1:9/aios/health"]
    finally:
        built.close()


def test_the_probe_does_not_follow_redirects(serve: Any) -> None:
    # GIVEN a registered Assets DB that answers its /health with a redirect (to an internal address, say)
    from fastapi import FastAPI
    from fastapi.responses import RedirectResponse

    from dynastore.services.registry import http_probe

    redirecting = FastAPI()

    @redirecting.get("/aios/health")
    def health() -> RedirectResponse:
        return RedirectResponse("http://169.254.169.254/latest/meta-data", status_code=302)

    # WHEN it is probed THEN the redirect is an answer (unhealthy), not a hop
    with serve(redirecting) as url, pytest.raises(OSError, match="redirects are not followed"):
        http_probe(f"{url}/aios/health", 3)
