"""Assets: reads, (bulk) writes, search and export on Firestore (a mixin of ``FirestoreMetadataStore``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

from dynastore.backends.gcp.firestore_base import FirestoreBase, add_one_of
from dynastore.backends.gcp.firestore_common import (
    ASSET_SORT_NATIVE,
    EXPORT_BATCH,
    MAX_IN,
    TXN_WRITES,
    asset_fields,
    audit_fields,
    check_limit,
    unpack,
)
from dynastore.backends.gcp.firestore_scan import Filter, Scan
from dynastore.backends.gcp.grams import gram_key, query_grams
from dynastore.domain.revisions import check_rev
from dynastore.domain.search import AssetQuery, Page, asset_matches
from dynastore.errors import Invalid, NotFound
from dynastore.ports import AssetWrite, Doc


class AssetRecords(FirestoreBase):
    # ------------------------------------------------------------------ assets
    def get_asset(self, catalog_id: str, asset_id: str) -> Doc:
        return self._get_existing(
            self._asset_ref(catalog_id, asset_id),
            f"asset {asset_id!r}",
            f"asset {asset_id!r} does not exist in catalog {catalog_id!r}",
        )

    def get_assets(self, catalog_id: str, asset_ids: Sequence[str]) -> list[Doc]:
        refs = [self._asset_ref(catalog_id, i) for i in dict.fromkeys(asset_ids)]
        return [unpack(data) for data in self._get_all(refs, "bulk get").values()]

    def write_assets(self, writes: Sequence[AssetWrite], *, audits: Sequence[Doc]) -> list[Doc]:
        if not writes and not audits:
            return []
        for write in writes:
            asset_fields(write.doc)  # validates before anything is written
        audit_rows = [(self._audit_ref(a), audit_fields(a)) for a in audits]
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
        """A write too big for one commit: every revision is checked first (nothing is written on a
        stale one), then ``_commit_in_parts``."""
        read = self._snapshots(list(unique.values()), "asset write")
        before = {p: snap.to_dict() for p, snap in read.items() if snap is not None and snap.exists}
        stored, final = plan(revisions(before))
        fields = {path: asset_fields(doc) for path, doc in final.items()}
        self._commit_in_parts(unique, read, fields, audit_rows, "asset write")
        return stored

    def delete_asset(self, catalog_id: str, asset_id: str, *, audit: Doc, expect_rev: int | None = None) -> None:
        what = f"asset {asset_id!r} in catalog {catalog_id!r}"
        ref = self._asset_ref(catalog_id, asset_id)
        extras = [(self._audit_ref(audit), audit_fields(audit))]

        def plan(state: dict[str, dict[str, Any] | None]) -> tuple[None, dict[str, Any], list[Any]]:
            current = state[ref.path]
            if current is None:
                raise NotFound(f"asset {asset_id!r} does not exist in catalog {catalog_id!r}")
            check_rev(current.get("rev"), expect_rev, what)
            return None, {ref.path: None}, extras

        self._compare_and_set(what, [ref], plan)

    # ------------------------------------------------------------------ asset search
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
            disjunctions, added = add_one_of(base, field, values, disjunctions)
            exact = exact and added
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

    def search_assets(self, query: AssetQuery) -> Page[Doc]:
        check_limit(query.limit)
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
