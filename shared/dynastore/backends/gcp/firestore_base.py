"""The plumbing every record kind of the Firestore store shares: reads, transactions, the
compare-and-set commit, versioned puts, scans and the search strategy (layout: ``firestore_store``)."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from typing import Any, cast

from dynastore.backends.gcp._errors import MissingIndex, sdk_errors, translate
from dynastore.backends.gcp.firestore_common import (
    CAS_ATTEMPTS,
    DELETE_BATCH,
    MAX_IN,
    SEP,
    TXN_ATTEMPTS,
    TXN_WRITES,
    audit_fields,
    check_limit,
    chunks,
    unpack,
)
from dynastore.backends.gcp.firestore_scan import Filter, Order, ReadStats, Row, Scan
from dynastore.domain.retry import retry_on_conflict
from dynastore.domain.revisions import check_rev
from dynastore.domain.search import ASSET_SORT_FIELDS, ITEM_SORT_FIELDS, AssetQuery, Page
from dynastore.errors import Conflict, Invalid, NotFound, Unavailable
from dynastore.ports import Doc


class _Changed(Exception):
    """A conditional commit failed: a document changed since it was read."""


def _replacing(fields: dict[str, Any], stored: dict[str, Any] | None) -> dict[str, Any]:
    """The update that makes a stored document hold exactly ``fields``: an update (the only write
    that takes an ``update_time`` precondition) keeps the fields it does not name, so the stored
    ones ``fields`` lacks (written by an older version, say a native field since dropped, which a
    query could still match) are deleted in it."""
    gone = [name for name in stored or () if name not in fields]
    if not gone:
        return fields
    from google.cloud import firestore

    return {**fields, **dict.fromkeys(gone, firestore.DELETE_FIELD)}


class FirestoreBase:
    """What the record mixins of ``FirestoreMetadataStore`` build on (it sets these attributes)."""

    db: Any
    prefix: str
    scan_budget: int
    candidate_cap: int
    stats: ReadStats
    index_guard: Callable[[Any], None] | None

    # ------------------------------------------------------------------ plumbing
    def col(self, name: str) -> Any:
        return self.db.collection(self.prefix + name)

    def _get(self, ref: Any, what: str, transaction: Any = None) -> dict[str, Any] | None:
        with sdk_errors(what):
            snapshot = ref.get(transaction=transaction)
        self.stats.add(documents=1)
        return snapshot.to_dict() if snapshot.exists else None

    def _get_existing(self, ref: Any, what: str, missing: str) -> Doc:
        """The record at ``ref``; ``NotFound(missing)`` when there is none."""
        data = self._get(ref, what)
        if data is None:
            raise NotFound(missing)
        return unpack(data)

    def _get_all(self, refs: Sequence[Any], what: str, transaction: Any = None) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for chunk in chunks(refs, 300):
            with sdk_errors(what):
                snapshots = list(self.db.get_all(chunk, transaction=transaction))
            self.stats.add(documents=len(chunk))
            for snapshot in snapshots:
                if snapshot.exists:
                    found[snapshot.reference.path] = snapshot.to_dict()
        return found

    def _transaction(self, what: str, fn: Callable[[Any], Any], *, conditional: bool = False) -> Any:
        """Run ``fn(transaction)`` in a transaction (the SDK re-runs it when the commit is ABORTED).
        ``conditional``: its writes carry preconditions; one that fails (the document changed since
        it was read) raises ``_Changed``. Still ABORTED after every attempt is contention, a transient
        state (``Unavailable``, 503: retry), never a stale revision."""
        from google.api_core import exceptions as gexc
        from google.cloud import firestore

        @firestore.transactional
        def run(transaction: Any) -> Any:
            return fn(transaction)

        changed = (gexc.FailedPrecondition, gexc.AlreadyExists, gexc.NotFound) if conditional else ()
        with sdk_errors(what):
            try:
                return run(self.db.transaction(max_attempts=TXN_ATTEMPTS))
            except changed:
                pass  # a precondition failed: raised below, outside the translation of SDK errors
            except ValueError as exc:
                # The SDK gives up on a contended transaction: a ValueError caused by the last ABORTED.
                if isinstance(exc.__cause__, gexc.Aborted):
                    raise Unavailable(
                        f"{what}: the database aborted the write {TXN_ATTEMPTS} times under contention "
                        "(other writers of the same records); retry"
                    ) from exc
                if exc.__cause__ is not None:
                    raise translate(exc.__cause__, what) from exc
                raise
        raise _Changed(what)

    def _snapshots(self, refs: Sequence[Any], what: str) -> dict[str, Any]:
        """Current snapshots (existing or not) of ``refs`` by path, with their update times."""
        out: dict[str, Any] = {}
        for chunk in chunks(list(refs), 300):
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
        precheck: Callable[[Any], None] | None = None,
    ) -> Any:
        """Read ``refs``, let ``plan`` decide (it raises ``Conflict`` on a stale ``rev``), then commit
        one batch whose every write is conditional on what was read: ``create`` where nothing was,
        an update precondition on the read ``update_time`` elsewhere. Another writer in between
        makes the commit fail as a whole; it is then re-read and re-planned (optimistic concurrency,
        no locks: the Firestore emulator's pessimistic transactions serialise racing writers for
        seconds). ``plan`` returns (result, {path: fields or None to delete}, [(ref, fields to set or
        None to delete) unconditionally]). ``snapshots``: use these for the first round (a caller that read them).
        ``precheck(transaction)``: a read of another record that must still hold at commit; the
        writes are then committed in a transaction that reads only what ``precheck`` reads. ``refs``
        stay unread (unlocked) in it: racing writers that each read-locked the record they all
        write would deadlock until the emulator's lock timeout aborts every one of them."""
        by_path = {ref.path: ref for ref in refs}
        first_read = snapshots

        def attempt() -> Any:
            nonlocal first_read
            current = first_read if first_read is not None else self._snapshots(refs, what)
            first_read = None
            state = {p: (s.to_dict() if s is not None and s.exists else None) for p, s in current.items()}
            result, writes, extras = plan(state)

            def stage(batch: Any) -> None:
                for path, fields in writes.items():
                    snapshot = current.get(path)
                    if snapshot is not None and snapshot.exists:
                        option = self.db.write_option(last_update_time=snapshot.update_time)
                        if fields is None:
                            batch.delete(by_path[path], option=option)
                        else:
                            batch.update(by_path[path], _replacing(fields, state[path]), option=option)
                    elif fields is not None:
                        batch.create(by_path[path], fields)
                for ref, fields in extras:
                    if fields is None:
                        batch.delete(ref)
                    else:
                        batch.set(ref, fields)

            if precheck is None:
                batch = self.db.batch()
                stage(batch)
                if not self._commit_unless_changed(batch, what):
                    raise _Changed(what)  # changed since it was read: read again
                return result

            def checked(transaction: Any) -> None:
                precheck(transaction)
                stage(transaction)

            self._transaction(what, checked, conditional=True)  # _Changed: read again
            return result

        exhausted = f"{what} kept changing under {CAS_ATTEMPTS} attempts to write it; retry"
        return retry_on_conflict(attempt, attempts=CAS_ATTEMPTS, retry_on=(_Changed,), exhausted=exhausted)

    def _commit_unless_changed(self, batch: Any, what: str) -> bool:
        """Commit ``batch``; False when one of its conditional writes found its document changed."""
        from google.api_core import exceptions as gexc

        with sdk_errors(what):
            try:
                batch.commit()
            except (gexc.FailedPrecondition, gexc.AlreadyExists, gexc.NotFound, gexc.Aborted):
                return False
        return True

    def _commit_in_parts(
        self,
        refs: dict[str, Any],
        read: dict[str, Any],
        fields: dict[str, dict[str, Any]],
        extras: list[tuple[Any, dict[str, Any]]],
        what: str,
    ) -> None:
        """Commit ``fields`` (by path; ``read``: the snapshots they were planned on) and ``extras`` (set
        unconditionally) in parts of ``TXN_WRITES // 2``, each write conditional on the version read;
        if a part fails, the parts already committed are undone by compensating writes (restore what
        was there), so a conflict leaves no partial write behind."""
        before = {p: snap.to_dict() for p, snap in read.items() if snap is not None and snap.exists}
        half = TXN_WRITES // 2
        path_chunks = chunks(list(fields), half) or [[]]
        extra_chunks = chunks(extras, half)
        done: list[str] = []
        try:
            for k, (chunk, extra_chunk) in enumerate(itertools.zip_longest(path_chunks, extra_chunks)):
                part_paths: list[str] = chunk or []
                batch = self.db.batch()
                for path in part_paths:  # each write holds only over the version read first
                    snapshot = read.get(path)
                    if snapshot is not None and snapshot.exists:
                        option = self.db.write_option(last_update_time=snapshot.update_time)
                        batch.update(refs[path], fields[path], option=option)
                    else:
                        batch.create(refs[path], fields[path])
                for ref, row in extra_chunk or []:
                    batch.set(ref, row)
                self._commit_part(batch, f"{what} part {k + 1}")
                done.extend(part_paths)
        except BaseException:
            self._compensate([refs[p] for p in done], before, {p: fields[p]["rev"] for p in done})
            raise

    def _commit_part(self, batch: Any, what: str) -> None:
        from google.api_core import exceptions as gexc

        with sdk_errors(what):
            try:
                batch.commit()
            except (gexc.FailedPrecondition, gexc.AlreadyExists, gexc.NotFound) as exc:
                raise Conflict(f"{what}: a record changed during a bulk write; retry") from exc

    def _compensate(self, refs: list[Any], before: dict[str, dict[str, Any]], ours: dict[str, int]) -> None:
        """Undo the committed part of a failed write in parts (restore the previous documents), each
        part a compare-and-set over what it reads (no transaction read-locking what it restores)."""

        def plan(state: dict[str, dict[str, Any] | None]) -> tuple[None, dict[str, dict[str, Any] | None], list[Any]]:
            undo: dict[str, dict[str, Any] | None] = {}
            for path, now in state.items():
                if now is not None and now.get("rev") == ours.get(path):  # else someone wrote it since
                    undo[path] = before.get(path)
            return None, undo, []

        for chunk in chunks(refs, DELETE_BATCH):
            self._compare_and_set("undo a partial write", chunk, plan)

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
        audit_row = audit_fields(audit) if audit is not None else None
        extras = [(self._audit_ref(cast(Doc, audit)), audit_row)] if audit_row is not None else []

        def plan(state: dict[str, dict[str, Any] | None]) -> tuple[Doc, dict[str, Any], list[Any]]:
            current = state[ref.path]
            rev = check_rev(current.get("rev") if current else None, expect_rev, what)
            stored = {**doc, "rev": rev}
            return stored, {ref.path: fields(stored)}, extras

        try:
            return cast(Doc, self._compare_and_set(what, [ref], plan, precheck=precheck))
        except Conflict:
            written = self._written_already(doc, expect_rev, audit, what)
            if written is None:
                raise
            return written

    def _written_already(self, doc: Doc, expect_rev: int | None, audit: Doc | None, what: str) -> Doc | None:
        """A conditional write that finds its revision gone may be a retry of itself: an attempt whose
        commit went through but whose answer was lost (the SDK then runs the transaction again, or the
        commit is re-sent). Its audit entry, written in the same commit under this request's own id,
        tells: then the write's own result, not a lost race (``Conflict``); else None."""
        if audit is None or expect_rev is None:  # an unconditional write cannot find its revision gone
            return None
        return {**doc, "rev": expect_rev + 1} if self._committed(self._audit_ref(audit), what) else None

    def _committed(self, audit_ref: Any, what: str) -> bool:
        """Whether the commit that carried the audit entry at ``audit_ref`` (this request's own id)
        went through."""
        return self._get(audit_ref, what) is not None

    def _page(self, scan: Scan, limit: int, token: str | None, budget: int | None = None) -> Page[Doc]:
        page = scan.page(check_limit(limit), token, budget or max(self.scan_budget, 2 * (limit + 1)))
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

    # ------------------------------------------------------------------ document references
    def _collection_ref(self, catalog_id: str, collection_id: str) -> Any:
        return self.col("collections").document(f"{catalog_id}{SEP}{collection_id}")

    def _item_ref(self, catalog_id: str, collection_id: str, item_id: str) -> Any:
        return self.col("items").document(f"{catalog_id}{SEP}{collection_id}{SEP}{item_id}")

    def _asset_ref(self, catalog_id: str, asset_id: str) -> Any:
        return self.col("assets").document(f"{catalog_id}{SEP}{asset_id}")

    # ------------------------------------------------------------------ search strategy
    def _catalog_alternatives(
        self, catalog_ids: Sequence[str], base: list[Filter], disjunctions: int
    ) -> list[list[Filter]]:
        ids = list(dict.fromkeys(catalog_ids))
        if len(ids) == 1:
            return [[("catalog_id", "==", ids[0]), *base]]
        size = max(1, MAX_IN // disjunctions)
        return [[("catalog_id", "in", chunk), *base] for chunk in chunks(ids, size)]

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

    def _count(self, query: Any, scan: Callable[..., Any]) -> int:
        """Count through the scan's indexed form, or its minimal form where an index is missing."""
        if not query.catalog_ids:
            return 0
        try:
            return int(scan(query).count())
        except MissingIndex:
            return int(scan(query, minimal=True).count())


def add_one_of(base: list[Filter], field: str, values: Sequence[Any], disjunctions: int) -> tuple[int, bool]:
    """Add "``field`` is one of ``values``" to ``base``: ``==`` for one value, ``in`` while the query's
    disjunctions stay within ``MAX_IN``. Returns the disjunctions then and whether the filter was
    added (when not, the documents read are checked instead and the query is not exact)."""
    if len(values) == 1:
        base.append((field, "==", values[0]))
        return disjunctions, True
    if disjunctions * len(values) <= MAX_IN:
        base.append((field, "in", list(values)))
        return disjunctions * len(values), True
    return disjunctions, False
