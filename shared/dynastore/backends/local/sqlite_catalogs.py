"""Catalogs, STAC collections and items of the SQLite metadata store (and STAC item search)."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from itertools import chain
from typing import Any, NamedTuple

import orjson

from dynastore.backends.local.sql_filters import json_path, split_filter
from dynastore.backends.local.sqlite_base import SqliteDatabase, gc_paused
from dynastore.backends.local.sqlite_common import (
    OrderKey,
    Selection,
    audit_rows,
    check_limit,
    count_matching,
    dumps,
    insert_audit_rows,
    insert_audits,
    keyset_page,
    loads,
    next_rev,
    require_str,
    search_order,
    table_page,
)
from dynastore.backends.local.sqlite_members import batch_members, item_scopes, store_batch_members
from dynastore.config import Settings
from dynastore.domain.asset_members import RECORD_SIGNS
from dynastore.domain.filters import bbox_polygon
from dynastore.domain.geo_bounds import simple_bounds
from dynastore.domain.revisions import check_rev
from dynastore.domain.search import (
    ITEM_SORT_FIELDS,
    ItemQuery,
    Page,
    free_text_terms,
    item_field_path,
    item_search_text,
)
from dynastore.domain.search import item_time_bounds as _item_time_bounds
from dynastore.errors import Invalid, NotFound
from dynastore.ports import AssetWrite, Doc, ItemText, ItemWrite


def geometry_bounds(value: Any) -> tuple[float, float, float, float] | None:
    """(minx, miny, maxx, maxy) of a GeoJSON geometry or a 4/6-number bbox; None if empty."""
    if isinstance(value, list) and len(value) in (4, 6) and all(isinstance(v, int | float) for v in value):
        if len(value) == 6:
            return float(value[0]), float(value[1]), float(value[3]), float(value[4])
        return float(value[0]), float(value[1]), float(value[2]), float(value[3])
    if isinstance(value, dict) and "type" in value:
        simple = simple_bounds(value)
        if simple is not None:
            return simple
        from shapely.geometry import shape

        try:
            geometry = shape(value)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            raise Invalid(f"geometry is not valid GeoJSON: {exc}") from exc
        if geometry.is_empty:
            return None
        minx, miny, maxx, maxy = geometry.bounds
        if any(math.isnan(v) for v in (minx, miny, maxx, maxy)):
            return None
        return minx, miny, maxx, maxy
    return None


def _rtree_hit(bounds: tuple[float, float, float, float], alias: str) -> tuple[str, list[Any]]:
    minx, miny, maxx, maxy = bounds
    sql = f"{alias}.seq IN (SELECT seq FROM item_bounds WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)"
    return sql, [maxx, minx, maxy, miny]


def item_geometry_condition(geometry: dict[str, Any], alias: str = "i") -> tuple[str, list[Any]]:
    """Items (table alias ``alias``) whose ``geometry or bbox`` intersects ``geometry``: the R*Tree
    pre-selects by bounding box, shapely decides exactly."""
    bounds = geometry_bounds(geometry)
    if bounds is None:
        return "0", []
    rtree_sql, params = _rtree_hit(bounds, alias)
    doc = f"{alias}.doc"
    exact = (
        f"item_geo_intersects(json_type({doc}, '$.geometry'), json_extract({doc}, '$.geometry'), "
        f"json_type({doc}, '$.bbox'), json_extract({doc}, '$.bbox'), ?)"
    )
    return f"({rtree_sql} AND {exact})", [*params, dumps(geometry)]


def time_overlap(lo: str | None, hi: str | None, alias: str) -> tuple[str, list[Any]]:
    """Rows whose [dt_start, dt_end] (either end open) meets [lo, hi] (either end open)."""
    parts = [f"({alias}.dt_start IS NOT NULL OR {alias}.dt_end IS NOT NULL)"]
    params: list[Any] = []
    if hi is not None:
        parts.append(f"({alias}.dt_start IS NULL OR {alias}.dt_start <= ?)")
        params.append(hi)
    if lo is not None:
        parts.append(f"({alias}.dt_end IS NULL OR {alias}.dt_end >= ?)")
        params.append(lo)
    return "(" + " AND ".join(parts) + ")", params


# The limit ``item_members`` rows are computed at: what the service asks with the default
# ``item_embed_max`` (embedded, plus one to tell when there are more).
MEMBERS_LIMIT = Settings.model_fields["item_embed_max"].default + 1


def marks(values: Any) -> str:
    return ", ".join("?" * len(values))


class CatalogRecords:
    db: SqliteDatabase
    # ``AssetRecords``'s (the store class combines the mixins)
    prepare_asset_writes: Callable[[Sequence[AssetWrite]], list[Any]]
    write_prepared_assets: Callable[..., list[Doc]]

    # ------------------------------------------------------------------ catalogs
    def get_catalog(self, catalog_id: str) -> Doc:
        row = self.db.query_one("SELECT doc FROM catalogs WHERE id = ?", (catalog_id,))
        if row is None:
            raise NotFound(f"catalog {catalog_id!r} does not exist")
        return loads(row[0])

    def list_catalogs(self, *, status: str | None = None, limit: int = 100, token: str | None = None) -> Page[Doc]:
        return table_page(
            self.db, "catalogs", equal={"status": status}, order=[OrderKey("id")], limit=limit, token=token
        )

    def put_catalog(self, doc: Doc, *, expect_rev: int | None, audit: Doc) -> Doc:
        catalog_id = require_str(doc, "id", "a catalog")
        with self.db.write() as conn:
            rev = next_rev(conn, "catalogs", {"id": catalog_id}, expect_rev, f"catalog {catalog_id!r}")
            stored = {**doc, "rev": rev}
            conn.execute(
                "INSERT INTO catalogs (id, status, rev, doc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET status = excluded.status, rev = excluded.rev, doc = excluded.doc",
                (catalog_id, stored.get("status"), rev, dumps(stored)),
            )
            insert_audits(conn, [audit])
        return stored

    # ------------------------------------------------------------------ collections
    def get_collection(self, catalog_id: str, collection_id: str) -> Doc:
        row = self.db.query_one(
            "SELECT doc FROM collections WHERE catalog_id = ? AND id = ?", (catalog_id, collection_id)
        )
        if row is None:
            raise NotFound(f"collection {collection_id!r} does not exist in catalog {catalog_id!r}")
        return loads(row[0])

    def list_collections(self, catalog_id: str, *, limit: int = 100, token: str | None = None) -> Page[Doc]:
        return table_page(
            self.db, "collections", equal={"catalog_id": catalog_id}, order=[OrderKey("id")], limit=limit, token=token
        )

    def put_collection(self, catalog_id: str, doc: Doc, *, expect_rev: int | None, audit: Doc) -> Doc:
        collection_id = require_str(doc, "id", "a collection")
        with self.db.write() as conn:
            key = {"catalog_id": catalog_id, "id": collection_id}
            rev = next_rev(conn, "collections", key, expect_rev, f"collection {collection_id!r}")
            stored = {**doc, "rev": rev}
            conn.execute(
                "INSERT INTO collections (catalog_id, id, rev, doc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (catalog_id, id) DO UPDATE SET rev = excluded.rev, doc = excluded.doc",
                (catalog_id, collection_id, rev, dumps(stored)),
            )
            insert_audits(conn, [audit])
        return stored

    def delete_collection(
        self, catalog_id: str, collection_id: str, *, audit: Doc, expect_rev: int | None = None
    ) -> None:
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT rev FROM collections WHERE catalog_id = ? AND id = ?", (catalog_id, collection_id)
            ).fetchone()
            if row is None:
                raise NotFound(f"collection {collection_id!r} does not exist in catalog {catalog_id!r}")
            check_rev(row[0], expect_rev, f"collection {collection_id!r}")
            conn.execute("DELETE FROM collections WHERE catalog_id = ? AND id = ?", (catalog_id, collection_id))
            scope = (catalog_id, collection_id)
            conn.execute("DELETE FROM assets WHERE catalog_id = ? AND collection_id = ?", scope)
            conn.execute(
                "DELETE FROM item_bounds WHERE seq IN "
                "(SELECT seq FROM items WHERE catalog_id = ? AND collection_id = ?)",
                scope,
            )
            conn.execute("DELETE FROM items WHERE catalog_id = ? AND collection_id = ?", scope)
            insert_audits(conn, [audit])

    # ------------------------------------------------------------------ items
    def get_item(self, catalog_id: str, collection_id: str, item_id: str) -> Doc:
        row = self.db.query_one(
            "SELECT doc FROM items WHERE catalog_id = ? AND collection_id = ? AND id = ?",
            (catalog_id, collection_id, item_id),
        )
        if row is None:
            raise NotFound(f"item {item_id!r} does not exist in collection {collection_id!r} of catalog {catalog_id!r}")
        return loads(row[0])

    def get_items(self, catalog_id: str, keys: Sequence[tuple[str, str]]) -> list[Doc]:
        """One statement for every key (the primary index, probed per key)."""
        if not keys:
            return []
        rows = self.db.query(
            "SELECT i.doc FROM json_each(?) AS k CROSS JOIN items AS i ON i.catalog_id = ? "
            "AND i.collection_id = json_extract(k.value, '$[0]') AND i.id = json_extract(k.value, '$[1]')",
            (dumps([list(k) for k in dict.fromkeys(keys)]), catalog_id),
        )
        with gc_paused():
            return [loads(row[0]) for row in rows]

    def item_asset_members(
        self, catalog_id: str, keys: Sequence[tuple[str, str]], limit: int
    ) -> dict[tuple[str, str], tuple[int, str | None]]:
        """``domain.asset_members.asset_members_json`` in SQL: one row per item with its count and
        members text (``_ITEM_MEMBERS_SQL``: stored in ``item_members`` or computed), no per-asset row or
        object in Python."""
        out: dict[tuple[str, str], tuple[int, str | None]] = {}
        if not keys or limit < 1:
            return out
        rows = self.db.query(
            _ITEM_MEMBERS_SQL, (catalog_id, limit, dumps([list(k) for k in dict.fromkeys(keys)]), MEMBERS_LIMIT)
        )
        for collection_id, item_id, text in rows:
            if text:  # None or '': no assets
                count, bad, members = text.split(" ", 2)
                out[(collection_id, item_id)] = int(count), None if bad != "0" else members
        return out

    def list_items(
        self, catalog_id: str, collection_id: str, *, limit: int = 100, token: str | None = None
    ) -> Page[Doc]:
        return table_page(
            self.db,
            "items",
            equal={"catalog_id": catalog_id, "collection_id": collection_id},
            order=[OrderKey("id")],
            limit=limit,
            token=token,
        )

    def put_item(self, catalog_id: str, doc: Doc, *, expect_rev: int | None, audit: Doc) -> Doc:
        item_id = require_str(doc, "id", "an item")
        collection_id = require_str(doc, "collection", "an item")
        bounds = geometry_bounds(doc.get("geometry") or doc.get("bbox"))
        dt_start, dt_end = _item_time_bounds(doc)
        search = item_search_text(doc)
        with self.db.write() as conn:
            if (
                conn.execute(
                    "SELECT 1 FROM collections WHERE catalog_id = ? AND id = ?", (catalog_id, collection_id)
                ).fetchone()
                is None
            ):
                raise NotFound(f"collection {collection_id!r} does not exist in catalog {catalog_id!r}")
            row = conn.execute(
                "SELECT seq, rev FROM items WHERE catalog_id = ? AND collection_id = ? AND id = ?",
                (catalog_id, collection_id, item_id),
            ).fetchone()
            rev = check_rev(row[1] if row else None, expect_rev, f"item {item_id!r}")
            stored = {**doc, "rev": rev}
            values = (dt_start, dt_end, search, rev, dumps(stored))
            if row:
                seq = row[0]
                conn.execute(
                    "UPDATE items SET dt_start = ?, dt_end = ?, search_text = ?, rev = ?, doc = ? WHERE seq = ?",
                    (*values, seq),
                )
            else:
                seq = conn.execute(
                    "INSERT INTO items (catalog_id, collection_id, id, dt_start, dt_end, search_text, rev, doc) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (catalog_id, collection_id, item_id, *values),
                ).lastrowid
            _set_bounds(conn, seq, bounds)
            insert_audits(conn, [audit])
        return stored

    def write_items(
        self,
        catalog_id: str,
        items: Sequence[ItemWrite],
        *,
        assets: Sequence[AssetWrite] = (),
        audits: Sequence[Doc] = (),
    ) -> list[Doc]:
        """One transaction: the collections and current revisions of every item read in one query
        each, the items written, then the assets (their rows and audit rows prepared before the write
        lock). An item named twice is written in order, one ``put_item`` at a time."""
        named_twice = len({(w.doc.get("collection"), w.doc.get("id")) for w in items}) < len(items)
        prepared_items = None if named_twice else _prepare_items(items)  # these four before the lock
        prepared, audit_rows_ = self.prepare_asset_writes(assets), audit_rows(audits)
        members = batch_members(prepared, item_scopes(catalog_id, items), MEMBERS_LIMIT)
        with self.db.write() as conn:
            if prepared_items is None:
                stored = [self.put_item(catalog_id, w.doc, expect_rev=w.expect_rev, audit=w.audit) for w in items]
            else:
                stored = _put_items(conn, catalog_id, *prepared_items)
            if prepared or audit_rows_:
                self.write_prepared_assets(prepared, audit_rows_, refill=False)
            done = store_batch_members(conn, members)
            touched = chain(
                ((catalog_id, d["collection"], d["id"]) for d in stored),
                ((row[0], row[2], row[3]) for _, row, _, _ in prepared if row[4] == "item"),
            )
            refill_members(conn, (scope for scope in touched if scope not in done))
        return stored

    def delete_item(
        self, catalog_id: str, collection_id: str, item_id: str, *, audit: Doc, expect_rev: int | None = None
    ) -> None:
        """Removes the item only (its assets are the service's to soft-delete)."""
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT seq, rev FROM items WHERE catalog_id = ? AND collection_id = ? AND id = ?",
                (catalog_id, collection_id, item_id),
            ).fetchone()
            if row is None:
                raise NotFound(
                    f"item {item_id!r} does not exist in collection {collection_id!r} of catalog {catalog_id!r}"
                )
            check_rev(row[1], expect_rev, f"item {item_id!r}")
            conn.execute("DELETE FROM items WHERE seq = ?", (row[0],))
            conn.execute("DELETE FROM item_bounds WHERE seq = ?", (row[0],))
            insert_audits(conn, [audit])

    # ------------------------------------------------------------------ item search
    def _item_selection(self, query: ItemQuery) -> Selection:
        where = [f"i.catalog_id IN ({marks(query.catalog_ids)})"]
        params: list[Any] = list(query.catalog_ids)
        if query.collections:
            where.append(f"i.collection_id IN ({marks(query.collections)})")
            params.extend(query.collections)
        if query.ids:
            where.append("i.id IN (SELECT value FROM json_each(?))")
            params.append(dumps(list(query.ids)))
        for geometry in (
            bbox_polygon(list(query.bbox)) if query.bbox is not None else None,
            query.intersects,
        ):
            if geometry is not None:
                sql, geo_params = item_geometry_condition(geometry)
                where.append(sql)
                params.extend(geo_params)
        if query.datetime is not None:
            sql, dt_params = time_overlap(query.datetime[0], query.datetime[1], "i")
            where.append(sql)
            params.extend(dt_params)
        terms = free_text_terms(query.q)
        if terms:
            where.append("(" + " OR ".join("instr(i.search_text, ?) > 0" for _ in terms) + ")")
            params.extend(terms)
        filter_sql, filter_params, residual = split_filter(query.filter, "i.doc")
        if filter_sql:
            where.append(filter_sql)
            params.extend(filter_params)
        # ``ids`` name few rows: probe (catalog_id, id) and sort them, rather than walk the whole catalog
        # in the search order on the unique index (the planner's choice: 20,000 rows for 1,000 ids)
        source = "items AS i INDEXED BY items_catalog_id" if query.ids else "items AS i"
        return Selection(source, "i.doc", where, params, residual)

    def search_items(self, query: ItemQuery) -> Page[Doc]:
        check_limit(query.limit)
        if not query.catalog_ids:
            return Page(items=[])
        if _ids_only(query):
            page = self._items_by_ids(query)
            if page is not None:
                return page
        selection = self._item_selection(query)
        order = search_order(
            query.sortby,
            sortable=ITEM_SORT_FIELDS,
            sql=_item_sort_sql,
            tiebreak=[("catalog_id", "i.catalog_id"), ("collection", "i.collection_id"), ("id", "i.id")],
            refusal="cannot sort items by",
        )
        return keyset_page(self.db, selection, kind="item-search", order=order, limit=query.limit, token=query.token)

    def _items_by_ids(self, query: ItemQuery) -> Page[Doc] | None:
        """A search by ``ids`` alone whose every match fits on the first page: one statement probing
        (catalog_id, id) in the search's order, no keyset bookkeeping; None: more match (paged)."""
        rows = self._rows_by_ids(query)
        if rows is None:
            return None
        parse = orjson.loads
        with gc_paused():
            return Page(items=[parse(row[4]) for row in rows], next_token=None)

    def search_item_texts(self, query: ItemQuery) -> list[ItemText] | None:
        if not _ids_only(query) or not query.catalog_ids:
            return None
        check_limit(query.limit)
        rows = self._rows_by_ids(
            query, "ifnull(json_array_length(i.doc, '$.links') = 0 AND json_type(i.doc, '$.assets') IS NULL, 0)"
        )
        if rows is None:
            return None
        return [ItemText(c, col, i, rev, doc, bool(plain)) for c, col, i, rev, doc, plain in rows]

    def _rows_by_ids(self, query: ItemQuery, *columns: str) -> list[Any] | None:
        """``(catalog_id, collection_id, id, rev, doc, *columns)`` of the items of ``query`` (ids alone) in
        the search's order, None when more than its limit match. Sorted here: SQLite would sort the
        documents along (and text order is the same: UTF-8 bytes sort as code points)."""
        rows = self.db.query(
            f"SELECT i.catalog_id, i.collection_id, i.id, i.rev, i.doc{''.join(f', {c}' for c in columns)} "
            f"FROM items AS i INDEXED BY items_catalog_id WHERE i.catalog_id IN ({marks(query.catalog_ids)}) "
            "AND i.id IN (SELECT value FROM json_each(?)) LIMIT ?",
            (*query.catalog_ids, dumps(list(query.ids)), query.limit + 1),
        )
        if len(rows) > query.limit:
            return None
        rows.sort(key=lambda row: (row[0], row[1], row[2]))
        return rows

    def count_items(self, query: ItemQuery) -> int:
        if not query.catalog_ids:
            return 0
        return count_matching(self.db, self._item_selection(query))


