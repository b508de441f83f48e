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
| ``{p}events`` | sha256 of the event id | claimed storage events (``expires_at``: TTL policy) |
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
concurrency; ``put_item``, which must also see its collection, and collection/item deletes use
transactions). ``write_assets`` above ``TXN_WRITES`` documents is split into conditional commits
after checking every revision first; if a later commit fails the earlier ones are rolled back by compensating
writes (restore what was there), so a conflict leaves no partial bulk behind.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson

from dynastore.backends.gcp._errors import MissingIndex, sdk_errors
from dynastore.backends.gcp.firestore_scan import Filter, Order, ReadStats, Row, Scan
from dynastore.backends.gcp.grams import gram_key, gram_map, query_grams
from dynastore.domain.asset import asset_level, search_text, time_bounds
from dynastore.domain.search import (
    ASSET_SORT_FIELDS,
    ITEM_SORT_FIELDS,
    AssetQuery,
    ItemQuery,
    Page,
    asset_matches,
    free_text_terms,
    item_matches,
    item_search_text,
    item_time_bounds,
)
from dynastore.errors import Conflict, Invalid, NotFound, Unavailable
from dynastore.ports import AssetWrite, Doc, IngestRecord

SEP = "!"
MAX_LIMIT = 10_000
MAX_IN = 30  # values of one `in` / `array-contains-any` filter, and disjunctions per query
TXN_WRITES = 400  # documents per commit (Firestore takes 500 writes and 10 MiB per commit)
CAS_ATTEMPTS = 50
DELETE_BATCH = 400
EXPORT_BATCH = 2000
JOB_FILTERS = ("status", "task_id", "catalog_id", "asset_id")

# Native sort fields (what `sortby` names become) and how "none" is stored for them.
ASSET_SORT_NATIVE = {
    "id": "id",
    "catalog_id": "catalog_id",
    "collection_id": "collection_id",
    "item_id": "item_id",
    "title": "title",
    "created": "created",
    "updated": "updated",
    "datetime": "dt_start",
    "file:size": "file_size",
}
ITEM_SORT_NATIVE = {name: re.sub(r"[^A-Za-z0-9_]", "_", name) for name in ITEM_SORT_FIELDS}  # eo:cloud_cover

_seq_lock = threading.Lock()
_last_seq = 0


def next_seq() -> int:
    """A number that grows with every call in this process and with the clock across processes."""
    global _last_seq
    with _seq_lock:
        _last_seq = max(_last_seq + 1, time.time_ns())
        return _last_seq


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _pack(doc: Doc) -> bytes:
    return orjson.dumps(doc)


def unpack(data: dict[str, Any]) -> Doc:
    """The record a stored Firestore document holds (decoded once, cached on the dict)."""
    cached = data.get("_decoded")
    if cached is None:
        cached = data["_decoded"] = orjson.loads(data["doc"])
    return cast(Doc, cached)


def _require(doc: Any, field: str, what: str) -> str:
    value = doc.get(field) if isinstance(doc, dict) else None
    if not isinstance(value, str) or not value:
        raise Invalid(f"{what} needs a string {field!r}")
    return value


def check_rev(current: int | None, expect_rev: int | None, what: str) -> int:
    """The new revision of a record at ``current`` (None: absent) written with ``expect_rev``."""
    if expect_rev is not None:
        if expect_rev == 0 and current is not None:
            raise Conflict(f"{what} already exists", current_rev=current)
        if expect_rev != 0 and current != expect_rev:
            found = "does not exist" if current is None else f"is at revision {current}"
            raise Conflict(f"{what} {found}, not at revision {expect_rev}; reload it and retry", current_rev=current)
    return (current or 0) + 1


def _check_limit(limit: int) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be an integer from 1 to {MAX_LIMIT}, got {limit!r}")
    return limit


