"""The local metadata store: every ``ports.MetadataStore`` method on one SQLite file.

The methods live in three mixins by record kind (``sqlite_catalogs``: catalogs, collections,
items and item search; ``sqlite_assets``: assets, search and export; ``sqlite_records``: audit,
ingest state, jobs and purge). This class opens the database and creates the schema.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from dynastore.backends.local.sqlite_assets import AssetRecords
from dynastore.backends.local.sqlite_base import SqliteDatabase
from dynastore.backends.local.sqlite_catalogs import CatalogRecords
from dynastore.backends.local.sqlite_records import OtherRecords
from dynastore.backends.local.sqlite_schema import MIGRATIONS, SCHEMA, SCHEMA_VERSION
from dynastore.backends.local.sqlite_service_records import ServiceRecords
from dynastore.errors import Unavailable
from dynastore.ports import MetadataStoreBase


class SqliteMetadataStore(CatalogRecords, AssetRecords, OtherRecords, ServiceRecords, MetadataStoreBase):
    """``ports.MetadataStore`` on SQLite (WAL, FTS5 trigram, JSON1, R*Tree)."""

    def __init__(self, path: Path | str) -> None:
        self.db = SqliteDatabase(path)
        self.path = self.db.path
        version = self.db.query_one("PRAGMA user_version")[0]
        if version > SCHEMA_VERSION:
            raise Unavailable(
                f"{self.path} was written by a newer dynastore (schema {version} > {SCHEMA_VERSION}); upgrade"
            )
        migrate = " ".join(script for to, script in sorted(MIGRATIONS.items()) if 0 < version < to)
        self.db.executescript(f"BEGIN IMMEDIATE; {SCHEMA} {migrate} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")

    def health(self) -> None:
        self.db.health()

    def batch(self) -> AbstractContextManager[object]:
        """The writes inside share one transaction."""
        return self.db.write()

    def close(self) -> None:
        self.db.close()