def _ids_only(query: ItemQuery) -> bool:
    """Does ``query`` name ``ids`` and nothing else but its catalogs and limit (first page, default order)?"""
    return bool(query.ids) and query == ItemQuery(catalog_ids=query.catalog_ids, ids=query.ids, limit=query.limit)


def _item_sort_sql(name: str) -> str:
    if name == "id":
        return "i.id"
    if name == "collection":
        return "i.collection_id"
    return f"ifnull(json_extract(i.doc, {json_path(item_field_path(name))}), '')"


class _PreparedItem(NamedTuple):
    """What ``_put_items`` writes of an item that does not depend on its stored revision, and its
    stored document and JSON as a new item (rev 1)."""

    write: ItemWrite
    collection_id: str
    item_id: str
    dt_start: str | None
    dt_end: str | None
    search_text: str
    bounds: tuple[float, float, float, float] | None
    as_new: Doc
    as_new_json: str | None  # None: the write names a revision to update (expect_rev > 0)


def _prepare_items(items: Sequence[ItemWrite]) -> tuple[list[_PreparedItem], list[tuple[Any, ...]]]:
    """The items' rows and audit rows, built before the write lock (``dynastore load --workers``: the
    other writers wait for the lock, not for this)."""
    prepared = []
    for w in items:
        doc = {**w.doc, "rev": 1}
        dt_start, dt_end = _item_time_bounds(doc)
        prepared.append(
            _PreparedItem(
                w,
                require_str(doc, "collection", "an item"),
                require_str(doc, "id", "an item"),
                dt_start,
                dt_end,
                item_search_text(doc),
                geometry_bounds(doc.get("geometry") or doc.get("bbox")),
                doc,
                dumps(doc) if w.expect_rev in (0, None) else None,
            )
        )
    return prepared, audit_rows([w.audit for w in items])


