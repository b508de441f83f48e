"""API keys, roles and catalog scopes (pure: no HTTP, no I/O except the dev key and audit salt files).

Keys come from ``DYNASTORE_API_KEYS`` (``key:role[@catA|catB][#name],...``, see
``config.parse_api_key_specs``); roles rank reader < editor < admin. A key with an ``@`` scope holds
its role only in the catalogs named. A request presents its key as ``Authorization: Bearer <key>``
or ``X-API-Key: <key>``. With ``DYNASTORE_PUBLIC_READ`` a request without a key is an anonymous
reader of every catalog. Other credential checkers (e.g. a Google-signed ID token on GCP) plug in
through ``Authenticator.verifiers``.

The audit ``actor`` of a key is its ``#name``, else ``key-`` + 12 hex of an HMAC-SHA256 of the key
under a per-deployment secret (``DYNASTORE_AUDIT_SALT``; local backend: ``<data_dir>/audit-salt``),
so the audit trail that readers see cannot be used to test guesses of a key offline.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dynastore.config import ROLE_RANK, ApiKey, Settings
from dynastore.errors import Forbidden, Unauthorized

log = logging.getLogger("dynastore.auth")

ROLES = tuple(ROLE_RANK)
DEV_KEY_FILE = "api-key"
AUDIT_SALT_FILE = "audit-salt"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a non-secret key id (used as the audit ``actor``), a role and the catalogs it
    holds that role in (None: every catalog)."""

    key_id: str
    role: str
    catalogs: frozenset[str] | None = None

    def has_role(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK[role]

    @property
    def scoped(self) -> bool:
        return self.catalogs is not None

    def may_access(self, catalog_id: str) -> bool:
        return self.catalogs is None or catalog_id in self.catalogs

    def require_catalog(self, catalog_id: str) -> None:
        """``Forbidden`` unless this key may act in ``catalog_id`` (checked before the catalog is looked
        up, so the answer says nothing about whether it exists)."""
        if not self.may_access(catalog_id):
            raise Forbidden(f"the key {self.key_id} is not scoped to catalog {catalog_id!r}")

    def require_catalogs(self, catalog_ids: Iterable[str]) -> None:
        foreign = sorted({c for c in catalog_ids if not self.may_access(c)})
        if foreign:
            raise Forbidden(f"the key {self.key_id} is not scoped to catalog(s) {', '.join(map(repr, foreign))}")

    def visible(self, catalog_ids: Iterable[str]) -> tuple[str, ...]:
        """``catalog_ids`` narrowed to the ones this key may see (order kept)."""
        return tuple(c for c in catalog_ids if self.may_access(c))


ANONYMOUS_READER = Principal("anonymous", "reader")

# A verifier gets the presented credential and returns a Principal, or None when it does not know it.
CredentialVerifier = Callable[[str], Principal | None]


def key_id(key: str, secret: bytes) -> str:
    """A stable, non-secret name for an unnamed key: ``key-`` + 12 hex of HMAC-SHA256(secret, key)."""
    return "key-" + hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()[:12]


def audit_secret(settings: Settings) -> bytes:
    """The per-deployment secret of ``key_id``: ``DYNASTORE_AUDIT_SALT``; on the local backend else a random
    secret kept in ``<data_dir>/audit-salt``; elsewhere else empty (with a warning: name the keys or set it)."""
    if settings.audit_salt is not None and settings.audit_salt.get_secret_value():
        return settings.audit_salt.get_secret_value().encode()
    if settings.backend == "local":
        return _read_or_create_secret(Path(settings.data_dir) / AUDIT_SALT_FILE).encode()
    log.warning("DYNASTORE_AUDIT_SALT is not set: audit actors of unnamed keys are unkeyed hashes; set it or name keys")
    return b""


def _read_or_create_secret(path: Path) -> str:
    value = path.read_text().strip() if path.exists() else ""
    if not value:
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value + "\n")
    return value


@dataclass
class Authenticator:
    keys: tuple[ApiKey, ...]
    public_read: bool = False
    verifiers: list[CredentialVerifier] = field(default_factory=list)
    # The audit secret, read on the first unnamed key (so building an app writes no file).
    secret: Callable[[], bytes] = lambda: b""
    _secret: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        return cls(
            keys=settings.api_key_specs(), public_read=settings.public_read, secret=lambda: audit_secret(settings)
        )

    def principal_of(self, spec: ApiKey) -> Principal:
        if spec.name:
            return Principal(spec.name, spec.role, spec.catalogs)
        if self._secret is None:
            self._secret = self.secret()
        return Principal(key_id(spec.key, self._secret), spec.role, spec.catalogs)

    @staticmethod
    def credential(authorization: str | None, x_api_key: str | None) -> str | None:
        """The presented credential from either header, or None."""
        if x_api_key and x_api_key.strip():
            return x_api_key.strip()
        if authorization:
            scheme, _, value = authorization.strip().partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise Unauthorized("Authorization header must be `Bearer <api key>`")
            return value.strip()
        return None

    def authenticate(self, credential: str | None) -> Principal | None:
        """The principal for a credential; None without one; ``Unauthorized`` for an unknown one."""
        if credential is None:
            return None
        for spec in self.keys:
            if hmac.compare_digest(spec.key.encode(), credential.encode()):
                return self.principal_of(spec)
        for verify in self.verifiers:
            principal = verify(credential)
            if principal is not None:
                return principal
        raise Unauthorized("unknown API key")

    def authorize(self, principal: Principal | None, role: str) -> Principal:
        """Check that the caller holds ``role`` (or better); returns the effective principal."""
        if role not in ROLE_RANK:
            raise ValueError(f"unknown role {role!r}")
        if principal is None:
            if role == "reader" and self.public_read:
                return ANONYMOUS_READER
            raise Unauthorized(
                f"this request needs an API key with role {role} or higher (Authorization: Bearer <key>)"
            )
        if not principal.has_role(role):
            raise Forbidden(f"this request needs role {role}; the key {principal.key_id} has role {principal.role}")
        return principal

    def authorize_in(self, principal: Principal | None, role: str, catalog_id: str | None) -> Principal:
        """``authorize`` plus, for a request about one catalog, the key's catalog scope."""
        effective = self.authorize(principal, role)
        if catalog_id is not None:
            effective.require_catalog(catalog_id)
        return effective


def ensure_dev_key(settings: Settings) -> tuple[Settings, str | None]:
    """For ``dynastore dev``: without configured keys, use (or create) ``<data_dir>/api-key`` as admin.

    Returns the settings to run with and the generated/reused key (None when keys were configured).
    """
    if settings.keys():
        return settings, None
    key = _read_or_create_secret(Path(settings.data_dir) / DEV_KEY_FILE)
    return settings.model_copy(update={"api_keys": f"{key}:admin"}), key
