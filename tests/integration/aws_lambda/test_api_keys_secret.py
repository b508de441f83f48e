"""API keys from Secrets Manager (moto's server, started here): never in the Lambda configuration."""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest

from support.devserver import free_port

from .conftest import LambdaContext, load_event

pytestmark = pytest.mark.aws


@pytest.fixture
def secrets_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    try:
        yield endpoint
    finally:
        server.stop()


def test_the_api_accepts_the_keys_stored_in_the_secret(
    handlers: ModuleType, secrets_endpoint: str, monkeypatch: pytest.MonkeyPatch, context: LambdaContext
) -> None:
    import boto3

    # GIVEN the keys in a Secrets Manager secret and only its ARN in the function's environment
    client = boto3.client("secretsmanager", endpoint_url=secrets_endpoint, region_name="eu-west-1")
    arn = client.create_secret(Name="dyn-api-keys", SecretString="from-the-secret:reader\n")["ARN"]
    monkeypatch.delenv("DYNASTORE_API_KEYS")
    monkeypatch.setenv("DYNASTORE_AWS_API_KEYS_SECRET_ARN", arn)
    event = load_event("apigw_v2_get_catalog.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/assets/catalogs"
    # WHEN a request carries the stored key, and another one a key that is not stored
    event["headers"]["x-api-key"] = "from-the-secret"
    accepted = handlers.api(event, context)
    event["headers"]["x-api-key"] = "lambda-test-admin"
    refused = handlers.api(event, context)
    # THEN the first one is served and the second refused
    assert accepted["statusCode"] == 200, accepted
    assert refused["statusCode"] == 401
    assert handlers.services().settings.keys() == {"from-the-secret": "reader"}