def _put_items(
    conn: sqlite3.Connection, catalog_id: str, keyed: list[_PreparedItem], audits: list[tuple[Any, ...]]
) -> list[Doc]:
    """``put_item`` of distinct items (``_prepare_items``) inside the caller's transaction, with batched
    reads and audits."""
    by_collection: dict[str, list[str]] = {}
    for item in keyed:
        by_collection.setdefault(item.collection_id, []).append(item.item_id)
    current: dict[tuple[str, str], tuple[int, int]] = {}
    for collection_id, ids in by_collection.items():
        if conn.execute(
            "SELECT 1 FROM collections WHERE catalog_id = ? AND id = ?", (catalog_id, collection_id)
        ).fetchone() is None:
            raise NotFound(f"collection {collection_id!r} does not exist in catalog {catalog_id!r}")
        for item_id, seq, rev in conn.execute(
            "SELECT id, seq, rev FROM items WHERE catalog_id = ? AND collection_id = ? "
            "AND id IN (SELECT value FROM json_each(?))",
            (catalog_id, collection_id, dumps(ids)),
        ):
            current[(collection_id, item_id)] = (seq, rev)
    stored: list[Doc] = []
    updates: list[tuple[Any, ...]] = []
    inserts: list[tuple[Any, ...]] = []
    new_bounds: dict[tuple[str, str], tuple[float, float, float, float] | None] = {}
    bounds: list[tuple[int, tuple[float, float, float, float] | None]] = []
    for item in keyed:
        collection_id, item_id, box = item.collection_id, item.item_id, item.bounds
        row = current.get((collection_id, item_id))
        rev = check_rev(row[1] if row else None, item.write.expect_rev, f"item {item_id!r}")
        if rev == 1 and item.as_new_json is not None:
            doc, doc_json = item.as_new, item.as_new_json
        else:
            doc, doc_json = _at_rev(item.write.doc, rev)
        values = (item.dt_start, item.dt_end, item.search_text, rev, doc_json)
        if row:
            updates.append((*values, row[0]))
            bounds.append((row[0], box))
        else:
            inserts.append((catalog_id, collection_id, item_id, *values))
            new_bounds[(collection_id, item_id)] = box
        stored.append(doc)
    if updates:
        conn.executemany(
            "UPDATE items SET dt_start = ?, dt_end = ?, search_text = ?, rev = ?, doc = ? WHERE seq = ?", updates
        )
    if inserts:
        last_seq = conn.execute("SELECT ifnull(max(seq), 0) FROM items").fetchone()[0]
        conn.executemany(
            "INSERT INTO items (catalog_id, collection_id, id, dt_start, dt_end, search_text, rev, doc) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            inserts,
        )
        for collection_id, item_id, seq in conn.execute(
            "SELECT collection_id, id, seq FROM items WHERE seq > ?", (last_seq,)
        ):
            bounds.append((seq, new_bounds[(collection_id, item_id)]))
    conn.executemany("DELETE FROM item_bounds WHERE seq = ?", [(seq,) for seq, _ in bounds])
    conn.executemany(
        "INSERT INTO item_bounds (seq, minx, maxx, miny, maxy) VALUES (?, ?, ?, ?, ?)",
        [(seq, b[0], b[2], b[1], b[3]) for seq, b in bounds if b is not None],
    )
    insert_audit_rows(conn, audits)
    return stored


