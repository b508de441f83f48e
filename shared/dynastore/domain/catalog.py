"""Catalogs (projects) and the STAC Collections and Items inside them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dynastore.domain import time as dtime
from dynastore.domain.ids import check_id

CatalogStatus = Literal["active", "retired"]


class StorageBinding(BaseModel):
    """Where a catalog's files live: a bucket and a key prefix (``{catalog}/`` by default)."""

    model_config = ConfigDict(extra="forbid")

    bucket: str
    prefix: str
    queue: str | None = None


class CatalogFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    title: str | None = None
    description: str | None = None
    keywords: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        return None if value is None else check_id(value, "catalog id")


class Catalog(CatalogFields):
    id: str  # type: ignore[assignment]
    status: CatalogStatus = "active"
    storage: StorageBinding | None = None
    created: str = Field(default_factory=dtime.now_iso)
    updated: str = Field(default_factory=dtime.now_iso)
    retired_at: str | None = None
    rev: int = 0

    def to_doc(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
