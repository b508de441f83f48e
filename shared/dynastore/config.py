"""Every setting of the service, read from the environment in one place.

Each field is read from ``DYNASTORE_<FIELD>`` (upper case) unless it names another variable.
Settings are passed explicitly (``bootstrap(settings)``); nothing else reads the environment,
except the Google/AWS SDKs themselves for their emulator hosts and credentials.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
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
    api_keys: str = Field(
        default="",
        description="`key:role[@catA|catB][#name],...`, roles reader < editor < admin; `@` limits a key to catalogs",
    )
    audit_salt: SecretStr | None = Field(
        default=None,
        description="secret that keys the audit actor id of unnamed keys (HMAC); local default: <data_dir>/audit-salt",
    )
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

    # --- hrefs, downloads and record size (README "Security") ------------------------------
    max_record_bytes: int = Field(
        default=256 * 1024, ge=1024, description="largest stored asset record (its JSON), on every write path"
    )
    href_allowed_prefixes: str = Field(
        default="",
        description="comma-separated href prefixes (`gs://public-data/,file:///mnt/shared/`) an asset may point at "
        "outside its catalog's storage; registered as references, never read, served or deleted",
    )
    download_allowed_hosts: str = Field(
        default="",
        description="comma-separated hosts /download may redirect to over http:// or at a private address "
        "(https to public hosts needs no entry)",
    )

    # --- STAC rendering ---------------------------------------------------------------------
    item_embed_max: int = Field(default=100, ge=0, description="non-metadata assets embedded in an item document")
    stac_asset_history_max: int = Field(
        default=5,
        ge=1,
        validation_alias=AliasChoices("STAC_ASSET_HISTORY_MAX", "DYNASTORE_STAC_ASSET_HISTORY_MAX"),
        description="versions of each versioned asset embedded in an item",
    )
    stac_use_symlinks: bool = Field(
        default=True,
        validation_alias=AliasChoices("STAC_USE_SYMLINKS", "DYNASTORE_STAC_USE_SYMLINKS"),
        description="`dynastore export-static`: `<name>@latest<ext>` is a relative symlink (false: a copy)",
    )
    stac_symlink_fallback: Literal["copy", "error"] = Field(
        default="copy",
        validation_alias=AliasChoices("STAC_SYMLINK_FALLBACK", "DYNASTORE_STAC_SYMLINK_FALLBACK"),
        description="where a symlink cannot be made (Windows, restricted filesystems): copy the file, or fail",
    )
    versions_hot_max: int = Field(
        default=0,
        ge=0,
        description="versions of each (item, name) kept in hot storage; older ones are archived (0: keep all hot)",
    )
    versions_archive_tier: Literal["cold", "archive"] = Field(
        default="archive",
        description="storage tier of archived versions (gcp COLDLINE/ARCHIVE, aws STANDARD_IA/GLACIER_IR)",
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
    aws_endpoint_url: str | None = Field(default=None, description="S3-compatible endpoint (MinIO, Ceph, moto)")
    aws_api_keys_secret_arn: str | None = Field(
        default=None,
        description="Secrets Manager secret holding DYNASTORE_API_KEYS; Lambda reads it once per cold start",
    )
    aws_services_endpoint_url: str | None = Field(
        default=None, description="DynamoDB and SQS endpoint (moto in tests); unset: the AWS regional endpoints"
    )
    aws_s3_path_style: bool = Field(
        default=True, description="path-style S3 addressing when aws_endpoint_url is set (MinIO, Ceph, moto)"
    )
    aws_queue_prefix: str = Field(
        default="dynastore", description="SQS queue names are {prefix}-{queue}, the dead-letter queue {prefix}-dlq"
    )
    aws_bucket_per_catalog: bool = False
    aws_notification_queue_arn: str | None = Field(
        default=None, description="SQS queue ARN per-catalog buckets send object events to"
    )

    # AIOS Assets DB facade (/aios) and its registry of asset databases
    aios_catalog: str = Field(default="aios", description="the catalog /aios stores assets in (created on first use)")
    aios_health_interval_seconds: float = Field(
        default=60, gt=0, description="`dynastore dev`: how often the registry's health check runs"
    )
    aios_registry_allowed_hosts: str = Field(
        default="",
        description="comma-separated hosts the registry's health check may call over http:// or at a private "
        "address (default: https to public hosts only)",
    )
    aios_health_timeout_seconds: float = Field(
        default=3, gt=0, le=60, description="how long the health check waits for a registered Assets DB"
    )

    # --- ESGF publish envelopes (/events/stac) -----------------------------------------------
    esgf_catalog_id: str = Field(
        default="esgf", description="catalog an envelope is applied to when the request names none (?catalog_id=)"
    )

    log_level: str = "INFO"

    @field_validator("api_keys")
    @classmethod
    def _check_api_keys(cls, value: str) -> str:
        parse_api_keys(value)
        return value

    def keys(self) -> dict[str, str]:
        """The configured API keys mapped to their role."""
        return parse_api_keys(self.api_keys)

    def api_key_specs(self) -> tuple[ApiKey, ...]:
        """The configured API keys with role, catalog scope and name."""
        return parse_api_key_specs(self.api_keys)


_CATALOG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,254}$")  # = domain.ids.ID_PATTERN
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
KEY_FORMAT = (
    "`key:role`, `key:role@catA|catB` (only those catalogs, separated by `|` since `,` separates keys) or "
    "either followed by `#name` (the audit actor), role reader, editor or admin"
)


@dataclass(frozen=True)
class ApiKey:
    """One entry of ``DYNASTORE_API_KEYS``: ``catalogs`` None = every catalog; ``name`` None = unnamed."""

    key: str
    role: str
    catalogs: frozenset[str] | None = None
    name: str | None = None


def parse_api_key_specs(value: str) -> tuple[ApiKey, ...]:
    """Parse ``key:role[@cat|cat][#name]`` entries separated by commas.

    The key is everything before the LAST ``:`` (it may hold ``:``, ``@``, ``#``, not ``,``); what
    follows is the role, then an optional ``@`` scope of catalog ids separated by ``|`` and an optional
    ``#`` name. Anything else (an empty scope, a bad catalog id, a duplicate key or name) is an error:
    a key's reach is never guessed.
    """
    specs: list[ApiKey] = []
    seen_keys: set[str] = set()
    seen_names: set[str] = set()
    for entry in filter(None, (part.strip() for part in value.split(","))):
        key, sep, rest = entry.rpartition(":")
        rest, has_name, name = rest.partition("#")
        role, has_scope, scope = rest.partition("@")
        problem = _entry_problem(key, sep, role, has_scope, scope, has_name, name)
        if problem:
            raise ValueError(f"DYNASTORE_API_KEYS entry {_redact(entry)!r}: {problem}; use {KEY_FORMAT}")
        if key in seen_keys or (name and name in seen_names):
            raise ValueError(f"DYNASTORE_API_KEYS entry {_redact(entry)!r}: the key or name appears twice")
        seen_keys.add(key)
        if name:
            seen_names.add(name)
        catalogs = frozenset(scope.split("|")) if has_scope else None
        specs.append(ApiKey(key, role, catalogs, name or None))
    return tuple(specs)


def _entry_problem(key: str, sep: str, role: str, has_scope: str, scope: str, has_name: str, name: str) -> str | None:
    if not sep or not key:
        return "no `key:` before the role"
    if role not in ROLE_RANK:
        return f"unknown role {role!r}"
    if has_scope and not all(_CATALOG_RE.match(c) for c in scope.split("|")):
        return "the scope after `@` must be catalog ids separated by `|` (commas separate keys)"
    if has_name and not _NAME_RE.match(name):
        return "the name after `#` must be 1-64 characters from A-Z a-z 0-9 . _ -"
    if has_name and (name == "anonymous" or name.startswith("key-")):
        return "the names `anonymous` and `key-...` are reserved"
    return None


def _redact(entry: str) -> str:
    """An entry for an error message, without the secret key."""
    return "<key>:" + entry.rpartition(":")[2]


def parse_api_keys(value: str) -> dict[str, str]:
    """The configured keys mapped to their role (scopes and names: ``parse_api_key_specs``)."""
    return {spec.key: spec.role for spec in parse_api_key_specs(value)}


def comma_list(value: str) -> tuple[str, ...]:
    """The non-empty, stripped entries of a comma-separated setting."""
    return tuple(part.strip() for part in value.split(",") if part.strip())