def _at_rev(doc: Doc, rev: int) -> tuple[Doc, str]:
    out = {**doc, "rev": rev}
    return out, dumps(out)


def _set_bounds(conn: sqlite3.Connection, seq: int | None, bounds: tuple[float, float, float, float] | None) -> None:
    conn.execute("DELETE FROM item_bounds WHERE seq = ?", (seq,))
    if bounds is not None:
        minx, miny, maxx, maxy = bounds
        conn.execute(
            "INSERT INTO item_bounds (seq, minx, maxx, miny, maxy) VALUES (?, ?, ?, ?, ?)",
            (seq, minx, maxx, miny, maxy),
        )


# ``asset_members_json`` of the (collection, item) key ``k.value`` over its first ``?2`` active item-level
# assets in id order (catalog ``?1``): "<count> <how many cannot be cut> <members>" (NULL: no assets);
# ``RECORD_SIGNS`` are checked here, so a stored row needs no check on read.
_MEMBERS_OF_KEY = (
    "(SELECT count(*) || ' ' || sum(h.bad) || ' ' || ifnull(group_concat(h.member, ','), '') FROM "
    "(SELECT CASE WHEN b.record IS NOT NULL AND instr(b.search_text, '@') = 0 "
    + "".join(f"AND instr(b.record, '{sign}') = 0 " for sign in RECORD_SIGNS)
    + """AND substr(b.record, 1, 8 + length(b.id)) = '{"id":"' || b.id || '"' """
    "AND substr(b.record, 9 + length(b.id), 1) IN (',', '}') THEN 0 ELSE 1 END AS bad, "
    """'"' || b.id || '":{' || CASE substr(b.record, 9 + length(b.id), 1) """
    "WHEN ',' THEN substr(b.record, 10 + length(b.id)) ELSE '}' END AS member "
    "FROM assets AS b WHERE b.catalog_id = ?1 AND b.collection_id = json_extract(k.value, '$[0]') "
    "AND b.item_id = json_extract(k.value, '$[1]') AND b.level = 'item' AND b.status = 'active' "
    "ORDER BY b.id LIMIT ?2) AS h)"
)
_STORED_MEMBERS = (
    "FROM item_members AS m WHERE m.catalog_id = ?1 AND m.collection_id = json_extract(k.value, '$[0]') "
    "AND m.item_id = json_extract(k.value, '$[1]')"
)
# ``_MEMBERS_OF_KEY`` of each key of ``json_each(?3)``: the stored row (``item_members``, ``''``: no assets)
# where it answers limit ``?2`` (computed at ``?4`` = ``MEMBERS_LIMIT``; a count below ``?4`` is the
# item's whole count, which answers any limit it fits), else computed.
_ITEM_MEMBERS_SQL = (
    "SELECT json_extract(k.value, '$[0]'), json_extract(k.value, '$[1]'), "
    f"ifnull((SELECT m.members {_STORED_MEMBERS} AND (?2 = ?4 OR "
    "(CAST(m.members AS INTEGER) < ?4 AND CAST(m.members AS INTEGER) <= ?2))), "
    f"{_MEMBERS_OF_KEY}) FROM json_each(?3) AS k"
)
_REFILL_MEMBERS_SQL = (
    "INSERT INTO item_members (catalog_id, collection_id, item_id, members) "
    "SELECT ?1, json_extract(k.value, '$[0]'), json_extract(k.value, '$[1]'), "
    f"ifnull({_MEMBERS_OF_KEY}, '') FROM json_each(?3) AS k WHERE NOT EXISTS (SELECT 1 {_STORED_MEMBERS})"
)


def refill_members(conn: sqlite3.Connection, keys: Iterable[tuple[str, str, str]]) -> None:
    """Stores the ``item_members`` rows of the ``(catalog, collection, item)`` scopes that have none (a
    write path's last step: the assets it just wrote are in the page cache)."""
    by_catalog: dict[str, dict[tuple[str, str], None]] = {}
    for catalog_id, collection_id, item_id in keys:
        by_catalog.setdefault(catalog_id, {})[(collection_id, item_id)] = None
    for catalog_id, scoped in by_catalog.items():
        conn.execute(_REFILL_MEMBERS_SQL, (catalog_id, MEMBERS_LIMIT, dumps([list(k) for k in scoped])))
