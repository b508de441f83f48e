"""Catalogs, collections, items and item search on Firestore (a mixin of ``FirestoreMetadataStore``)."""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from typing import Any, cast

from dynastore.backends.gcp._errors import sdk_errors
from dynastore.backends.gcp.firestore_base import FirestoreBase, add_one_of
from dynastore.backends.gcp.firestore_common import (
    DELETE_BATCH,
    ITEM_SORT_NATIVE,
    TXN_WRITES,
    as_str,
    asset_fields,
    audit_fields,
    check_limit,
    chunks,
    item_fields,
    pack,
    require_str,
    unpack,
)
from dynastore.backends.gcp.firestore_scan import Filter, Scan
from dynastore.backends.gcp.grams import gram_key, query_grams
from dynastore.domain.revisions import check_rev
from dynastore.domain.search import ItemQuery, Page, free_text_terms, item_matches
from dynastore.errors import Conflict, NotFound
from dynastore.ports import AssetWrite, Doc, ItemWrite


class CatalogRecords(FirestoreBase):
    # ------------------------------------------------------------------ catalogs
    def get_catalog(self, catalog_id: str) -> Doc:
        what = f"catalog {catalog_id!r}"
        return self._get_existing(self.col("catalogs").document(catalog_id), what, f"{what} does not exist")

    def list_catalogs(self, *, status: str | None = None, limit: int = 100, token: str | None = None) -> Page[Doc]:
        filters: list[Filter] = [] if status is None else [("status", "==", status)]
        return self._page(self._scan("catalogs", [filters], []), limit, token)

    def put_catalog(self, doc: Doc, *, expect_rev: int | None, audit: Doc) -> Doc:
        catalog_id = require_str(doc, "id", "a catalog")

        def fields(stored: Doc) -> dict[str, Any]:
            return {"doc": pack(stored), "id": catalog_id, "status": as_str(stored.get("status")), "rev": stored["rev"]}

        ref = self.col("catalogs").document(catalog_id)
        return self._put_versioned(ref, doc, expect_rev, audit, fields, f"catalog {catalog_id!r}")

    # ------------------------------------------------------------------ collections
    def get_collection(self, catalog_id: str, collection_id: str) -> Doc:
        what = f"collection {collection_id!r}"
        ref = self._collection_ref(catalog_id, collection_id)
        return self._get_existing(ref, what, f"{what} does not exist in catalog {catalog_id!r}")

    def list_collections(self, catalog_id: str, *, limit: int = 100, token: str | None = None) -> Page[Doc]:
        return self._page(self._scan("collections", [[("catalog_id", "==", catalog_id)]], []), limit, token)

    def put_collection(self, catalog_id: str, doc: Doc, *, expect_rev: int | None, audit: Doc) -> Doc:
        collection_id = require_str(doc, "id", "a collection")

        def fields(stored: Doc) -> dict[str, Any]:
            return {"doc": pack(stored), "catalog_id": catalog_id, "id": collection_id, "rev": stored["rev"]}

        ref = self._collection_ref(catalog_id, collection_id)
        return self._put_versioned(ref, doc, expect_rev, audit, fields, f"collection {collection_id!r}")

    def _scope_refs(self, catalog_id: str, collection_id: str) -> list[Any]:
        """References of the items and assets under a collection."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        refs: list[Any] = []
        queries = [
            self.col(name)
            .where(filter=FieldFilter("catalog_id", "==", catalog_id))
            .where(filter=FieldFilter(field, "==", collection_id))
            for name, field in (("assets", "collection_id"), ("items", "collection"))
        ]
        for query in queries:
            with sdk_errors("Firestore query"):
                snapshots = list(query.select([]).stream())
            self.stats.add(documents=len(snapshots), queries=1)
            refs.extend(s.reference for s in snapshots)
        return refs

    def _delete_scope(self, target: Any, refs: list[Any], audit: Doc, what: str, expect_rev: int | None = None) -> None:
        """Delete ``refs`` then ``target`` (NotFound if absent) with ``audit``: one transaction when
        it fits, else batches with ``target`` last, so a retry after a crash finishes the job.
        ``expect_rev``: ``target``'s revision, checked before anything is deleted and again at the end."""
        audit_row = audit_fields(audit)
        found = self._get(target, what)
        if found is None:
            raise NotFound(f"{what} does not exist")
        check_rev(found.get("rev"), expect_rev, what)
        head, tail = refs[: max(0, len(refs) - TXN_WRITES)], refs[max(0, len(refs) - TXN_WRITES) :]
        for chunk in chunks(head, DELETE_BATCH):
            batch = self.db.batch()
            for ref in chunk:
                batch.delete(ref)
            with sdk_errors(what):
                batch.commit()

        # The last commit is conditional on the version of ``target`` read (not a transaction that
        # read-locks it: racing deleters of one record would deadlock until the lock timeout).
        extras: list[tuple[Any, dict[str, Any] | None]] = [(ref, None) for ref in tail]
        extras.append((self._audit_ref(audit), audit_row))

        def finish(state: dict[str, dict[str, Any] | None]) -> tuple[None, dict[str, Any], list[Any]]:
            current = state[target.path]
            if current is None:
                raise NotFound(f"{what} does not exist")
            check_rev(current.get("rev"), expect_rev, what)
            return None, {target.path: None}, extras

        self._compare_and_set(what, [target], finish)

    def delete_collection(
        self, catalog_id: str, collection_id: str, *, audit: Doc, expect_rev: int | None = None
    ) -> None:
        what = f"collection {collection_id!r} in catalog {catalog_id!r}"
        target = self._collection_ref(catalog_id, collection_id)
        self._delete_scope(target, self._scope_refs(catalog_id, collection_id), audit, what, expect_rev)

    # ------------------------------------------------------------------ items
    def get_item(self, catalog_id: str, collection_id: str, item_id: str) -> Doc:
        what = f"item {item_id!r}"
        where = f"in collection {collection_id!r} of catalog {catalog_id!r}"
        ref = self._item_ref(catalog_id, collection_id, item_id)
        return self._get_existing(ref, what, f"{what} does not exist {where}")

    def get_items(self, catalog_id: str, keys: Sequence[tuple[str, str]]) -> list[Doc]:
        """One ``get_all`` (300 references a call) for every key."""
        refs = [self._item_ref(catalog_id, c, i) for c, i in dict.fromkeys(keys)]
        return [unpack(data) for data in self._get_all(refs, "item batch get").values()]

    def list_items(
        self, catalog_id: str, collection_id: str, *, limit: int = 100, token: str | None = None
    ) -> Page[Doc]:
        filters: list[Filter] = [("catalog_id", "==", catalog_id), ("collection", "==", collection_id)]
        return self._page(self._scan("items", [filters], []), limit, token)

    def put_item(self, catalog_id: str, doc: Doc, *, expect_rev: int | None, audit: Doc) -> Doc:
        item_id = require_str(doc, "id", "an item")
        collection_id = require_str(doc, "collection", "an item")
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

    def write_items(
        self,
        catalog_id: str,
        items: Sequence[ItemWrite],
        *,
        assets: Sequence[AssetWrite] = (),
        audits: Sequence[Doc] = (),
    ) -> list[Doc]:
        """One commit when it fits (``TXN_WRITES`` documents and audits): read outside any transaction,
        every write conditional on the version read, the collections checked in the commit's transaction
        (``_compare_and_set``: racing batches re-read and re-plan, none read-locks the items). Else every
        collection and revision is checked first and ``_commit_in_parts`` writes (and undoes on failure)."""
        what = f"item write in catalog {catalog_id!r}"
        for write in assets:
            asset_fields(write.doc)  # validates before anything is written
        planned: list[tuple[Any, Doc, int | None, Callable[[Doc], dict[str, Any]], str]] = [
            (
                self._item_ref(
                    catalog_id, require_str(w.doc, "collection", "an item"), require_str(w.doc, "id", "an item")
                ),
                w.doc,
                w.expect_rev,
                lambda stored: item_fields(catalog_id, stored),
                "item",
            )
            for w in items
        ]
        planned += [
            (self._asset_ref(w.doc["catalog_id"], w.doc["id"]), w.doc, w.expect_rev, asset_fields, "asset")
            for w in assets
        ]
        collections = {
            (ref := self._collection_ref(catalog_id, w.doc["collection"])).path: (ref, w.doc["collection"])
            for w in items
        }
        extras = [(self._audit_ref(w.audit), audit_fields(w.audit)) for w in items]
        extras += [(self._audit_ref(a), audit_fields(a)) for a in audits]
        refs = {entry[0].path: entry[0] for entry in planned}

        def check_collections(found: Container[str]) -> None:
            for path, (_, collection_id) in collections.items():
                if path not in found:
                    raise NotFound(f"collection {collection_id!r} does not exist in catalog {catalog_id!r}")

        def plan(state: dict[str, dict[str, Any]]) -> tuple[list[Doc], dict[str, dict[str, Any]]]:
            check_collections(state)
            revs = {path: state[path].get("rev") if path in state else None for path in refs}
            stored: list[Doc] = []
            final: dict[str, dict[str, Any]] = {}
            for ref, doc, expect_rev, fields, kind in planned:
                rev = check_rev(revs[ref.path], expect_rev, f"{kind} {doc['id']!r} in catalog {catalog_id!r}")
                revs[ref.path] = rev
                stored.append({**doc, "rev": rev})
                final[ref.path] = fields(stored[-1])
            return stored[: len(items)], final

        reads = [*refs.values(), *(ref for ref, _ in collections.values())]
        if len(refs) + len(extras) <= TXN_WRITES:
            tried: list[list[Doc]] = []  # what each round planned to store

            def decide(state: dict[str, dict[str, Any] | None]) -> tuple[list[Doc], dict[str, Any], list[Any]]:
                stored, final = plan({path: data for path, data in state.items() if data is not None})
                tried.append(stored)
                return stored, final, extras

            def collections_exist(transaction: Any) -> None:  # must still hold at commit
                check_collections(self._get_all([ref for ref, _ in collections.values()], what, transaction))

            try:
                precheck = collections_exist if collections else None
                return cast(list[Doc], self._compare_and_set(what, reads, decide, precheck=precheck))
            except Conflict:
                # A stale revision found after a commit whose answer was lost: the batch's own write
                # when its audit entries exist (then what it planned for that commit).
                if not tried or not extras or not self._committed(extras[0][0], what):
                    raise
                return tried[-1]
        read = self._snapshots(reads, what)
        stored, final = plan({p: snap.to_dict() for p, snap in read.items() if snap is not None and snap.exists})
        self._commit_in_parts(refs, read, final, extras, what)
        return stored

    def delete_item(
        self, catalog_id: str, collection_id: str, item_id: str, *, audit: Doc, expect_rev: int | None = None
    ) -> None:
        """Removes the item only (its assets are the service's to soft-delete)."""
        what = f"item {item_id!r} in collection {collection_id!r} of catalog {catalog_id!r}"
        self._delete_scope(self._item_ref(catalog_id, collection_id, item_id), [], audit, what, expect_rev)

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
            disjunctions, added = add_one_of(base, field, values, disjunctions)
            exact = exact and added
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
        check_limit(query.limit)
        if not query.catalog_ids:
            return Page(items=[])
        return self._search(query, self._item_scan)

    def count_items(self, query: ItemQuery) -> int:
        return self._count(query, self._item_scan)
