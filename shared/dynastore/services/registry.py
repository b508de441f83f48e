"""The registry of asset databases (seed 002): entries stored as ``MetadataStore`` service records of
kind ``aios_registry``, Mongo-style queries evaluated with the shared filter semantics, and health
checks with latency and last-seen.

An entry is either a remote Assets DB (``asset_registry_public_url``: its base URL, whose ``/health``
is probed: ``https://host/aios`` for another Dynastore, the old service's root for the old one) or
a catalog of this service (``catalog_id``: healthy while the catalog is active). ``check_all`` is
what the schedulers run (GCP ``scheduled``, AWS ``maintenance``, the ``dynastore dev`` timer); a
stopped instance is marked unhealthy by the first check after it stopped, ``last_seen`` keeping
the time it last answered.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dynastore.config import Settings, comma_list
from dynastore.domain import time as dtime
from dynastore.domain.aios import first_error
from dynastore.domain.filters import from_mongo, matches
from dynastore.domain.ids import check_id
from dynastore.errors import Conflict, Invalid, NotFound
from dynastore.ports import Doc, MetadataStore
from dynastore.services.catalogs import CatalogService
from dynastore.services.hrefs import is_public_host

log = logging.getLogger("dynastore.registry")

KIND = "aios_registry"
SEED_FIELDS = (
    "asset_registry_id",
    "asset_registry_name",
    "asset_registry_metadata",
    "asset_registry_tags",
    "asset_registry_public_url",
)
MAX_ENTRIES = 10_000

# (url, timeout seconds) → None when the Assets DB answered 2xx; raises otherwise.
Probe = Callable[[str, float], None]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A registered URL is probed itself: a redirect (to an internal address, say) is an answer, not a hop."""

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        raise OSError(f"HTTP {code}: redirects are not followed (register the URL it redirects to)")


_OPENER = urllib.request.build_opener(_NoRedirects)


def http_probe(url: str, timeout: float) -> None:
    """GET ``url`` (no redirects); any answer other than 2xx, or none within ``timeout``, raises."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with _OPENER.open(request, timeout=timeout) as response:
        if not 200 <= response.status < 300:
            raise OSError(f"HTTP {response.status}")


def probe_refusal(url: str, allowed_hosts: frozenset[str]) -> str | None:
    """Why the health check will not call ``url`` (None: it may). An editor registers the URL and the
    service calls it: only https to public addresses, unless the host is in
    ``DYNASTORE_AIOS_REGISTRY_ALLOWED_HOSTS`` (e.g. 127.0.0.1 in development), so the registry cannot
    be used to reach the deployment's private network or the cloud metadata server."""
    host = urlsplit(url).hostname or ""
    if host.lower() in allowed_hosts:
        return None
    if url.startswith("https://") and is_public_host(host, resolve=True):
        return None
    return (
        f"{url}: not probed: the health check calls only https URLs of public hosts, or hosts listed in "
        "DYNASTORE_AIOS_REGISTRY_ALLOWED_HOSTS"
    )


class EntryFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    asset_registry_id: str | None = None
    asset_registry_name: str = Field(default="", max_length=200)
    asset_registry_metadata: dict[str, Any] = Field(default_factory=dict)
    asset_registry_tags: list[str] = Field(default_factory=list)
    asset_registry_public_url: str = Field(default="", max_length=2000)
    catalog_id: str | None = None

    @field_validator("asset_registry_public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL: the base URL of the Assets DB (its /health is probed)")
        return value.rstrip("/")


def _fields(body: Any, *, partial: bool = False) -> EntryFields:
    if not isinstance(body, dict):
        raise Invalid(
            'a registry entry is a JSON object such as {"asset_registry_name": "models", '
            '"asset_registry_public_url": "https://host/aios"}'
        )
    try:
        fields = EntryFields.model_validate(body)
    except ValidationError as exc:
        raise Invalid(f"registry field {first_error(exc)}; fields: {', '.join(SEED_FIELDS)}, catalog_id") from None
    if fields.catalog_id is not None:
        check_id(fields.catalog_id, "catalog_id")
    if not partial and not fields.asset_registry_public_url and not fields.catalog_id:
        raise Invalid(
            "a registry entry needs asset_registry_public_url (a remote Assets DB) or catalog_id "
            "(a catalog of this service)"
        )
    return fields


def entry_view(doc: Doc) -> Doc:
    """The seed's AssetsDBRegistry fields, plus ``catalog_id`` and the last ``health``."""
    view = {name: doc.get(name) for name in SEED_FIELDS}
    view["catalog_id"] = doc.get("catalog_id")
    view["health"] = doc.get("health") or {"status": "unknown", "last_seen": None}
    return view


