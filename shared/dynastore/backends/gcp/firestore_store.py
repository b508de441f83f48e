"""``ports.MetadataStore`` on Firestore (native mode).

Collection layout (every collection name starts with ``settings.gcp_collection_prefix``, ``{p}``):

| collection | document id | what |
|---|---|---|
| ``{p}catalogs`` | ``{catalog}`` | catalogs |
| ``{p}collections`` | ``{catalog}!{collection}`` | STAC collections |
| ``{p}items`` | ``{catalog}!{collection}!{item}`` | STAC items |
| ``{p}assets`` | ``{catalog}!{asset}`` | assets |
| ``{p}audit`` | the audit event id | audit trail |
| ``{p}jobs`` | the job id | jobs |
| ``{p}events`` | sha256 of the event id | claimed events (``expires_at``: TTL; ``claimant``: ``backends.claims``) |
| ``{p}ingest`` | sha256 of ``bucket/key`` | what indexing did with an object |

Every document keeps the record exactly as the port received it in ``doc`` (orjson bytes,
exempt from indexing: no type drift, nested arrays allowed, no 1,500-byte index limit) next to
the *native* fields the queries filter and sort on. Native fields are always written, ``null``
never: a missing field would drop the document from the index (sort fields use ``''`` / ``-1``
for "none", which also reproduces the local backend's order). ``!`` sorts before every character
an id may hold, so document-name order is (catalog, id) order: the default order of a search,
kept by Firestore without a composite index.

Search (``firestore_scan``): the filters Firestore can apply exactly become query filters
(equality, ``in``, one ``array-contains[-any]``, the ``tri.<gram>`` equalities of substring
search); everything else (datetime overlap, bbox through the item's geometry, CQL2/Mongo
``filter``, more tags, ...) is checked exactly on each document read, with a read budget per
page. Composite indexes the queries need are declared in ``firestore_indexes.json``
(``dynastore.backends.gcp.indexes``); the emulator does not enforce them.

Multi-record writes are one atomic batch commit whose every write is conditional on the version
read (``create`` where nothing was, an ``update_time`` precondition elsewhere): read, check
``rev``, write, audit, and re-read and re-plan if another writer got in between (optimistic
concurrency). Nothing is read inside a transaction only to check its revision: racing writers that
each read-locked the record they all write deadlock until the emulator's lock timeout aborts every
one of them. A write that must also see another record (``put_item`` and ``write_items`` their
collection) commits in a transaction that reads only that record. ``write_assets`` above
``TXN_WRITES`` documents is split into conditional commits after checking every revision first; if
a later commit fails the earlier ones are rolled back by compensating writes (restore what was
there, compare-and-set too), so a conflict leaves no partial bulk behind; ``write_items`` (items
with their assets) is one commit when it fits, else the same checked parts. A commit that went
through but whose answer was lost is recognised by its audit entry (``_committed``).

Code, by record kind as in the local store: ``firestore_catalogs`` (catalogs, collections, items,
item search), ``firestore_assets`` (assets, search, export), ``firestore_records`` (audit, event
claims, ingest records, jobs, purge), on ``firestore_base`` (reads, compare-and-set, versioned
puts, the search strategy) and ``firestore_common`` (limits, native fields per record kind).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dynastore.backends.gcp.firestore_assets import AssetRecords
from dynastore.backends.gcp.firestore_catalogs import CatalogRecords
from dynastore.backends.gcp.firestore_records import OtherRecords
from dynastore.backends.gcp.firestore_scan import ReadStats
from dynastore.backends.gcp.firestore_service_records import ServiceRecords
from dynastore.backends.gcp.lazy_client import LazyClient
from dynastore.ports import MetadataStoreBase


class FirestoreMetadataStore(CatalogRecords, AssetRecords, OtherRecords, ServiceRecords, MetadataStoreBase):
    """``ports.MetadataStore`` on a Firestore client (see the module docstring for the layout).

    ``client``: a ``firestore.Client``, or a function that makes one on first use (a cold start
    whose first requests read no records does not import the Firestore SDK)."""

    def __init__(
        self,
        client: Any,
        *,
        prefix: str = "",
        scan_budget: int = 2000,
        candidate_cap: int = 2000,
        rest_probe: Callable[[str], None] | None = None,
    ) -> None:
        self._client = LazyClient(client)
        # ``health`` before the client exists: a REST read (firestore_health), no SDK import
        self._rest_probe = rest_probe
        self.prefix = prefix
        self.scan_budget = scan_budget
        self.candidate_cap = candidate_cap
        self.stats = ReadStats()
        # Tests set this to enforce production's composite indexes (the emulator needs none).
        self.index_guard = None

    @property
    def db(self) -> Any:  # type: ignore[override]
        return self._client.get()

    def health(self) -> None:
        if self._client.made is None and self._rest_probe is not None:
            self._rest_probe(self.prefix + "catalogs/health-probe")
            return
        self._get(self.col("catalogs").document("health-probe"), "Firestore health check")

    def close(self) -> None:
        close = getattr(self._client.made, "close", None)
        if callable(close):
            close()
