"""Every setting of the service, read from the environment in one place.

Each field is read from ``DYNASTORE_<FIELD>`` (upper case) unless it names another variable.
Settings are passed explicitly (``bootstrap(settings)``); nothing else reads the environment,
except the Google/AWS SDKs themselves for their emulator hosts and credentials.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Role = Literal["reader", "editor", "admin"]
ROLE_RANK: dict[str, int] = {"reader": 1, "editor": 2, "admin": 3}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DYNASTORE_", extra="ignore", populate_by_name=True)

    # --- which backend ---------------------------------------------------------------------
    backend: Literal["local", "gcp", "aws"] = "local"
    data_dir: Path = Field(
        default=Path(".dynastore"), description="local backend: where blobs, SQLite and the API key live"
    )

    # --- HTTP API ---------------------------------------------------------------------------
    api_keys: str = Field(default="", description="`key:role,key:role`, roles reader < editor < admin")
    public_read: bool = Field(default=False, description="serve GET requests without a key")
    base_url: str | None = Field(
        default=None, description="public URL of the API, for links; default: from the request"
    )
    max_upload_bytes: int = Field(default=1024 * 1024 * 1024, ge=1, description="largest accepted upload")
    max_page_limit: int = Field(default=10_000, ge=1, le=10_000, description="largest `limit` of any list")
    default_page_limit: int = Field(default=100, ge=1, le=10_000)
    signed_url_ttl_seconds: int = Field(default=900, ge=1, le=7 * 24 * 3600)
    search_timeout_seconds: float = Field(
        default=20, gt=0, description="time budget of one search; past it the search answers 503"
    )

    # --- STAC rendering ---------------------------------------------------------------------
    item_embed_max: int = Field(default=100, ge=0, description="non-metadata assets embedded in an item document")
    stac_asset_history_max: int = Field(
        default=5,
        ge=1,
        validation_alias=AliasChoices("STAC_ASSET_HISTORY_MAX", "DYNASTORE_STAC_ASSET_HISTORY_MAX"),
        description="versions of each versioned asset embedded in an item",
    )

    # --- indexing and lifecycle -------------------------------------------------------------
    retention_days: float = Field(
        default=30, ge=0, description="days before retired catalogs and soft-deleted assets are purged"
    )
    processed_event_ttl_hours: float = Field(
        default=24, gt=0, description="how long processed storage event ids are remembered"
    )
    move_window_seconds: float = Field(
        default=300, ge=0, description="a delete then a create of the same bytes within this window is a move"
    )
    watch_bucket: bool = Field(default=True, description="local backend: `dynastore dev` watches <data_dir>/bucket")

    # --- tasks -------------------------------------------------------------------------------
    sync_execute_timeout_seconds: float = Field(
        default=30, gt=0, description="sync-execute turns into an async job after this"
    )
    worker_threads: int = Field(default=2, ge=0, description="local backend: task worker threads in the process")
    task_max_attempts: int = Field(default=3, ge=1)
    job_heartbeat_seconds: float = Field(default=5, gt=0, description="a running job proves it is alive this often")
    job_stale_seconds: float = Field(default=30, gt=0, description="a running job silent this long is taken over")
    job_cancel_poll_seconds: float = Field(default=0.5, gt=0, description="how often a running job checks dismissal")
    job_inline_results_bytes: int = Field(
        default=256 * 1024, ge=1024, description="larger results go to the blob store"
    )

    # --- gcp backend -------------------------------------------------------------------------
    gcp_project: str | None = None
    gcp_region: str = "europe-west1"
    gcp_bucket: str | None = Field(default=None, description="landing bucket that holds `{catalog}/...` objects")
    gcp_firestore_database: str = "(default)"
    gcp_collection_prefix: str = Field(
        default="", description="prefix of every Firestore collection (tests isolate with it)"
    )
    gcp_tasks_queue_prefix: str = "dynastore"
    gcp_run_task_url: str | None = Field(default=None, description="HTTPS URL of the `run_task` function")
    gcp_tasks_service_account: str | None = Field(default=None, description="identity Cloud Tasks signs OIDC tokens as")
    gcp_bucket_per_catalog: bool = False
    gcp_notification_topic: str | None = Field(default=None, description="Pub/Sub topic per-catalog buckets notify")
    gcp_tasks_emulator_host: str | None = Field(
        default=None, description="host:port of a Cloud Tasks emulator (tests, `dynastore dev --backend gcp`)"
    )
    gcp_signer_email: str | None = Field(
        default=None, description="service account that signs V4 URLs through IAM signBlob when there is no key file"
    )

    # --- aws backend -------------------------------------------------------------------------
    aws_region: str = "eu-west-1"
    aws_bucket: str | None = None
    aws_table_prefix: str = "dynastore"
    aws_queue_url: str | None = None
    aws_endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint (MinIO, Ceph, moto)")

    log_level: str = "INFO"

    @field_validator("api_keys")
    @classmethod
    def _check_api_keys(cls, value: str) -> str:
        parse_api_keys(value)
        return value

    def keys(self) -> dict[str, str]:
        """The configured API keys mapped to their role."""
        return parse_api_keys(self.api_keys)


def parse_api_keys(value: str) -> dict[str, str]:
    keys: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in value.split(","))):
        key, sep, role = entry.rpartition(":")
        if not sep or not key or role not in ROLE_RANK:
            raise ValueError(f"DYNASTORE_API_KEYS entry {entry!r} must be `key:role` with role reader, editor or admin")
        keys[key] = role
    return keys
