"""``ports.MetadataStore`` on DynamoDB: one table (``dynamo_table``), records as JSON text.

Item layout (``pk`` / ``sk``; ``gsi1`` and ``gsi2`` are sparse, overloaded indexes):

| record | pk | sk | gsi1pk / gsi1sk | gsi2pk / gsi2sk |
|---|---|---|---|---|
| catalog | ``CAT`` | catalog id | | |
| collection | ``C#{catalog}`` | collection id | | |
| item | ``I#{catalog}`` | ``{collection}!{item}`` | | |
| asset | ``A#{catalog}`` | asset id | ``AU#{catalog}`` / ``{updated}!{id}`` (export) | |
| audit event | ``U#{catalog}`` | ``{at}!{seq}!{id}`` | ``U#{catalog}#{type}#{id}`` / same (history) | |
| job | ``J#{job}`` | ``-`` | ``JOBS`` / ``{created}!{id}`` (newest first) | ``JC#{catalog}`` / same |
| ingest record | ``N#{bucket}`` | key | ``NR#{catalog}`` / ``{r}!{at}!{b}/{k}`` | ``NC#{catalog}`` / ``{b}/{k}`` |
| claim | ``claim#{key}`` | ``-`` (``expires_at``: TTL; ``claimant``: ``backends.claims`` token) | | |

An ingest record (bucket ``b``, key ``k``) in ``gsi1`` lists a catalog's recent records, failures
first: ``r`` is 1 for a failure and 0 otherwise, read in descending order (records written before
this index entry existed lack it until they are written again).

Each item keeps the record exactly as the port received it in ``doc`` (JSON text: no Decimal
drift, no empty-set rules) and its ``rev`` as a number, on which every write is conditional
(``attribute_not_exists(pk)`` to create, ``rev = :read`` to replace): read, check ``rev``, write
with the audit event in one ``TransactWriteItems``, and re-read and re-plan if another writer got
in between. Each Put also stores ``txn``, its transaction's random token: a transaction whose
answer was lost (botocore re-sends it; moto ignores the idempotency token) is told from a lost race
by it (``DynamoBase._transact``). A transaction holds at most 100 items: ``write_assets`` splits larger bulks and
undoes the committed parts if a later one fails; collection/item deletes remove the records past
the first 98 in batches first and the target last, so a retried delete finishes the job.

Searches read the catalogs' partitions in key order (default order: catalog, then id) and check
each record with the reference semantics (``domain.search.asset_matches`` / ``item_matches``),
at most ``scan_budget`` items per page (then a short page whose token resumes after the last item
read); substring ``q`` is one of those checks. ``sortby`` reads up to ``sort_cap`` items and sorts
in memory (``dynamo_sort``). Counts read the partitions. Index reads (export, jobs listing,
history) are eventually consistent on DynamoDB.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from dynastore.backends.aws._errors import sdk_errors
from dynastore.backends.aws.dynamo_assets import AssetRecords
from dynastore.backends.aws.dynamo_base import SEP, Query, attr, key, next_seq, record, unpack
from dynastore.backends.aws.dynamo_catalogs import CATALOGS, CatalogRecords
from dynastore.backends.aws.dynamo_service_records import ServiceRecords
from dynastore.backends.aws.dynamo_table import DynamoClaims
from dynastore.backends.checks import check_limit, require_str
from dynastore.backends.gcp.lazy_client import LazyClient
from dynastore.domain.search import Page
from dynastore.errors import Invalid, NotFound
from dynastore.ports import Doc, IngestRecord, MetadataStoreBase

JOB_FILTERS = ("status", "task_id", "catalog_id", "asset_id")


class DynamoMetadataStore(CatalogRecords, AssetRecords, ServiceRecords, MetadataStoreBase):
    def __init__(self, client: Any, *, table: str, scan_budget: int = 2000, sort_cap: int = 20_000) -> None:
        """``client``: a boto3 DynamoDB client, or a function that makes one on first use."""
        self._client = LazyClient(client)
        self.table = table
        self.scan_budget = scan_budget
        self.sort_cap = sort_cap
        self.claims = DynamoClaims(lambda: self.client, table)

    def health(self) -> None:
        with sdk_errors(f"DynamoDB table {self.table!r}"):
            self.client.describe_table(TableName=self.table)

    # ------------------------------------------------------------------ audit trail
    def list_audit(
        self,
        catalog_id: str,
        *,
        record_type: str | None = None,
        record_id: str | None = None,
        limit: int = 100,
        token: str | None = None,
    ) -> Page[Doc]:
        signature = f"audit:{catalog_id}:{record_type}:{record_id}"
        if record_type is not None and record_id is not None:
            query = Query(f"U#{catalog_id}#{record_type}#{record_id}", index="gsi1", forward=False)
            return self._page(query, signature, limit, token)

        def check(doc: Doc) -> bool:
            return (record_type is None or doc.get("record_type") == record_type) and (
                record_id is None or doc.get("record_id") == record_id
            )

        return self._page(Query(f"U#{catalog_id}", forward=False), signature, limit, token, check)

    # ------------------------------------------------------------------ ingest state
    def claim_event(self, event_id: str, *, ttl_seconds: float) -> bool:
        if not isinstance(event_id, str) or not event_id:
            raise Invalid("an event id must be a non-empty string")
        return self.claims.claim(f"event#{event_id}", ttl_seconds)

    def _ingest_item(self, rec: IngestRecord) -> dict[str, Any]:
        gsi = {}
        if rec.catalog_id is not None:
            gsi = {
                "gsi1pk": f"NR#{rec.catalog_id}",
                "gsi1sk": f"{_ingest_rank(rec.status)}{SEP}{rec.at}{SEP}{rec.bucket}/{rec.key}",
                "gsi2pk": f"NC#{rec.catalog_id}",
                "gsi2sk": f"{rec.bucket}/{rec.key}",
            }
        return record(f"N#{rec.bucket}", rec.key, dataclasses.asdict(rec), **gsi)

    def list_ingest_records(
        self, catalog_id: str, *, status: str | None = None, limit: int = 100, token: str | None = None
    ) -> Page[IngestRecord]:
        """One descending query of ``gsi1`` (``{rank}!{at}!...``: failures rank above the rest)."""
        rank = None if status is None else f"{_ingest_rank(status)}{SEP}"
        query = Query(f"NR#{catalog_id}", index="gsi1", forward=False, begins_with=rank)
        check = None if status in (None, "failed") else (lambda doc: doc.get("status") == status)
        page = self._page(query, f"ingest:{catalog_id}:{status}", limit, token, check)
        return Page([_ingest_record(doc) for doc in page.items], page.next_token, extra=page.extra)

    def put_ingest_record(self, record: IngestRecord) -> None:
        with sdk_errors("ingest record"):
            self.client.put_item(TableName=self.table, Item=self._ingest_item(record))

    def put_ingest_records(self, records: Sequence[IngestRecord]) -> None:
        latest = {(r.bucket, r.key): r for r in records}  # one request may not name a key twice
        self._batch_write([{"PutRequest": {"Item": self._ingest_item(r)}} for r in latest.values()], "ingest records")

    def get_ingest_record(self, bucket: str, key: str) -> IngestRecord:
        item = self._get_item(f"N#{bucket}", key, "ingest record")
        if item is None:
            raise NotFound(f"no ingest record for {key!r} in bucket {bucket!r}")
        return _ingest_record(unpack(item))

    def get_ingest_records(self, bucket: str, keys: Sequence[str]) -> list[IngestRecord]:
        items = self._batch_get([key(f"N#{bucket}", k) for k in dict.fromkeys(keys)], "ingest records")
        return [_ingest_record(unpack(item)) for item in items]

    # ------------------------------------------------------------------ jobs
    def get_job(self, job_id: str) -> Doc:
        what = f"job {job_id!r}"
        return self._get_existing(f"J#{job_id}", "-", what, f"{what} does not exist")

    def put_job(self, doc: Doc, *, expect_rev: int | None) -> Doc:
        job_id = require_str(doc, "id", "a job")
        what = f"job {job_id!r}"

        def build(stored: Doc, current: dict[str, Any] | None) -> dict[str, Any]:
            order = attr(current, "gsi1sk") or f"{stored.get('created') or ''}{SEP}{next_seq():020d}{SEP}{job_id}"
            catalog = stored.get("catalog_id")
            by_catalog = {"gsi2pk": f"JC#{catalog}", "gsi2sk": order} if isinstance(catalog, str) else {}
            return record(f"J#{job_id}", "-", stored, gsi1pk="JOBS", gsi1sk=order, **by_catalog)

        return self._put_versioned(f"J#{job_id}", "-", doc, expect_rev, None, build, what)

    def list_jobs(
        self, *, filters: dict[str, str] | None = None, limit: int = 100, token: str | None = None
    ) -> Page[Doc]:
        wanted: dict[str, str] = {}
        for name, value in (filters or {}).items():
            if name not in JOB_FILTERS:
                raise Invalid(f"cannot filter jobs by {name!r}; use one of {', '.join(JOB_FILTERS)}")
            if value is not None:
                wanted[name] = value
        check_limit(limit)
        catalog = wanted.get("catalog_id")
        query = (
            Query(f"JC#{catalog}", index="gsi2", forward=False)
            if catalog
            else Query("JOBS", index="gsi1", forward=False)
        )
        check = (lambda doc: all(doc.get(k) == v for k, v in wanted.items())) if wanted else None
        signature = "jobs:" + ",".join(f"{k}={v}" for k, v in sorted(wanted.items()))
        return self._page(query, signature, limit, token, check)

    # ------------------------------------------------------------------ lifecycle
    def purge_catalog(self, catalog_id: str, *, batch_size: int = 500) -> int:
        """Deletes assets, items, collections, audit events, ingest records and jobs of the catalog,
        then the catalog, at most ``batch_size`` records per call."""
        if batch_size < 1:
            raise Invalid("batch_size must be at least 1")
        sources = [
            Query(f"A#{catalog_id}"),
            Query(f"I#{catalog_id}"),
            Query(f"C#{catalog_id}"),
            Query(f"U#{catalog_id}"),
            Query(f"NC#{catalog_id}", index="gsi2"),
            Query(f"JC#{catalog_id}", index="gsi2"),
        ]
        doomed: list[dict[str, Any]] = []
        for source in sources:
            for item in self._query(source, page_size=min(batch_size, 1000)):
                doomed.append(key(str(attr(item, "pk")), str(attr(item, "sk"))))
                if len(doomed) >= batch_size:
                    break
            if len(doomed) >= batch_size:
                break
        if len(doomed) < batch_size and self._get_item(CATALOGS, catalog_id, "purge") is not None:
            doomed.append(key(CATALOGS, catalog_id))
        self._batch_write([{"DeleteRequest": {"Key": k}} for k in doomed], "purge")
        return len(doomed)


def _ingest_record(data: dict[str, Any]) -> IngestRecord:
    fields = {f.name for f in dataclasses.fields(IngestRecord)}
    return IngestRecord(**{k: v for k, v in data.items() if k in fields})


def _ingest_rank(status: str) -> str:
    """Failures sort above every other status in a catalog's recent ingest records."""
    return "1" if status == "failed" else "0"
