"""Catalogs, STAC collections and items, and item search on DynamoDB (layout: ``dynamo_store``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from dynastore.backends.aws.dynamo_base import SEP, DynamoBase, Query, attr, key, record, unpack
from dynastore.backends.aws.dynamo_sort import read_sources, sorted_page
from dynastore.backends.checks import require_str
from dynastore.domain.revisions import check_rev
from dynastore.domain.search import ItemQuery, Page, item_field_path, item_matches
from dynastore.errors import NotFound
from dynastore.ports import Doc

CATALOGS = "CAT"


class CatalogRecords(DynamoBase):
    # ------------------------------------------------------------------ catalogs
    def get_catalog(self, catalog_id: str) -> Doc:
        what = f"catalog {catalog_id!r}"
        return self._get_existing(CATALOGS, catalog_id, what, f"{what} does not exist")

    def list_catalogs(self, *, status: str | None = None, limit: int = 100, token: str | None = None) -> Page[Doc]:
        check = None if status is None else (lambda doc: doc.get("status") == status)
        return self._page(Query(CATALOGS), f"catalogs:{status}", limit, token, check)

    def put_catalog(self, doc: Doc, *, expect_rev: int | None, audit: Doc) -> Doc:
        catalog_id = require_str(doc, "id", "a catalog")
        return self._put_versioned(
            CATALOGS,
            catalog_id,
            doc,
            expect_rev,
            audit,
            lambda stored, _: record(CATALOGS, catalog_id, stored),
            f"catalog {catalog_id!r}",
        )

    # ------------------------------------------------------------------ collections
    def get_collection(self, catalog_id: str, collection_id: str) -> Doc:
        what = f"collection {collection_id!r}"
        return self._get_existing(
            f"C#{catalog_id}", collection_id, what, f"{what} does not exist in catalog {catalog_id!r}"
        )

    def list_collections(self, catalog_id: str, *, limit: int = 100, token: str | None = None) -> Page[Doc]:
        return self._page(Query(f"C#{catalog_id}"), f"collections:{catalog_id}", limit, token)

    def put_collection(self, catalog_id: str, doc: Doc, *, expect_rev: int | None, audit: Doc) -> Doc:
        collection_id = require_str(doc, "id", "a collection")
        pk = f"C#{catalog_id}"
        return self._put_versioned(
            pk,
            collection_id,
            doc,
            expect_rev,
            audit,
            lambda stored, _: record(pk, collection_id, stored),
            f"collection {collection_id!r}",
        )

    def _scope_keys(self, catalog_id: str, collection_id: str, item_id: str | None = None) -> list[tuple[str, str]]:
        """(pk, sk) of the items and assets under a collection (or under one item). Assets are found
        by reading the catalog's asset partition (no index by collection)."""
        keys: list[tuple[str, str]] = []
        for item in self._query(Query(f"A#{catalog_id}")):
            doc = unpack(item)
            if doc.get("collection_id") == collection_id and (item_id is None or doc.get("item_id") == item_id):
                keys.append((f"A#{catalog_id}", str(attr(item, "sk"))))
        if item_id is None:
            prefix = f"{collection_id}{SEP}"
            keys += [
                (f"I#{catalog_id}", str(attr(i, "sk")))
                for i in self._query(Query(f"I#{catalog_id}", begins_with=prefix))
            ]
        return keys

    def _delete_scope(
        self, pk: str, sk: str, keys: list[tuple[str, str]], audit: Doc, what: str, expect_rev: int | None
    ) -> None:
        """Delete ``keys`` then the target (NotFound if absent) with ``audit``: one transaction when
        it fits in 100 items, else batches with the target last, so a retry after a crash finishes the job.
        ``expect_rev``: the target's revision, checked before anything is deleted and again at the end."""
        self._audit_item(audit)
        found = self._get_item(pk, sk, what)
        if found is None:
            raise NotFound(f"{what} does not exist")
        check_rev(int(attr(found, "rev") or 0), expect_rev, what)
        room = 100 - 2
        head, tail = keys[: max(0, len(keys) - room)], keys[max(0, len(keys) - room) :]
        self._batch_write([{"DeleteRequest": {"Key": {"pk": {"S": p}, "sk": {"S": s}}}} for p, s in head], what)

        def finish() -> None:
            current = self._get_item(pk, sk, what)
            if current is None:
                raise NotFound(f"{what} does not exist")
            check_rev(int(attr(current, "rev") or 0), expect_rev, what)
            actions = [self._delete_action(p, s) for p, s in tail]
            actions += [self._delete_action(pk, sk, current), self._audit_action(audit)]
            self._transact(what, actions)

        self._cas(what, finish)

    def delete_collection(
        self, catalog_id: str, collection_id: str, *, audit: Doc, expect_rev: int | None = None
    ) -> None:
        what = f"collection {collection_id!r}"
        keys = self._scope_keys(catalog_id, collection_id)
        self._delete_scope(f"C#{catalog_id}", collection_id, keys, audit, what, expect_rev)

    # ------------------------------------------------------------------ items
    def get_item(self, catalog_id: str, collection_id: str, item_id: str) -> Doc:
        what = f"item {item_id!r}"
        missing = f"{what} does not exist in collection {collection_id!r} of catalog {catalog_id!r}"
        return self._get_existing(f"I#{catalog_id}", f"{collection_id}{SEP}{item_id}", what, missing)

    def get_items(self, catalog_id: str, keys: Sequence[tuple[str, str]]) -> list[Doc]:
        """``BatchGetItem`` (100 keys a request) for every key."""
        wanted = [key(f"I#{catalog_id}", f"{c}{SEP}{i}") for c, i in dict.fromkeys(keys)]
        return [unpack(item) for item in self._batch_get(wanted, "item batch get")]

    def list_items(
        self, catalog_id: str, collection_id: str, *, limit: int = 100, token: str | None = None
    ) -> Page[Doc]:
        query = Query(f"I#{catalog_id}", begins_with=f"{collection_id}{SEP}")
        return self._page(query, f"items:{catalog_id}:{collection_id}", limit, token)

    def put_item(self, catalog_id: str, doc: Doc, *, expect_rev: int | None, audit: Doc) -> Doc:
        item_id = require_str(doc, "id", "an item")
        collection_id = require_str(doc, "collection", "an item")
        if self._get_item(f"C#{catalog_id}", collection_id, "collection") is None:
            raise NotFound(f"collection {collection_id!r} does not exist in catalog {catalog_id!r}")
        pk, sk = f"I#{catalog_id}", f"{collection_id}{SEP}{item_id}"
        try:
            return self._put_versioned(
                pk,
                sk,
                doc,
                expect_rev,
                audit,
                lambda stored, _: record(pk, sk, stored),
                f"item {item_id!r}",
                extra=[self._exists_action(f"C#{catalog_id}", collection_id)],  # the collection must still be there
            )
        except Exception:
            if self._get_item(f"C#{catalog_id}", collection_id, "collection") is None:
                raise NotFound(f"collection {collection_id!r} does not exist in catalog {catalog_id!r}") from None
            raise

    def delete_item(
        self,
        catalog_id: str,
        collection_id: str,
        item_id: str,
        *,
        audit: Doc,
        expect_rev: int | None = None,
    ) -> None:
        """Removes only the item: its asset records stay (the service soft-deletes them)."""
        what = f"item {item_id!r}"
        self._delete_scope(f"I#{catalog_id}", f"{collection_id}{SEP}{item_id}", [], audit, what, expect_rev)

    # ------------------------------------------------------------------ item search
    def _item_sources(self, query: ItemQuery) -> list[Query]:
        catalogs = sorted(dict.fromkeys(query.catalog_ids))
        if len(query.collections) == 1:
            return [Query(f"I#{c}", begins_with=f"{query.collections[0]}{SEP}") for c in catalogs]
        return [Query(f"I#{c}") for c in catalogs]

    def _item_check(self, query: ItemQuery) -> Callable[[Doc], bool]:
        return lambda doc: item_matches(query, doc)

    def search_items(self, query: ItemQuery) -> Page[Doc]:
        sources = self._item_sources(query)
        check = self._item_check(query)
        if query.sortby:
            return sorted_page(read_sources(self, sources), check, query, _item_value, _item_tie)
        return self._multi_page(sources, "items-search", query.limit, query.token, check)

    def count_items(self, query: ItemQuery) -> int:
        check = self._item_check(query)
        return sum(1 for source in self._item_sources(query) for item in self._query(source) if check(unpack(item)))


def _item_value(doc: Doc, field: str) -> Any:
    path = item_field_path(field)
    if path in ("id", "collection"):
        return doc.get(path)
    return (doc.get("properties") or {}).get(field)


def _item_tie(doc: Doc, catalog: str) -> tuple[str, ...]:
    return (catalog, str(doc.get("collection") or ""), str(doc.get("id") or ""))
