"""The ESGF publish envelope of seed 003 (``POST /events/stac`` and its queue twin).

An envelope is ``{"metadata": {auth, publisher, time, schema_version}, "data": {type, version,
payload: {method, collection_id, item_id, item}}}``. ``method`` POST replaces (or creates) the
item, PUT merge-patches it (``{"hidden": true|false}`` hides or restores it), DELETE removes it
for good. These models are the one validation of it, so the HTTP route and the queue handler reject
the same envelopes with the same words (``services.stac_events.parse_envelope``).
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dynastore.domain import time as dtime
from dynastore.domain.ids import check_id
from dynastore.errors import Invalid

SUPPORTED_SCHEMA_VERSIONS = ("1.0.0",)
METHODS = ("POST", "PUT", "DELETE")


class EsgfAuth(BaseModel):
    model_config = ConfigDict(extra="allow")

    client_id: str = Field(min_length=1)
    server: str = Field(min_length=1)


class EsgfPublisher(BaseModel):
    model_config = ConfigDict(extra="allow")

    package: str = Field(min_length=1)
    version: str = Field(min_length=1)


class EsgfMetadata(BaseModel):
    model_config = ConfigDict(extra="allow")

    auth: EsgfAuth
    publisher: EsgfPublisher
    time: str
    schema_version: str
    event_id: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        try:
            normalized = dtime.normalize(value, "time")
        except Invalid as exc:
            raise ValueError(exc.detail) from None
        assert normalized is not None
        return normalized

    @field_validator("schema_version")
    @classmethod
    def _schema_version(cls, value: str) -> str:
        if value not in SUPPORTED_SCHEMA_VERSIONS:
            raise ValueError(
                f"schema_version {value!r} is not supported; this service reads {', '.join(SUPPORTED_SCHEMA_VERSIONS)}"
            )
        return value


class EsgfPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["POST", "PUT", "DELETE"]
    collection_id: str
    item_id: str
    item: dict[str, Any] | None = None

    @field_validator("collection_id", "item_id")
    @classmethod
    def _ids(cls, value: str) -> str:
        try:
            return check_id(value)
        except Invalid as exc:
            raise ValueError(exc.detail) from None

    @model_validator(mode="after")
    def _item_fits_method(self) -> EsgfPayload:
        if self.method in ("POST", "PUT") and self.item is None:
            raise ValueError(f"method {self.method} needs `item` (a STAC Item, or the fields to change for PUT)")
        if self.method == "DELETE" and self.item is not None:
            raise ValueError("method DELETE takes no `item`")
        if self.item is not None and self.item.get("id") not in (None, self.item_id):
            raise ValueError(f"item.id {self.item.get('id')!r} differs from item_id {self.item_id!r}")
        if self.item is not None and self.item.get("collection") not in (None, self.collection_id):
            raise ValueError(
                f"item.collection {self.item.get('collection')!r} differs from collection_id {self.collection_id!r}"
            )
        hidden = (self.item or {}).get("hidden")
        if hidden is not None and (self.method != "PUT" or not isinstance(hidden, bool)):
            raise ValueError("`hidden` is a boolean sent with method PUT (true hides the item, false restores it)")
        return self


class EsgfData(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: Literal["STAC"]
    version: str = ""
    payload: EsgfPayload


class EsgfEnvelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metadata: EsgfMetadata
    data: EsgfData

    @property
    def payload(self) -> EsgfPayload:
        return self.data.payload

    def event_id(self) -> str:
        """``metadata.event_id`` when the publisher sends one, else ``sha256:`` of publisher, time and
        payload (canonical JSON): a redelivered envelope has the same id, a changed one another."""
        if self.metadata.event_id:
            return self.metadata.event_id
        basis = {
            "publisher": self.metadata.publisher.model_dump(mode="json"),
            "client_id": self.metadata.auth.client_id,
            "time": self.metadata.time,
            "payload": self.payload.model_dump(mode="json"),
        }
        return "sha256:" + hashlib.sha256(orjson.dumps(basis, option=orjson.OPT_SORT_KEYS)).hexdigest()

    def audit_details(self, collection_id: str) -> dict[str, Any]:
        """What every audit entry the envelope leaves carries (publisher, time, event id)."""
        publisher = self.metadata.publisher
        return {
            "via": "esgf",
            "event_id": self.event_id(),
            "collection_id": collection_id,
            "publisher": f"{publisher.package}/{publisher.version}",
            "published": self.metadata.time,
            "client_id": self.metadata.auth.client_id,
            "auth_server": self.metadata.auth.server,
            "method": self.payload.method,
        }
