"""ESGF publish envelopes (seed 003) applied to the STAC items of a catalog.

One entry point, ``StacEventService.apply``, for ``POST /events/stac`` and for a queue consumer:

- ``POST``: create or replace the item (its inline assets become asset records, as with a STAC PUT).
- ``PUT``: JSON merge patch of the item (``properties``, ``assets`` by key; null removes).
  ``{"hidden": true}`` hides it: the item leaves item search, listings and the items endpoint
  (404 for everyone) and its assets are soft-deleted; the item as it was is kept in its ``hide``
  audit entry. ``{"hidden": false}`` puts it back, with the assets the hide deleted.
- ``DELETE``: removes the item and every asset of it for good (files in the catalog's storage too).
  The caller checks the role (admin) before calling.

Every audit entry an envelope leaves carries ``via: esgf``, its ``event_id``, ``publisher``
(``package/version``), ``published`` (metadata.time) and the client id. Redelivery is idempotent:
an envelope whose event id is already in the item's recent audit trail is a ``duplicate`` (nothing
written); one older than the last applied envelope of the item is ``stale`` (nothing written).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import orjson

from dynastore.domain import time as dtime
from dynastore.domain.audit import audit_doc
from dynastore.domain.esgf import EsgfEnvelope
from dynastore.domain.ids import check_id
from dynastore.errors import Invalid, NotFound
from dynastore.ports import AssetWrite, Doc, MetadataStore
from dynastore.services.assets import AssetService, Scope
from dynastore.services.paging import every_asset
from dynastore.services.patching import validated
from dynastore.services.stac import StacService

HISTORY_SCAN = 100  # recent audit entries of the item searched for a redelivered event id
RESTORE_CHUNK = 200  # assets restored per atomic write when a hidden item comes back
QUEUE_ACTOR = "queue:esgf"  # the audit actor of envelopes consumed from a queue
Outcome = Literal["applied", "duplicate", "stale"]
log = logging.getLogger("dynastore.events")


def parse_envelope(body: Any) -> EsgfEnvelope:
    """A validated envelope; else ``Invalid`` (400, as every bad input of this service) naming each
    bad field (``envelope.metadata.publisher: Field required``)."""
    if not isinstance(body, dict):
        raise Invalid('an ESGF envelope is a JSON object {"metadata": {...}, "data": {"payload": {...}}}')
    return validated(EsgfEnvelope, body, "envelope")


@dataclass
class EventResult:
    outcome: Outcome
    action: str  # create, replace, update, hide, unhide, hard_delete
    catalog_id: str
    collection_id: str
    item_id: str
    event_id: str
    item: Doc | None = None  # the stored item when it is visible afterwards
    details: Doc = field(default_factory=dict)

    def to_doc(self) -> Doc:
        return {
            "outcome": self.outcome,
            "action": self.action,
            "event_id": self.event_id,
            "catalog_id": self.catalog_id,
            "collection_id": self.collection_id,
            "item_id": self.item_id,
            **self.details,
        }


class StacEventService:
    def __init__(self, store: MetadataStore, stac: StacService, assets: AssetService) -> None:
        self.store = store
        self.stac = stac
        self.assets = assets

    def apply(self, envelope: EsgfEnvelope, *, catalog_id: str, actor: str) -> EventResult:
        """Apply one envelope to ``catalog_id`` (idempotent; see the module docstring)."""
        check_id(catalog_id, "catalog_id")
        payload = envelope.payload
        col, item_id = payload.collection_id, payload.item_id
        self.stac.get_collection_doc(catalog_id, col)  # 404 naming the catalog or collection
        event_id = envelope.event_id()
        result = EventResult("applied", "", catalog_id, col, item_id, event_id)
        last = self._last_events(catalog_id, col, item_id)
        if any(entry["details"].get("event_id") == event_id for entry in last):
            return self._settled(result, "duplicate", last[0]["action"])
        if last and last[0]["details"].get("published", "") > envelope.metadata.time:
            result.details["newer_event_id"] = last[0]["details"].get("event_id")
            return self._settled(result, "stale", last[0]["action"])
        extra = envelope.audit_details(col)
        if payload.method == "POST":
            doc, created = self.stac.replace_item(
                catalog_id, col, item_id, payload.item, actor=actor, audit_extra=extra
            )
            result.action, result.item = ("create" if created else "replace"), doc
        elif payload.method == "PUT":
            self._put(result, dict(payload.item or {}), actor, extra)
        else:
            self._hard_delete(result, actor, extra)
        return result

    def handle_message(self, body: bytes | str | Doc, *, catalog_id: str | None = None) -> EventResult | None:
        """A queue consumer's entry (Pub/Sub, SQS): the message body is an envelope, applied to
        ``catalog_id`` (default ``DYNASTORE_ESGF_CATALOG_ID``) as actor ``queue:esgf``.

        An envelope that can never apply (invalid, or its catalog/collection/item is unknown) is logged
        and dropped (None), since redelivering it cannot help; a lost race (``Conflict``) raises, so
        the queue delivers it again (and it is then applied once, or found a duplicate)."""
        try:
            value = body if isinstance(body, dict) else orjson.loads(body)
            envelope = parse_envelope(value)
            return self.apply(envelope, catalog_id=catalog_id or self.stac.settings.esgf_catalog_id, actor=QUEUE_ACTOR)
        except (orjson.JSONDecodeError, Invalid, NotFound) as exc:
            log.error("dropping an ESGF envelope that cannot apply: %s", getattr(exc, "detail", exc))
            return None

    # ------------------------------------------------------------------------------ methods

    def _put(self, result: EventResult, patch: Doc, actor: str, extra: Doc) -> None:
        c, col, item_id = result.catalog_id, result.collection_id, result.item_id
        hidden = patch.pop("hidden", None)
        result.action = "update"
        if hidden is False:
            self._unhide(c, col, item_id, actor, extra)
            result.action = "unhide"
        if patch:
            self.stac.patch_item(c, col, item_id, patch, actor=actor, audit_extra=extra)
            result.action = "update"
        if hidden is True:
            self._hide(c, col, item_id, actor, extra)
            result.action = "hide"
        else:
            result.item = self.stac.get_item_doc(c, col, item_id)

    def _hide(self, c: str, col: str, item_id: str, actor: str, extra: Doc) -> None:
        if self._hidden_snapshot(c, col, item_id) is not None:
            return  # hidden already (by another envelope): nothing to do
        current = self.stac.get_item_doc(c, col, item_id)
        live = self.stac._live_item_assets(c, col, item_id)
        snapshot = {k: v for k, v in current.items() if k != "rev"}
        audit = audit_doc(c, "item", item_id, "hide", actor, snapshot=snapshot, assets=len(live), **extra)
        self.store.delete_item(c, col, item_id, audit=audit, expect_rev=current.get("rev"))
        self.stac._soft_delete_assets(c, live, actor)

    def _unhide(self, c: str, col: str, item_id: str, actor: str, extra: Doc) -> None:
        try:
            self.store.get_item(c, col, item_id)
            return  # visible already: nothing to restore
        except NotFound:
            pass
        hide = self._hidden_snapshot(c, col, item_id)
        if hide is None:
            raise NotFound(
                f"item {item_id!r} of collection {col!r} is not hidden (nor visible): publish it with method POST"
            )
        audit = audit_doc(c, "item", item_id, "unhide", actor, **extra)
        self.store.put_item(c, hide["details"]["snapshot"], expect_rev=0, audit=audit)
        self._restore_assets(c, col, item_id, since=hide["at"], actor=actor, extra=extra)

    def _restore_assets(self, c: str, col: str, item_id: str, *, since: str, actor: str, extra: Doc) -> None:
        """Restore the item's assets that were soft-deleted at or after the hide."""
        query = self.stac._item_scope(c, col, item_id, status=("deleted",), limit=RESTORE_CHUNK)
        while True:
            page = self.store.search_assets(query)
            now = dtime.now_iso()
            back = [d for d in page.items if (d.get("deleted_at") or "") >= since]
            if back:
                self.store.write_assets(
                    [
                        AssetWrite({**d, "status": "active", "deleted_at": None, "updated": now}, d.get("rev"))
                        for d in back
                    ],
                    audits=[audit_doc(c, "asset", d["id"], "restore", actor, **extra) for d in back],
                )
            if not page.next_token:
                return
            query = replace(query, token=page.next_token)

    def _hard_delete(self, result: EventResult, actor: str, extra: Doc) -> None:
        c, col, item_id = result.catalog_id, result.collection_id, result.item_id
        result.action = "hard_delete"
        try:
            current: Doc | None = self.store.get_item(c, col, item_id)
        except NotFound:
            current = None
        docs = self._all_item_assets(c, col, item_id)
        if current is None and not docs:
            raise NotFound(f"item {item_id!r} does not exist in collection {col!r} of catalog {c!r} (nor its assets)")
        audit = audit_doc(c, "item", item_id, "hard_delete", actor, assets=len(docs), **extra)
        if current is not None:
            self.store.delete_item(c, col, item_id, audit=audit, expect_rev=current.get("rev"))
        else:  # a hidden item: its trail still records the delete
            self.store.write_assets([], audits=[audit])
        scope = Scope(c, col, item_id)
        for doc in docs:
            try:
                self.assets.hard_delete(scope, doc["id"], actor=actor)
            except NotFound:
                continue  # removed meanwhile
        result.details["assets_deleted"] = len(docs)

    # ------------------------------------------------------------------------------ helpers

    def _all_item_assets(self, c: str, col: str, item_id: str) -> list[Doc]:
        query = self.stac._item_scope(c, col, item_id, status=("active", "missing", "deleted"), limit=1000)
        return list(every_asset(self.store, query))

    def _last_events(self, c: str, col: str, item_id: str, *, any_via: bool = False) -> list[Doc]:
        """The item's recent audit entries (newest first): those an envelope left, or (``any_via``)
        every one of this collection's item (entries without a collection are kept: they cannot be told apart)."""
        page = self.store.list_audit(c, record_type="item", record_id=item_id, limit=HISTORY_SCAN)
        out = []
        for entry in page.items:
            details = entry.get("details") or {}
            if details.get("collection_id", col) != col:
                continue
            if any_via or details.get("via") == "esgf":
                out.append(entry)
        return out

    def _hidden_snapshot(self, c: str, col: str, item_id: str) -> Doc | None:
        """The ``hide`` audit entry (with the item as it was) when the item is hidden now, else None."""
        try:
            self.store.get_item(c, col, item_id)
            return None
        except NotFound:
            pass
        last = next(iter(self._last_events(c, col, item_id, any_via=True)), None)
        if last is None or last["action"] != "hide" or "snapshot" not in last["details"]:
            return None
        return last

    def _settled(self, result: EventResult, outcome: Outcome, action: str) -> EventResult:
        """A duplicate or stale envelope: nothing written; the item as it is now."""
        result.outcome, result.action = outcome, action
        try:
            result.item = self.stac.get_item_doc(result.catalog_id, result.collection_id, result.item_id)
        except NotFound:
            result.item = None
        return result