class RegistryService:
    def __init__(
        self, settings: Settings, store: MetadataStore, catalogs: CatalogService, probe: Probe = http_probe
    ) -> None:
        self.settings = settings
        self.store = store
        self.catalogs = catalogs
        self.probe = probe
        self.allowed_hosts = frozenset(h.lower() for h in comma_list(settings.aios_registry_allowed_hosts))

    # ------------------------------------------------------------------------------ CRUD
    def create(self, body: Any) -> Doc:
        fields = _fields(body)
        entry_id = check_id(fields.asset_registry_id or str(uuid.uuid4()), "asset_registry_id")
        now = dtime.now_iso()
        doc = {
            **fields.model_dump(),
            "id": entry_id,
            "asset_registry_id": entry_id,
            "health": {"status": "unknown", "last_seen": None},
            "created": now,
            "updated": now,
        }
        try:
            return self.store.put_record(KIND, doc, expect_rev=0)
        except Conflict:
            raise Conflict(f"registry entry {entry_id!r} exists already; update it with PUT") from None

    def get(self, entry_id: str) -> Doc:
        try:
            return self.store.get_record(KIND, check_id(entry_id, "asset_registry_id"))
        except NotFound:
            raise NotFound(f"registry entry {entry_id!r} does not exist") from None

    def update(self, entry_id: str, body: Any) -> Doc:
        fields = _fields(body, partial=True)
        if fields.asset_registry_id not in (None, entry_id):
            raise Invalid("asset_registry_id cannot be changed")
        given = {k: v for k, v in fields.model_dump(exclude_unset=True).items() if k != "asset_registry_id"}
        for _ in range(5):
            current = self.get(entry_id)
            merged = {**current, **given, "updated": dtime.now_iso()}
            if not merged.get("asset_registry_public_url") and not merged.get("catalog_id"):
                raise Invalid("the entry would have neither asset_registry_public_url nor catalog_id")
            try:
                return self.store.put_record(KIND, merged, expect_rev=current["rev"])
            except Conflict:
                continue
        raise Conflict(f"registry entry {entry_id!r} kept changing; retry")

    def delete(self, entry_id: str) -> None:
        try:
            self.store.delete_record(KIND, check_id(entry_id, "asset_registry_id"))
        except NotFound:
            raise NotFound(f"registry entry {entry_id!r} does not exist") from None

    def all(self) -> list[Doc]:
        docs: list[Doc] = []
        token: str | None = None
        while True:
            page = self.store.list_records(KIND, limit=1000, token=token)
            docs.extend(page.items)
            token = page.next_token
            if not token or len(docs) >= MAX_ENTRIES:
                return docs

    def query(self, body: Any) -> list[Doc]:
        """Entries matching a Mongo-style query on the stored fields (``{}``: all)."""
        expr = from_mongo(body if body is not None else {})
        return [doc for doc in self.all() if matches(expr, doc)]

    # ------------------------------------------------------------------------------ health
    def check(self, entry_id: str) -> Doc:
        """Probe one entry now and store the result; returns the health record."""
        entry = self.get(entry_id)
        health = self._probe(entry)
        return self._store_health(entry_id, health)

    def check_all(self) -> Doc:
        """What the schedulers run: every entry probed once (each with its own timeout)."""
        healthy: list[str] = []
        unhealthy: list[str] = []
        for entry in self.all():
            try:
                health = self._store_health(entry["id"], self._probe(entry))
            except NotFound:
                continue  # removed meanwhile
            (healthy if health["status"] == "healthy" else unhealthy).append(entry["id"])
        return {"checked": len(healthy) + len(unhealthy), "healthy": healthy, "unhealthy": unhealthy}

    def _probe(self, entry: Doc) -> Doc:
        started = time.monotonic()
        url = entry.get("asset_registry_public_url") or ""
        try:
            if entry.get("catalog_id"):
                self.catalogs.require_active(entry["catalog_id"])
                target = f"catalog {entry['catalog_id']!r}"
            else:
                target = f"{url}/health"
                refusal = probe_refusal(target, self.allowed_hosts)
                if refusal is not None:
                    raise ValueError(refusal)
                self.probe(target, self.settings.aios_health_timeout_seconds)
            status, detail = "healthy", f"{target} answered"
        except (OSError, NotFound, urllib.error.URLError, ValueError) as exc:
            status, detail = "unhealthy", f"{url or entry.get('catalog_id')}: {exc}"
        latency_ms = round((time.monotonic() - started) * 1000, 1)
        return {"status": status, "latency_ms": latency_ms, "checked_at": dtime.now_iso(), "detail": detail}

    def _store_health(self, entry_id: str, health: Doc) -> Doc:
        for _ in range(5):
            current = self.get(entry_id)
            previous = current.get("health") or {}
            last_seen = health["checked_at"] if health["status"] == "healthy" else previous.get("last_seen")
            record = {**health, "last_seen": last_seen}
            try:
                self.store.put_record(KIND, {**current, "health": record}, expect_rev=current["rev"])
                return {"asset_registry_id": entry_id, "healthy": health["status"] == "healthy", **record}
            except Conflict:
                continue
        raise Conflict(f"registry entry {entry_id!r} kept changing; retry the health check")


class RegistryHealthTimer:
    """``dynastore dev``: ``check_all`` every ``DYNASTORE_AIOS_HEALTH_INTERVAL_SECONDS`` on a thread."""

    def __init__(self, registry: RegistryService, interval: float) -> None:
        self.registry = registry
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="aios-registry-health", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.registry.check_all()
            except Exception:  # a failed round is logged; the next one runs on time
                log.exception("registry health check failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.registry.settings.aios_health_timeout_seconds + 5)
