"""Assets on DynamoDB: atomic multi-asset writes with their audit events, search, export
(layout: ``dynamo_store``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from dynastore.backends.aws._errors import sdk_errors
from dynastore.backends.aws.dynamo_base import (
    SENT_BY,
    SEP,
    TXN_ITEMS,
    DynamoBase,
    Item,
    Query,
    attr,
    chunks,
    key,
    record,
    unpack,
)
from dynastore.backends.aws.dynamo_sort import read_sources, sorted_page
from dynastore.backends.checks import require_str
from dynastore.domain.asset import time_bounds
from dynastore.domain.revisions import check_rev
from dynastore.domain.search import AssetQuery, Page, asset_matches
from dynastore.errors import Conflict, Invalid, NotFound
from dynastore.ports import AssetWrite, Doc, ItemWrite


def asset_item(doc: Doc) -> Item:
    catalog_id, asset_id = doc["catalog_id"], doc["id"]
    updated = f"{doc.get('updated') or ''}{SEP}{asset_id}"
    return record(f"A#{catalog_id}", asset_id, doc, gsi1pk=f"AU#{catalog_id}", gsi1sk=updated)


_Part = tuple[list[dict[str, Any]], dict[str, str] | None]  # a committed part's actions and its token


class AssetRecords(DynamoBase):
    def get_asset(self, catalog_id: str, asset_id: str) -> Doc:
        what = f"asset {asset_id!r}"
        return self._get_existing(f"A#{catalog_id}", asset_id, what, f"{what} does not exist in catalog {catalog_id!r}")

    def get_assets(self, catalog_id: str, asset_ids: Sequence[str]) -> list[Doc]:
        keys = [key(f"A#{catalog_id}", i) for i in dict.fromkeys(asset_ids)]
        return [unpack(item) for item in self._batch_get(keys, "assets")]

    # ------------------------------------------------------------------ writes
    def write_assets(self, writes: Sequence[AssetWrite], *, audits: Sequence[Doc]) -> list[Doc]:
        """All writes and audit events in one TransactWriteItems when they fit in 100 items; above
        that, every revision is checked first, then conditional transactions of up to 100 items, and
        if a later one fails the earlier ones are undone by compensating writes (restore what was
        there, remove their audit events) before the whole is re-read and retried."""
        for write in writes:
            require_str(write.doc, "catalog_id", "an asset")
            require_str(write.doc, "id", "an asset")
        audit_items = [self._audit_item(a) for a in audits]
        if not writes:
            self._batch_write([{"PutRequest": {"Item": item}} for item in audit_items], "audit")
            return []
        what = "asset write" if len(writes) == 1 else f"write of {len(writes)} assets"

        def attempt() -> list[Doc]:
            keys = {(w.doc["catalog_id"], w.doc["id"]) for w in writes}
            found = self._batch_get([key(f"A#{c}", a) for c, a in keys], what)
            read = {(str(attr(i, "pk"))[2:], str(attr(i, "sk"))): i for i in found}
            state: dict[tuple[str, str], Doc | None] = {k: (unpack(read[k]) if k in read else None) for k in keys}
            results: list[Doc] = []
            for write in writes:
                k = (write.doc["catalog_id"], write.doc["id"])
                current = state[k]
                rev = check_rev(current.get("rev") if current else None, write.expect_rev, f"asset {k[1]!r}")
                stored = {**write.doc, "rev": rev}
                state[k] = stored
                results.append(stored)
            puts = [self._put_action(asset_item(doc), read.get(k)) for k, doc in state.items() if doc is not None]
            audits_actions = [{"Put": {"TableName": self.table, "Item": item}} for item in audit_items]
            actions = puts + audits_actions
            if len(actions) <= TXN_ITEMS:
                self._transact(what, actions)
            else:
                self._transact_in_parts(
                    what, actions, lambda pk, sk: read.get((pk[2:], sk)) if pk[:2] == "A#" else None
                )
            return results

        result: list[Doc] = self._cas(what, attempt)
        return result

    def write_items(
        self,
        catalog_id: str,
        items: Sequence[ItemWrite],
        *,
        assets: Sequence[AssetWrite] = (),
        audits: Sequence[Doc] = (),
    ) -> list[Doc]:
        """Items, assets and every audit event in one TransactWriteItems when they fit in 100 actions;
        above that, the collections and every revision are read first (BatchGetItem), then
        conditional transactions of 100, earlier ones undone by compensating writes if a later one
        fails (as ``write_assets``)."""
        keyed: list[tuple[str, str, str, Doc, int | None]] = []  # kind, pk, sk, doc, expect_rev
        for w in items:
            collection_id, item_id = require_str(w.doc, "collection", "an item"), require_str(w.doc, "id", "an item")
            keyed.append(("item", f"I#{catalog_id}", f"{collection_id}{SEP}{item_id}", w.doc, w.expect_rev))
        for a in assets:
            asset_catalog, asset_id = require_str(a.doc, "catalog_id", "an asset"), require_str(a.doc, "id", "an asset")
            keyed.append(("asset", f"A#{asset_catalog}", asset_id, a.doc, a.expect_rev))
        audit_items = [self._audit_item(w.audit) for w in items] + [self._audit_item(a) for a in audits]
        collections = sorted({w.doc["collection"] for w in items})
        what = f"write of {len(items)} items and {len(assets)} assets"

        def attempt() -> list[Doc]:
            wanted = {(pk, sk) for _, pk, sk, _, _ in keyed} | {(f"C#{catalog_id}", c) for c in collections}
            found = self._batch_get([key(pk, sk) for pk, sk in wanted], what)
            read = {(str(attr(i, "pk")), str(attr(i, "sk"))): i for i in found}
            for collection_id in collections:
                if (f"C#{catalog_id}", collection_id) not in read:
                    raise NotFound(f"collection {collection_id!r} does not exist in catalog {catalog_id!r}")
            state: dict[tuple[str, str], tuple[str, Doc]] = {}
            stored_items: list[Doc] = []
            for kind, pk, sk, doc, expect_rev in keyed:
                k = (pk, sk)
                current = state[k][1] if k in state else (unpack(read[k]) if k in read else None)
                rev = check_rev(current.get("rev") if current else None, expect_rev, f"{kind} {doc['id']!r}")
                state[k] = (kind, {**doc, "rev": rev})
                if kind == "item":
                    stored_items.append(state[k][1])
            actions = [
                self._put_action(record(pk, sk, doc) if kind == "item" else asset_item(doc), read.get((pk, sk)))
                for (pk, sk), (kind, doc) in state.items()
            ]
            actions += [self._exists_action(f"C#{catalog_id}", c) for c in collections]
            actions += [{"Put": {"TableName": self.table, "Item": item}} for item in audit_items]
            if len(actions) <= TXN_ITEMS:
                self._transact(what, actions)
            else:
                self._transact_in_parts(what, actions, lambda pk, sk: read.get((pk, sk)))
            return stored_items

        result: list[Doc] = self._cas(what, attempt)
        return result

    def _transact_in_parts(
        self, what: str, actions: list[dict[str, Any]], before: Callable[[str, str], Item | None]
    ) -> None:
        done: list[_Part] = []
        for part in chunks(actions, TXN_ITEMS):
            try:
                token = self._transact(what, part)
            except BaseException:
                self._undo(done, before)
                raise
            done.append((part, token))

    def _undo(self, done: list[_Part], before_of: Callable[[str, str], Item | None]) -> None:
        """Put back what was there before the ``done`` parts' puts (compensating writes), each only while
        the record still holds what its part wrote (its token, ``SENT_BY``): a record another writer
        changed since is theirs now and stays."""
        for part, token in done:
            for action in part:
                if "Put" not in action or token is None:
                    continue  # a ConditionCheck wrote nothing
                item = action["Put"]["Item"]
                pk, sk = item["pk"]["S"], item["sk"]["S"]
                ours = {
                    "ConditionExpression": "#sent = :token",
                    "ExpressionAttributeNames": {"#sent": SENT_BY},
                    "ExpressionAttributeValues": {":token": token},
                }
                before = before_of(pk, sk)
                try:
                    with sdk_errors("undo of a partial asset write"):
                        if before is not None:
                            self.client.put_item(TableName=self.table, Item=before, **ours)
                        else:
                            self.client.delete_item(TableName=self.table, Key=key(pk, sk), **ours)
                except Conflict:
                    continue  # changed by another writer since: left as they wrote it

    def delete_asset(self, catalog_id: str, asset_id: str, *, audit: Doc, expect_rev: int | None = None) -> None:
        what = f"asset {asset_id!r}"
        self._audit_item(audit)

        def attempt() -> None:
            current = self._get_item(f"A#{catalog_id}", asset_id, what)
            if current is None:
                raise NotFound(f"{what} does not exist in catalog {catalog_id!r}")
            check_rev(int(attr(current, "rev") or 0), expect_rev, what)
            self._transact(what, [self._delete_action(f"A#{catalog_id}", asset_id, current), self._audit_action(audit)])

        self._cas(what, attempt)

    # ------------------------------------------------------------------ search
    def _asset_check(self, query: AssetQuery) -> Callable[[Doc], bool]:
        geometries: dict[tuple[str, str, str], Any] = {}

        def item_geometry(doc: Doc) -> Any:
            k = (doc["catalog_id"], str(doc.get("collection_id") or ""), str(doc.get("item_id") or ""))
            if k not in geometries:
                try:
                    item = self.get_item(*k)  # type: ignore[attr-defined]
                    geometries[k] = item.get("geometry") or item.get("bbox")
                except NotFound:
                    geometries[k] = None
            return geometries[k]

        return lambda doc: asset_matches(query, doc, item_geometry)

    def _asset_sources(self, query: AssetQuery) -> list[Query]:
        return [Query(f"A#{c}") for c in sorted(dict.fromkeys(query.catalog_ids))]

    def search_assets(self, query: AssetQuery) -> Page[Doc]:
        check = self._asset_check(query)
        if query.ids and len(query.ids) * len(query.catalog_ids) <= self.sort_cap:
            # A few named assets: read them directly, check and sort in memory.
            keys = [key(f"A#{c}", i) for c in dict.fromkeys(query.catalog_ids) for i in dict.fromkeys(query.ids)]
            found = ((doc["catalog_id"], doc) for doc in map(unpack, self._batch_get(keys, "asset search")))
            return sorted_page(found, check, query, _asset_value, _asset_tie)
        if query.sortby:
            return sorted_page(read_sources(self, self._asset_sources(query)), check, query, _asset_value, _asset_tie)
        return self._multi_page(self._asset_sources(query), "assets-search", query.limit, query.token, check)

    def count_assets(self, query: AssetQuery) -> int:
        if not query.catalog_ids:
            return 0
        check = self._asset_check(query)
        return sum(1 for source in self._asset_sources(query) for item in self._query(source) if check(unpack(item)))

    def export_assets(
        self, catalog_id: str, *, since: str | None = None, statuses: Sequence[str] = ("active",)
    ) -> Iterator[Doc]:
        if isinstance(statuses, str):
            raise Invalid("statuses must be a list of statuses")
        wanted = set(statuses)
        for item in self._query(Query(f"AU#{catalog_id}", index="gsi1", at_least=since or None), page_size=1000):
            doc = unpack(item)
            if (doc.get("status") or "active") in wanted:
                yield doc


def _asset_value(doc: Doc, field: str) -> Any:
    if field == "datetime":
        return time_bounds(doc)[0]
    if field == "file:size":
        size = doc.get("file:size")
        return size if isinstance(size, int) and not isinstance(size, bool) else None
    return doc.get(field)


def _asset_tie(doc: Doc, catalog: str) -> tuple[str, ...]:
    return (catalog, str(doc.get("id") or ""))