def _chunks(values: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


def _gram_fields(text: str) -> dict[str, Any]:
    grams = gram_map([text])
    return {"tri": grams or {}, "tri_ok": grams is not None}


# ------------------------------------------------------------------ native fields per record kind


def asset_fields(doc: Doc) -> dict[str, Any]:
    catalog_id = _require(doc, "catalog_id", "an asset")
    asset_id = _require(doc, "id", "an asset")
    dt_start, dt_end = time_bounds(doc)
    size = doc.get("file:size")
    roles, tags = doc.get("roles") or [], doc.get("tags") or []
    return {
        "doc": _pack(doc),
        "catalog_id": catalog_id,
        "id": asset_id,
        "collection_id": _str(doc.get("collection_id")),
        "item_id": _str(doc.get("item_id")),
        "level": asset_level(doc.get("collection_id"), doc.get("item_id")),
        "status": _str(doc.get("status")) or "active",
        "type": _str(doc.get("type")),
        "roles": [r for r in roles if isinstance(r, str)],
        "tags": [t for t in tags if isinstance(t, str)],
        "title": _str(doc.get("title")),
        "created": _str(doc.get("created")),
        "updated": _str(doc.get("updated")),
        "dt_start": _str(dt_start),
        "dt_end": _str(dt_end),
        "has_time": bool(dt_start or dt_end),
        "file_size": size if isinstance(size, int) and not isinstance(size, bool) else -1,
        "rev": doc.get("rev", 0),
        **_gram_fields(search_text(doc)),
    }


def item_fields(catalog_id: str, doc: Doc) -> dict[str, Any]:
    props = doc.get("properties") or {}
    dt_start, dt_end = item_time_bounds(doc)
    fields = {
        "doc": _pack(doc),
        "catalog_id": catalog_id,
        "collection": _require(doc, "collection", "an item"),
        "id": _require(doc, "id", "an item"),
        "rev": doc.get("rev", 0),
        "has_time": bool(dt_start or dt_end),
        **_gram_fields(item_search_text(doc)),
    }
    for name, native in ITEM_SORT_NATIVE.items():
        if name not in ("id", "collection"):
            value = props.get(name)
            fields[native] = value if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
    return fields


def _job_fields(doc: Doc, seq: int) -> dict[str, Any]:
    return {
        "doc": _pack(doc),
        "id": doc["id"],
        "status": _str(doc.get("status")),
        "task_id": _str(doc.get("task_id")),
        "catalog_id": _str(doc.get("catalog_id")),
        "asset_id": _str(doc.get("asset_id")),
        "created": _str(doc.get("created")),
        "rev": doc.get("rev", 0),
        "seq": seq,
    }


def _audit_fields(audit: Doc) -> dict[str, Any]:
    if not isinstance(audit, dict) or not isinstance(audit.get("catalog_id"), str):
        raise Invalid("an audit event needs a catalog_id")
    return {
        "doc": _pack(audit),
        "catalog_id": audit["catalog_id"],
        "record_type": _str(audit.get("record_type")),
        "record_id": _str(audit.get("record_id")),
        "at": _str(audit.get("at")),
        "seq": next_seq(),
    }


class FirestoreMetadataStore:
    """``ports.MetadataStore`` on a Firestore client (see the module docstring for the layout)."""

    def __init__(self, client: Any, *, prefix: str = "", scan_budget: int = 2000, candidate_cap: int = 2000) -> None:
        self.db = client
        self.prefix = prefix
        self.scan_budget = scan_budget
        self.candidate_cap = candidate_cap
        self.stats = ReadStats()
        # Tests set this to enforce production's composite indexes (the emulator needs none).
        self.index_guard: Callable[[Any], None] | None = None

    # ------------------------------------------------------------------ plumbing
    def col(self, name: str) -> Any:
        return self.db.collection(self.prefix + name)

    def _get(self, ref: Any, what: str, transaction: Any = None) -> dict[str, Any] | None:
        with sdk_errors(what):
            snapshot = ref.get(transaction=transaction)
        self.stats.add(documents=1)
        return snapshot.to_dict() if snapshot.exists else None

    def _get_all(self, refs: Sequence[Any], what: str, transaction: Any = None) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(refs, 300):
            with sdk_errors(what):
                snapshots = list(self.db.get_all(chunk, transaction=transaction))
            self.stats.add(documents=len(chunk))
            for snapshot in snapshots:
                if snapshot.exists:
                    found[snapshot.reference.path] = snapshot.to_dict()
        return found

    def _transaction(self, what: str, fn: Callable[[Any], Any]) -> Any:
        from google.cloud import firestore

        @firestore.transactional
        def run(transaction: Any) -> Any:
            return fn(transaction)

        with sdk_errors(what):
            return run(self.db.transaction(max_attempts=10))

    def _snapshots(self, refs: Sequence[Any], what: str) -> dict[str, Any]:
        """Current snapshots (existing or not) of ``refs`` by path, with their update times."""
        out: dict[str, Any] = {}
        for chunk in _chunks(list(refs), 300):
            with sdk_errors(what):
                snapshots = list(self.db.get_all(chunk))
            self.stats.add(documents=len(chunk))
            out.update({snapshot.reference.path: snapshot for snapshot in snapshots})
        for ref in refs:  # get_all omits nothing today; be explicit about absent ones anyway
            if ref.path not in out:
                out[ref.path] = None
        return out

    def _compare_and_set(
        self,
        what: str,
        refs: Sequence[Any],
        plan: Callable[[dict[str, dict[str, Any] | None]], tuple[Any, dict[str, dict[str, Any] | None], list[Any]]],
        snapshots: dict[str, Any] | None = None,
    ) -> Any:
        """Read ``refs``, let ``plan`` decide (it raises ``Conflict`` on a stale ``rev``), then commit
        one batch whose every write is conditional on what was read: ``create`` where nothing was,
        an update precondition on the read ``update_time`` elsewhere. Another writer in between
        makes the commit fail as a whole; it is then re-read and re-planned (optimistic concurrency,
        no locks: the Firestore emulator's pessimistic transactions serialise racing writers for
        seconds). ``plan`` returns (result, {path: fields or None to delete}, [(ref, fields) to set
        unconditionally]). ``snapshots``: use these for the first round (a caller that read them)."""
        from google.api_core import exceptions as gexc

        by_path = {ref.path: ref for ref in refs}
        for _ in range(CAS_ATTEMPTS):
            current = snapshots if snapshots is not None else self._snapshots(refs, what)
            snapshots = None
            state = {p: (s.to_dict() if s is not None and s.exists else None) for p, s in current.items()}
            result, writes, extras = plan(state)
            batch = self.db.batch()
            for path, fields in writes.items():
                snapshot = current.get(path)
                if snapshot is not None and snapshot.exists:
                    option = self.db.write_option(last_update_time=snapshot.update_time)
                    if fields is None:
                        batch.delete(by_path[path], option=option)
                    else:
                        batch.update(by_path[path], fields, option=option)
                elif fields is not None:
                    batch.create(by_path[path], fields)
            for ref, fields in extras:
                batch.set(ref, fields)
            with sdk_errors(what):
                try:
                    batch.commit()
                except (gexc.FailedPrecondition, gexc.AlreadyExists, gexc.NotFound, gexc.Aborted):
                    continue  # changed since it was read: read again
            return result
        raise Unavailable(f"{what} kept changing under {CAS_ATTEMPTS} attempts to write it; retry")

    def _audit_ref(self, audit: Doc) -> Any:
        audit_id = audit.get("id") if isinstance(audit, dict) else None
        return (
            self.col("audit").document(audit_id)
            if isinstance(audit_id, str) and audit_id
            else self.col("audit").document()
        )

    def _put_versioned(
        self,
        ref: Any,
        doc: Doc,
        expect_rev: int | None,
        audit: Doc | None,
        fields: Callable[[Doc], dict[str, Any]],
        what: str,
        precheck: Callable[[Any], None] | None = None,
    ) -> Doc:
        audit_fields = _audit_fields(audit) if audit is not None else None
        if precheck is None:
            extras = [(self._audit_ref(cast(Doc, audit)), audit_fields)] if audit_fields is not None else []

            def plan(state: dict[str, dict[str, Any] | None]) -> tuple[Doc, dict[str, Any], list[Any]]:
                current = state[ref.path]
                rev = check_rev(current.get("rev") if current else None, expect_rev, what)
                stored = {**doc, "rev": rev}
                return stored, {ref.path: fields(stored)}, extras

            return cast(Doc, self._compare_and_set(what, [ref], plan))

        def write(transaction: Any) -> Doc:  # a check of another record must hold at commit: a transaction
            precheck(transaction)
            current = self._get(ref, what, transaction)
            rev = check_rev(current.get("rev") if current else None, expect_rev, what)
            stored = {**doc, "rev": rev}
            transaction.set(ref, fields(stored))
            if audit_fields is not None:
                transaction.set(self._audit_ref(cast(Doc, audit)), audit_fields)
            return stored

        return cast(Doc, self._transaction(what, write))

    def _page(self, scan: Scan, limit: int, token: str | None, budget: int | None = None) -> Page[Doc]:
        page = scan.page(_check_limit(limit), token, budget or max(self.scan_budget, 2 * (limit + 1)))
        page.items = [unpack(data) for data in page.items]
        return page

    def _scan(
        self,
        collection: str,
        alternatives: list[list[Filter]],
        order: list[Order],
        check: Callable[[dict[str, Any]], bool] | None = None,
        *,
        exact: bool | None = None,
    ) -> Scan:
        """A scan; ``check`` is the whole predicate, ``exact`` says the native filters already are."""
        return Scan(
            collection=self.col(collection),
            alternatives=alternatives,
            order=order,
            check=check or (lambda data: True),
            exact=check is None if exact is None else exact,
            stats=self.stats,
            prefix=self.prefix,
            index_guard=self.index_guard,
        )

    # ------------------------------------------------------------------ catalogs
    def get_catalog(self, catalog_id: str) -> Doc:
        data = self._get(self.col("catalogs").document(catalog_id), f"catalog {catalog_id!r}")
        if data is None:
            raise NotFound(f"catalog {catalog_id!r} does not exist")
        return unpack(data)

    def list_catalogs(self, *, status: str | None = None, limit: int = 100, token: str | None = None) -> Page[Doc]:
        filters: list[Filter] = [] if status is None else [("status", "==", status)]
        return self._page(self._scan("catalogs", [filters], []), limit, token)

    def put_catalog(self, doc: Doc, *, expect_rev: int | None, audit: Doc) -> Doc:
        catalog_id = _require(doc, "id", "a catalog")

        def fields(stored: Doc) -> dict[str, Any]:
            return {"doc": _pack(stored), "id": catalog_id, "status": _str(stored.get("status")), "rev": stored["rev"]}

        ref = self.col("catalogs").document(catalog_id)
        return self._put_versioned(ref, doc, expect_rev, audit, fields, f"catalog {catalog_id!r}")

    # ------------------------------------------------------------------ collections
    def _collection_ref(self, catalog_id: str, collection_id: str) -> Any:
        return self.col("collections").document(f"{catalog_id}{SEP}{collection_id}")

    def get_collection(self, catalog_id: str, collection_id: str) -> Doc:
        data = self._get(self._collection_ref(catalog_id, collection_id), f"collection {collection_id!r}")
        if data is None:
            raise NotFound(f"collection {collection_id!r} does not exist in catalog {catalog_id!r}")
        return unpack(data)

    def list_collections(self, catalog_id: str, *, limit: int = 100, token: str | None = None) -> Page[Doc]:
        return self._page(self._scan("collections", [[("catalog_id", "==", catalog_id)]], []), limit, token)

    def put_collection(self, catalog_id: str, doc: Doc, *, expect_rev: int | None, audit: Doc) -> Doc:
        collection_id = _require(doc, "id", "a collection")

        def fields(stored: Doc) -> dict[str, Any]:
            return {"doc": _pack(stored), "catalog_id": catalog_id, "id": collection_id, "rev": stored["rev"]}

        ref = self._collection_ref(catalog_id, collection_id)
        return self._put_versioned(ref, doc, expect_rev, audit, fields, f"collection {collection_id!r}")

    def _scope_refs(self, catalog_id: str, collection_id: str, item_id: str | None = None) -> list[Any]:
        """References of the items and assets under a collection (or under one item)."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        refs: list[Any] = []
        assets = (
            self.col("assets")
            .where(filter=FieldFilter("catalog_id", "==", catalog_id))
            .where(filter=FieldFilter("collection_id", "==", collection_id))
        )
        if item_id is not None:
            assets = assets.where(filter=FieldFilter("item_id", "==", item_id))
        queries = [assets]
        if item_id is None:
            queries.append(
                self.col("items")
                .where(filter=FieldFilter("catalog_id", "==", catalog_id))
                .where(filter=FieldFilter("collection", "==", collection_id))
            )
        for query in queries:
            with sdk_errors("Firestore query"):
                snapshots = list(query.select([]).stream())
            self.stats.add(documents=len(snapshots), queries=1)
            refs.extend(s.reference for s in snapshots)
        return refs

    def _delete_scope(
        self, target: Any, refs: list[Any], audit: Doc, what: str, expect_rev: int | None = None
    ) -> None:
        """Delete ``refs`` then ``target`` (NotFound if absent) with ``audit``: one transaction when
        it fits, else batches with ``target`` last, so a retry after a crash finishes the job.
        ``expect_rev``: ``target``'s revision, checked before anything is deleted and again at the end."""
        audit_fields = _audit_fields(audit)
        found = self._get(target, what)
        if found is None:
            raise NotFound(f"{what} does not exist")
        check_rev(found.get("rev"), expect_rev, what)
        head, tail = refs[: max(0, len(refs) - TXN_WRITES)], refs[max(0, len(refs) - TXN_WRITES) :]
        for chunk in _chunks(head, DELETE_BATCH):
            batch = self.db.batch()
            for ref in chunk:
                batch.delete(ref)
            with sdk_errors(what):
                batch.commit()

        def finish(transaction: Any) -> None:
            current = self._get(target, what, transaction)
            if current is None:
                raise NotFound(f"{what} does not exist")
            check_rev(current.get("rev"), expect_rev, what)
            for ref in tail:
                transaction.delete(ref)
            transaction.delete(target)
            transaction.set(self._audit_ref(audit), audit_fields)

        self._transaction(what, finish)

    def delete_collection(
        self, catalog_id: str, collection_id: str, *, audit: Doc, expect_rev: int | None = None
    ) -> None:
        what = f"collection {collection_id!r} in catalog {catalog_id!r}"
        target = self._collection_ref(catalog_id, collection_id)
        self._delete_scope(target, self._scope_refs(catalog_id, collection_id), audit, what, expect_rev)

    # ------------------------------------------------------------------ items
    def _item_ref(self, catalog_id: str, collection_id: str, item_id: str) -> Any:
        return self.col("items").document(f"{catalog_id}{SEP}{collection_id}{SEP}{item_id}")

    def get_item(self, catalog_id: str, collection_id: str, item_id: str) -> Doc:
        data = self._get(self._item_ref(catalog_id, collection_id, item_id), f"item {item_id!r}")
        if data is None:
            raise NotFound(f"item {item_id!r} does not exist in collection {collection_id!r} of catalog {catalog_id!r}")
        return unpack(data)

    def list_items(
        self, catalog_id: str, collection_id: str, *, limit: int = 100, token: str | None = None
    ) -> Page[Doc]:
        filters: list[Filter] = [("catalog_id", "==", catalog_id), ("collection", "==", collection_id)]
        return self._page(self._scan("items", [filters], []), limit, token)

    def put_item(self, catalog_id: str, doc: Doc, *, expect_rev: int | None, audit: Doc) -> Doc:
        item_id = _require(doc, "id", "an item")
        collection_id = _require(doc, "collection", "an item")
        collection_ref = self._collection_ref(catalog_id, collection_id)

        def collection_exists(transaction: Any) -> None:
            if self._get(collection_ref, f"collection {collection_id!r}", transaction) is None:
                raise NotFound(f"collection {collection_id!r} does not exist in catalog {catalog_id!r}")

        ref = self._item_ref(catalog_id, collection_id, item_id)
        return self._put_versioned(
            ref,
            doc,
            expect_rev,
            audit,
            lambda stored: item_fields(catalog_id, stored),
            f"item {item_id!r}",
            precheck=collection_exists,
        )

    def delete_item(
        self,
        catalog_id: str,
        collection_id: str,
        item_id: str,
        *,
        audit: Doc,
        expect_rev: int | None = None,
        keep_assets: bool = False,
    ) -> None:
        """Removes the item and (unless ``keep_assets``) the assets linked to it."""
        what = f"item {item_id!r} in collection {collection_id!r} of catalog {catalog_id!r}"
        target = self._item_ref(catalog_id, collection_id, item_id)
        refs = [] if keep_assets else self._scope_refs(catalog_id, collection_id, item_id)
        self._delete_scope(target, refs, audit, what, expect_rev)

    # ------------------------------------------------------------------ item search
    def _item_scan(self, query: ItemQuery, *, use_grams: bool = True, minimal: bool = False) -> Scan:
        """``minimal``: only the filters every sorted item index holds (catalog, collection)."""
        base: list[Filter] = []
        exact = True
        disjunctions = 1
        for field, values in (("collection", query.collections), ("id", query.ids)):
            if not values:
                continue
            sorted_by_it = any(k.field == field for k in query.sortby)
            if minimal and (field != "collection" or (sorted_by_it and len(values) > 1)):
                exact = False
                continue
            if len(values) == 1:
                base.append((field, "==", values[0]))
            elif disjunctions * len(values) <= MAX_IN:
                base.append((field, "in", list(values)))
                disjunctions *= len(values)
            else:
                exact = False
        if query.bbox is not None or query.intersects is not None or query.filter is not None:
            exact = False
        if query.datetime is not None:
            if not minimal:
                base.append(("has_time", "==", True))
            exact = False
        alternatives = self._catalog_alternatives(query.catalog_ids, base, disjunctions)
        terms = free_text_terms(query.q)
        if terms:
            exact = False
            grams = [query_grams(t) for t in terms]
            if use_grams and all(grams):
                alternatives = [
                    [*alt, *[(f"tri.{gram_key(g)}", "==", True) for g in term_grams]]
                    for alt in alternatives
                    for term_grams in grams
                ] + [[*alt, ("tri_ok", "==", False)] for alt in alternatives]
        order = self._order(query.sortby, ITEM_SORT_NATIVE, "items", alternatives)

        def check(data: dict[str, Any]) -> bool:
            doc = unpack(data)
            return data.get("catalog_id") in query.catalog_ids and item_matches(query, doc)

        return self._scan("items", alternatives, order, check, exact=exact)

    def search_items(self, query: ItemQuery) -> Page[Doc]:
        _check_limit(query.limit)
        if not query.catalog_ids:
            return Page(items=[])
        return self._search(query, self._item_scan)

    def count_items(self, query: ItemQuery) -> int:
        return self._count(query, self._item_scan)

    def _count(self, query: Any, scan: Callable[..., Any]) -> int:
        """Count through the scan's indexed form, or its minimal form where an index is missing."""
        if not query.catalog_ids:
            return 0
        try:
            return int(scan(query).count())
        except MissingIndex:
            return int(scan(query, minimal=True).count())

    # ------------------------------------------------------------------ assets
    def _asset_ref(self, catalog_id: str, asset_id: str) -> Any:
        return self.col("assets").document(f"{catalog_id}{SEP}{asset_id}")

    def get_asset(self, catalog_id: str, asset_id: str) -> Doc:
        data = self._get(self._asset_ref(catalog_id, asset_id), f"asset {asset_id!r}")
        if data is None:
            raise NotFound(f"asset {asset_id!r} does not exist in catalog {catalog_id!r}")
        return unpack(data)

    def get_assets(self, catalog_id: str, asset_ids: Sequence[str]) -> list[Doc]:
        refs = [self._asset_ref(catalog_id, i) for i in dict.fromkeys(asset_ids)]
        return [unpack(data) for data in self._get_all(refs, "bulk get").values()]

    def write_assets(self, writes: Sequence[AssetWrite], *, audits: Sequence[Doc]) -> list[Doc]:
        if not writes and not audits:
            return []
        for write in writes:
            asset_fields(write.doc)  # validates before anything is written
        audit_rows = [(self._audit_ref(a), _audit_fields(a)) for a in audits]
        refs = [self._asset_ref(w.doc["catalog_id"], w.doc["id"]) for w in writes]
        unique = {r.path: r for r in refs}

        def plan(current: dict[str, int | None]) -> tuple[list[Doc], dict[str, Doc]]:
            """Apply the writes in order over ``current`` revisions: (stored docs, last doc per path)."""
            revs = dict(current)
            stored: list[Doc] = []
            final: dict[str, Doc] = {}
            for ref, write in zip(refs, writes, strict=True):
                what = f"asset {write.doc['id']!r} in catalog {write.doc['catalog_id']!r}"
                rev = check_rev(revs.get(ref.path), write.expect_rev, what)
                revs[ref.path] = rev
                doc = {**write.doc, "rev": rev}
                stored.append(doc)
                final[ref.path] = doc
            return stored, final

        def revisions(found: dict[str, dict[str, Any]]) -> dict[str, int | None]:
            return {path: (found[path].get("rev") if path in found else None) for path in unique}

        if len(unique) + len(audits) <= TXN_WRITES:

            def whole(state: dict[str, dict[str, Any] | None]) -> tuple[list[Doc], dict[str, Any], list[Any]]:
                stored, final = plan(revisions({p: d for p, d in state.items() if d is not None}))
                return stored, {path: asset_fields(doc) for path, doc in final.items()}, audit_rows

            return cast(list[Doc], self._compare_and_set("asset write", list(unique.values()), whole))
        return self._write_assets_chunked(unique, audit_rows, plan, revisions)

    def _write_assets_chunked(
        self,
        unique: dict[str, Any],
        audit_rows: list[tuple[Any, dict[str, Any]]],
        plan: Callable[[dict[str, int | None]], tuple[list[Doc], dict[str, Doc]]],
        revisions: Callable[[dict[str, dict[str, Any]]], dict[str, int | None]],
    ) -> list[Doc]:
        """A write too big for one commit: check every revision first (nothing is written on a
        stale one), commit in parts that re-check what they overwrite, undo the parts already
        committed if a later one fails."""
        read = self._snapshots(list(unique.values()), "asset write")
        before = {p: snap.to_dict() for p, snap in read.items() if snap is not None and snap.exists}
        expected = revisions(before)
        stored, final = plan(expected)
        half = TXN_WRITES // 2
        paths = list(final)
        path_chunks = _chunks(paths, half) or [[]]
        audit_chunks = _chunks(audit_rows, half)
        done: list[str] = []
        try:
            for k, (chunk, audit_chunk) in enumerate(itertools.zip_longest(path_chunks, audit_chunks)):
                part_paths: list[str] = chunk or []
                part_audits: list[tuple[Any, dict[str, Any]]] = audit_chunk or []
                batch = self.db.batch()
                for path in part_paths:  # each write holds only over the version read first
                    snapshot = read[path]
                    if snapshot is not None and snapshot.exists:
                        option = self.db.write_option(last_update_time=snapshot.update_time)
                        batch.update(unique[path], asset_fields(final[path]), option=option)
                    else:
                        batch.create(unique[path], asset_fields(final[path]))
                for ref, row in part_audits:
                    batch.set(ref, row)
                self._commit_part(batch, f"asset write part {k + 1}")
                done.extend(part_paths)
        except BaseException:
            self._compensate([unique[p] for p in done], before, {p: final[p]["rev"] for p in done})
            raise
        return stored

    def _commit_part(self, batch: Any, what: str) -> None:
        from google.api_core import exceptions as gexc

        with sdk_errors(what):
            try:
                batch.commit()
            except (gexc.FailedPrecondition, gexc.AlreadyExists, gexc.NotFound) as exc:
                raise Conflict(f"{what}: an asset changed during a bulk write; retry") from exc

    def _compensate(self, refs: list[Any], before: dict[str, dict[str, Any]], ours: dict[str, int]) -> None:
        """Undo the committed part of a failed chunked write (restore the previous documents)."""
        for chunk in _chunks(refs, DELETE_BATCH):

            def undo(transaction: Any, chunk: list[Any] = chunk) -> None:
                current = self._get_all(chunk, "undo", transaction)
                for ref in chunk:
                    now = current.get(ref.path)
                    if now is None or now.get("rev") != ours.get(ref.path):
                        continue  # someone wrote it since: leave their version
                    if ref.path in before:
                        transaction.set(ref, before[ref.path])
                    else:
                        transaction.delete(ref)

            self._transaction("undo a partial asset write", undo)

    def delete_asset(self, catalog_id: str, asset_id: str, *, audit: Doc, expect_rev: int | None = None) -> None:
        what = f"asset {asset_id!r} in catalog {catalog_id!r}"
        ref = self._asset_ref(catalog_id, asset_id)
        extras = [(self._audit_ref(audit), _audit_fields(audit))]

        def plan(state: dict[str, dict[str, Any] | None]) -> tuple[None, dict[str, Any], list[Any]]:
            current = state[ref.path]
            if current is None:
                raise NotFound(f"asset {asset_id!r} does not exist in catalog {catalog_id!r}")
            check_rev(current.get("rev"), expect_rev, what)
            return None, {ref.path: None}, extras

        self._compare_and_set(what, [ref], plan)

    # ------------------------------------------------------------------ asset search
    def _catalog_alternatives(
        self, catalog_ids: Sequence[str], base: list[Filter], disjunctions: int
    ) -> list[list[Filter]]:
        ids = list(dict.fromkeys(catalog_ids))
        if len(ids) == 1:
            return [[("catalog_id", "==", ids[0]), *base]]
        size = max(1, MAX_IN // disjunctions)
        return [[("catalog_id", "in", chunk), *base] for chunk in _chunks(ids, size)]

    def _order(
        self, sortby: Sequence[Any], native: dict[str, str], kind: str, alternatives: Sequence[list[Filter]] = ()
    ) -> list[Order]:
        """The native order of ``sortby``, without fields every alternative pins to one value (a
        constant sorts nothing, and Firestore has no index ordering by an equality field)."""
        constant = (
            set.intersection(*({p for p, op, _ in alt if op == "=="} for alt in alternatives))
            if alternatives
            else set()
        )
        order: list[Order] = []
        seen: set[str] = set()
        for key in sortby:
            if key.field not in native:
                allowed = ", ".join(ASSET_SORT_FIELDS if kind == "assets" else ITEM_SORT_FIELDS)
                raise Invalid(f"cannot sort by {key.field!r}; sortable fields: {allowed}")
            if key.field in seen:
                continue
            seen.add(key.field)
            if native[key.field] in constant:
                continue
            order.append((native[key.field], "DESCENDING" if key.direction == "desc" else "ASCENDING"))
        return order

    def _asset_scan(self, query: AssetQuery, *, use_grams: bool = True, minimal: bool = False) -> Scan:
        """The scan of an asset search. ``minimal``: only the filters every sorted asset index
        holds (catalog, status); the rest is checked on each document read."""
        if minimal:
            return self._minimal_asset_scan(query)
        base: list[Filter] = []
        exact = True
        disjunctions = 1
        if query.collection_id is not None:
            base.append(("collection_id", "==", query.collection_id))
        if query.item_id is not None:
            base.append(("item_id", "==", query.item_id))
        level = query.level
        if query.bbox is not None:
            if len(query.bbox) not in (4, 6):
                raise Invalid("bbox must have 4 or 6 numbers")
            exact = False
            if level is None:
                level = "item"
        if level is not None:
            base.append(("level", "==", level))
        for field, values in (("status", query.status), ("type", query.types), ("id", query.ids)):
            values = tuple(dict.fromkeys(values))
            if not values:
                continue
            if len(values) == 1:
                base.append((field, "==", values[0]))
            elif disjunctions * len(values) <= MAX_IN:
                base.append((field, "in", list(values)))
                disjunctions *= len(values)
            else:
                exact = False
        tags = tuple(dict.fromkeys(query.tags))
        if tags:
            base.append(("tags", "array_contains", tags[0]))
            exact = exact and len(tags) == 1
            if query.roles:
                exact = False
        elif query.roles:
            roles = list(dict.fromkeys(query.roles))
            if disjunctions * len(roles) <= MAX_IN:
                base.append(("roles", "array_contains_any", roles))
                disjunctions *= len(roles)
            else:
                exact = False
        if query.datetime is not None:
            base.append(("has_time", "==", True))
            exact = False
        if query.filter is not None:
            exact = False
        alternatives = self._catalog_alternatives(query.catalog_ids, base, disjunctions)
        if query.q:
            exact = False
            grams = query_grams(query.q)
            if use_grams and grams:
                gram_filters: list[Filter] = [(f"tri.{gram_key(g)}", "==", True) for g in grams]
                alternatives = [[*alt, *gram_filters] for alt in alternatives] + [
                    [*alt, ("tri_ok", "==", False)] for alt in alternatives
                ]
        order = self._order(query.sortby, ASSET_SORT_NATIVE, "assets", alternatives)
        item_geometry = self._item_geometry_lookup() if query.bbox is not None else None

        def check(data: dict[str, Any]) -> bool:
            return asset_matches(query, unpack(data), item_geometry)

        return self._scan("assets", alternatives, order, check, exact=exact)

    def _minimal_asset_scan(self, query: AssetQuery) -> Scan:
        base: list[Filter] = []
        status = list(dict.fromkeys(query.status))
        if len(status) == 1:
            base.append(("status", "==", status[0]))
        elif status:
            base.append(("status", "in", status))
        catalogs = tuple(dict.fromkeys(query.catalog_ids))
        if len(catalogs) > 1 and any(k.field == "catalog_id" for k in query.sortby):
            alternatives = [base]  # ordered by catalog: index (status, catalog_id); catalogs checked
        else:
            alternatives = self._catalog_alternatives(catalogs, base, max(1, len(status)))
        order = self._order(query.sortby, ASSET_SORT_NATIVE, "assets", alternatives)
        item_geometry = self._item_geometry_lookup() if query.bbox is not None else None

        def check(data: dict[str, Any]) -> bool:
            return asset_matches(query, unpack(data), item_geometry)

        return self._scan("assets", alternatives, order, check, exact=False)

    def _item_geometry_lookup(self) -> Callable[[Doc], Any]:
        cache: dict[str, Any] = {}

        def geometry(doc: Doc) -> Any:
            ref = self._item_ref(doc["catalog_id"], doc.get("collection_id") or "", doc["item_id"])
            if ref.path not in cache:
                data = self._get(ref, "item geometry")
                item = unpack(data) if data else {}
                cache[ref.path] = item.get("geometry") or item.get("bbox")
            return cache[ref.path]

        return geometry

    def _search(self, query: Any, build: Callable[..., Scan]) -> Page[Doc]:
        """One page of a search. Without a composite index for the native filters (production
        Firestore says so), again with the indexed filters only and the rest checked per document."""
        try:
            return self._search_once(query, build, minimal=False)
        except MissingIndex:
            return self._search_once(query, build, minimal=True)

    def _search_once(self, query: Any, build: Callable[..., Scan], *, minimal: bool) -> Page[Doc]:
        """Native, or gram candidates sorted in memory, or a budgeted scan."""
        scan = build(query, minimal=minimal)

        def in_memory(found: Sequence[tuple[str, dict[str, Any]]], scanned: int) -> Page[Doc]:
            rows = [Row(tuple(data.get(p) for p, _ in scan.order), name, data) for name, data in found]
            page = scan.page_in_memory(rows, query.limit, query.token, scanned)
            page.items = [unpack(data) for data in page.items]
            return page

        ids = getattr(query, "ids", ())
        if isinstance(query, AssetQuery) and ids and len(ids) * len(query.catalog_ids) <= self.candidate_cap:
            # A few named assets: read them directly, check and sort in memory.
            refs = [self._asset_ref(c, i) for c in dict.fromkeys(query.catalog_ids) for i in dict.fromkeys(ids)]
            found = self._get_all(refs, "asset search")
            return in_memory([(path.rsplit("/", 1)[1], data) for path, data in found.items()], len(refs))
        uses_grams = any(path.startswith("tri.") for alt in scan.alternatives for path, _, _ in alt)
        if uses_grams and scan.order:
            # Gram filters cannot be combined with another order without one index per gram:
            # read the candidates in name order (bounded), then sort them in memory.
            candidates = dataclasses.replace(scan, order=[]).collect(self.candidate_cap)
            if candidates is not None:
                return in_memory([(row.name, row.data) for row in candidates], len(candidates))
            scan = build(query, use_grams=False, minimal=minimal)
        return self._page(scan, query.limit, query.token)

    def search_assets(self, query: AssetQuery) -> Page[Doc]:
        _check_limit(query.limit)
        self._order(query.sortby, ASSET_SORT_NATIVE, "assets")
        if not query.catalog_ids:
            return Page(items=[])
        return self._search(query, self._asset_scan)

    def count_assets(self, query: AssetQuery) -> int:
        return self._count(query, self._asset_scan)

    def export_assets(
        self, catalog_id: str, *, since: str | None = None, statuses: Sequence[str] = ("active",)
    ) -> Iterator[Doc]:
        """Every asset of a catalog in (updated, id) order, read 500 at a time."""
        filters: list[Filter] = [("catalog_id", "==", catalog_id)]
        statuses = list(dict.fromkeys(statuses))
        if len(statuses) == 1:
            filters.append(("status", "==", statuses[0]))
        elif statuses:
            filters.append(("status", "in", statuses))
        if since is not None:
            filters.append(("updated", ">=", since))
        scan = self._scan("assets", [filters], [("updated", "ASCENDING")])
        for row in scan.stream(filters, None, EXPORT_BATCH):
            yield unpack(row.data)

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
        filters: list[Filter] = [("catalog_id", "==", catalog_id)]
        if record_type is not None:
            filters.append(("record_type", "==", record_type))
        if record_id is not None:
            filters.append(("record_id", "==", record_id))
        return self._page(self._scan("audit", [filters], [("seq", "DESCENDING")]), limit, token)

    # ------------------------------------------------------------------ ingest state
    def claim_event(self, event_id: str, *, ttl_seconds: float) -> bool:
        if not isinstance(event_id, str) or not event_id:
            raise Invalid("an event id must be a non-empty string")
        ref = self.col("events").document(hashlib.sha256(event_id.encode()).hexdigest())

        from google.api_core import exceptions as gexc

        now = datetime.now(UTC)
        claim = {"event_id": event_id, "claimed_at": now, "expires_at": now + timedelta(seconds=ttl_seconds)}
        try:
            with sdk_errors("event claim"):
                ref.create(claim)  # the first claimer wins, atomically
            return True
        except Conflict:
            pass
        snapshot = self._snapshots([ref], "event claim")[ref.path]
        if snapshot is None or not snapshot.exists:
            return self.claim_event(event_id, ttl_seconds=ttl_seconds)  # expired and removed meanwhile
        expires = (snapshot.to_dict() or {}).get("expires_at")
        if expires is not None and expires > now:
            return False
        try:  # an expired claim: take it over, unless another claimer just did
            with sdk_errors("event claim"):
                ref.update(claim, option=self.db.write_option(last_update_time=snapshot.update_time))
            return True
        except (Invalid, NotFound):
            return False
        except gexc.GoogleAPIError:  # pragma: no cover
            raise

    def _ingest_ref(self, bucket: str, key: str) -> Any:
        return self.col("ingest").document(hashlib.sha256(f"{bucket}/{key}".encode()).hexdigest())

    def put_ingest_record(self, record: IngestRecord) -> None:
        data = dataclasses.asdict(record)
        with sdk_errors("ingest record"):
            self._ingest_ref(record.bucket, record.key).set({**data, "catalog_id": record.catalog_id or ""})

    def get_ingest_record(self, bucket: str, key: str) -> IngestRecord:
        data = self._get(self._ingest_ref(bucket, key), "ingest record")
        if data is None:
            raise NotFound(f"no ingest record for {key!r} in bucket {bucket!r}")
        fields = {f.name for f in dataclasses.fields(IngestRecord)}
        values = {k: v for k, v in data.items() if k in fields}
        values["catalog_id"] = values.get("catalog_id") or None
        return IngestRecord(**values)

    # ------------------------------------------------------------------ jobs
    def get_job(self, job_id: str) -> Doc:
        data = self._get(self.col("jobs").document(job_id), f"job {job_id!r}")
        if data is None:
            raise NotFound(f"job {job_id!r} does not exist")
        return unpack(data)

    def put_job(self, doc: Doc, *, expect_rev: int | None) -> Doc:
        job_id = _require(doc, "id", "a job")
        ref = self.col("jobs").document(job_id)
        what = f"job {job_id!r}"

        def plan(state: dict[str, dict[str, Any] | None]) -> tuple[Doc, dict[str, Any], list[Any]]:
            current = state[ref.path]
            rev = check_rev(current.get("rev") if current else None, expect_rev, what)
            stored = {**doc, "rev": rev}
            seq = int(current["seq"]) if current and current.get("seq") else next_seq()
            return stored, {ref.path: _job_fields(stored, seq)}, []

        return cast(Doc, self._compare_and_set(what, [ref], plan))

    def list_jobs(
        self, *, filters: dict[str, str] | None = None, limit: int = 100, token: str | None = None
    ) -> Page[Doc]:
        native: list[Filter] = []
        for name, value in (filters or {}).items():
            if name not in JOB_FILTERS:
                raise Invalid(f"cannot filter jobs by {name!r}; use one of {', '.join(JOB_FILTERS)}")
            if value is not None:
                native.append((name, "==", value))
        order: list[Order] = [("created", "DESCENDING"), ("id", "DESCENDING")]
        return self._page(self._scan("jobs", [native], order), limit, token)

    # ------------------------------------------------------------------ lifecycle
    def purge_catalog(self, catalog_id: str, *, batch_size: int = 500) -> int:
        """Deletes assets, items, collections, audit events, ingest records and jobs of the catalog,
        then the catalog, at most ``batch_size`` documents per call."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        if batch_size < 1:
            raise Invalid("batch_size must be at least 1")
        deleted = 0
        for name in ("assets", "items", "collections", "audit", "ingest", "jobs"):
            room = batch_size - deleted
            if room <= 0:
                break
            query = self.col(name).where(filter=FieldFilter("catalog_id", "==", catalog_id)).select([]).limit(room)
            with sdk_errors("purge"):
                refs = [s.reference for s in query.stream()]
            self.stats.add(documents=len(refs), queries=1)
            for chunk in _chunks(refs, DELETE_BATCH):
                batch = self.db.batch()
                for ref in chunk:
                    batch.delete(ref)
                with sdk_errors("purge"):
                    batch.commit()
            deleted += len(refs)
        if deleted < batch_size:
            ref = self.col("catalogs").document(catalog_id)
            if self._get(ref, "purge") is not None:
                with sdk_errors("purge"):
                    ref.delete()
                deleted += 1
        return deleted

    def health(self) -> None:
        self._get(self.col("catalogs").document("health-probe"), "Firestore health check")

    def close(self) -> None:
        close = getattr(self.db, "close", None)
        if callable(close):
            close()
