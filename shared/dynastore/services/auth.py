"""API keys and roles (pure: no HTTP, no I/O except the dev key file).

Keys come from ``DYNASTORE_API_KEYS`` (``key:role,key:role``); roles rank reader < editor < admin.
A request presents its key as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. With
``DYNASTORE_PUBLIC_READ`` a request without a key is an anonymous reader. Other credential
checkers (e.g. a Google-signed ID token on GCP) plug in through ``Authenticator.verifiers``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dynastore.config import ROLE_RANK, Settings
from dynastore.errors import Forbidden, Unauthorized

ROLES = tuple(ROLE_RANK)
DEV_KEY_FILE = "api-key"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a non-secret key id (used as the audit ``actor``) and a role."""

    key_id: str
    role: str

    def has_role(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK[role]


ANONYMOUS_READER = Principal("anonymous", "reader")

# A verifier gets the presented credential and returns a Principal, or None when it does not know it.
CredentialVerifier = Callable[[str], Principal | None]


def key_id(key: str) -> str:
    """A stable, non-secret name for a key: ``key-`` + 12 hex of its SHA-256."""
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass
class Authenticator:
    keys: dict[str, str]
    public_read: bool = False
    verifiers: list[CredentialVerifier] = field(default_factory=list)

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        return cls(keys=settings.keys(), public_read=settings.public_read)

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
        for known, role in self.keys.items():
            if hmac.compare_digest(known.encode(), credential.encode()):
                return Principal(key_id(known), role)
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


def ensure_dev_key(settings: Settings) -> tuple[Settings, str | None]:
    """For ``dynastore dev``: without configured keys, use (or create) ``<data_dir>/api-key`` as admin.

    Returns the settings to run with and the generated/reused key (None when keys were configured).
    """
    if settings.keys():
        return settings, None
    path = Path(settings.data_dir) / DEV_KEY_FILE
    key = path.read_text().strip() if path.exists() else ""
    if not key:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
    return settings.model_copy(update={"api_keys": f"{key}:admin"}), key
