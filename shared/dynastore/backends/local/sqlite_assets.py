"""Assets of the SQLite metadata store: writes, bulk reads, search and export."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import orjson

from dynastore.backends.local.grams import SHORT_Q_MAX, short_token, short_tokens
from dynastore.backends.local.sql_filters import split_filter
from dynastore.backends.local.sqlite_base import SqliteDatabase, gc_paused
from dynastore.backends.local.sqlite_catalogs import item_geometry_condition, marks, refill_members, time_overlap
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
    require_str,
    search_order,
)
from dynastore.domain.asset import asset_level, search_text, time_bounds
from dynastore.domain.asset_record import stored_record_json
from dynastore.domain.filters import bbox_polygon
from dynastore.domain.revisions import check_rev
from dynastore.domain.search import ASSET_SORT_FIELDS, AssetQuery, Page
from dynastore.errors import Invalid, NotFound
from dynastore.ports import AssetWrite, Doc

# Never-NULL sort expressions (NULL sorts as '' or -1: first ascending, last descending).
ASSET_SORT_SQL = {
    "id": "a.id",
    "catalog_id": "a.catalog_id",
    "collection_id": "ifnull(a.collection_id, '')",
    "item_id": "ifnull(a.item_id, '')",
    "title": "ifnull(a.title, '')",
    "created": "ifnull(a.created, '')",
    "updated": "a.updated",
    "datetime": "ifnull(a.dt_start, '')",
    "file:size": "ifnull(a.file_size, -1)",
}
EXPORT_BATCH = 1000
TRIGRAM = 3
# At most this many of a q's trigrams go into the FTS query (a q of thousands of characters would be an
# AND of thousands of terms); a few already select rows rare enough for instr() to check.
QUERY_TRIGRAMS_MAX = 16
# Up to this many trigram (or, for a 1-2 character q, 2-gram) candidates, the index drives a q
# search; beyond, an ordered scan does: q then occurs in more than 1 row in 200 at 1M assets, so
# the scan meets a page of 100 within ~20,000 rows (measured: scripts/bench/short_q.py).
FTS_DRIVE_MAX = 5000
# With other filters the ordered scan meets a page only as fast as q AND the filters occur together,
# which may be never (a scan of every row the filters select: seconds at 1M); reading the q
# candidates instead costs the same whatever the filters, so the index drives up to this many times
# more candidates (measured: scripts/bench/short_q.py, "+type png").
FILTERED_DRIVE_FACTOR = 10
# Beyond FTS_DRIVE_MAX and up to this many candidates (estimated), a q-only search still scans in
# sort order but tests each row's seq against the candidates first: the set is built once and the
# sort index holds seq, so only the rows that hold q are read from the table. A text in ~1 asset in
# 100 at 1M then takes a few ms instead of ~30 (its page needs ~10,000 rows either way; measured:
# scripts/bench/short_q.py "mid"). Beyond, the text is frequent and the plain scan meets a page soon.
FTS_FILTER_MAX = 30_000
# With other filters, that scan pays only when they keep enough of the candidates (else it reads
# the whole sort index): a sample of this many candidates decides (``_filters_keep_enough``).
FILTER_SAMPLE = 200
ENTRY_COST = 0.1  # reading an index entry, relative to reading a row (measured: ~0.4 vs ~4 µs)


def _with_rev(doc: Doc, rev: int) -> tuple[Doc, str, str | None]:
    """The stored document at ``rev``, its JSON text and its page record (``stored_record_json``)."""
    out = doc.copy()
    out["rev"] = rev
    return out, orjson.dumps(out).decode(), stored_record_json(out)


def asset_row(doc: Doc) -> tuple[Any, ...]:
    """``(catalog_id, id, *indexed columns)`` of an asset document: ``_COLUMNS`` up to ``search_text``."""
    catalog_id = require_str(doc, "catalog_id", "an asset")
    asset_id = require_str(doc, "id", "an asset")
    get = doc.get
    dt_start, dt_end = time_bounds(doc)
    size = get("file:size")
    title = get("title")
    collection_id, item_id = get("collection_id"), get("item_id")
    return (
        catalog_id,
        asset_id,
        collection_id,
        item_id,
        asset_level(collection_id, item_id),
        get("status") or "active",
        get("type"),
        title if isinstance(title, str) else None,
        dt_start,
        dt_end,
        size if type(size) is int or (isinstance(size, int) and not isinstance(size, bool)) else None,
        get("created"),
        get("updated") or "",
        search_text(doc),
    )


_COLUMNS = (
    "collection_id",
    "item_id",
    "level",
    "status",
    "type",
    "title",
    "dt_start",
    "dt_end",
    "file_size",
    "created",
    "updated",
    "search_text",
    "rev",
    "doc",
    "record",
)
# OR FAIL, not the default ABORT: a one-row statement on a table with triggers (``item_members``) that
# may abort opens a statement journal, which copies every page the row touches (8x the CPU of a bulk
# insert); FAIL keeps what the statement changed before the error, nothing for one row (its constraints
# are checked before it is written), and the caller's transaction rolls back anyway.
_INSERT = (
    f"INSERT OR FAIL INTO assets (catalog_id, id, {', '.join(_COLUMNS)}) "
    f"VALUES (?, ?, {', '.join('?' * len(_COLUMNS))})"
)
_UPDATE = f"UPDATE OR FAIL assets SET {', '.join(f'{c} = ?' for c in _COLUMNS)} WHERE seq = ?"
_TEXT = _COLUMNS.index("search_text")


def _record(text: str) -> str | Doc:
    """A row of ``search_asset_records``: the stored record text, or the parsed document."""
    return text if text[0] == "{" else loads(text[1:])


def fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _has_filters(query: AssetQuery) -> bool:
    """Does ``query`` select by more than catalog, status and text (the text index then drives more)?"""
    filters = (
        query.collection_id, query.item_id, query.level, query.ids, query.types, query.roles, query.tags,
        query.datetime, query.bbox, query.filter,
    )  # fmt: skip
    return any(f is not None and f != () for f in filters)


def _text_index(text: str) -> tuple[str, str] | None:
    """The FTS5 table and query that find the candidates of ``q`` (lowercased), if any. The trigram
    index keeps no positions (``sqlite_schema.ASSETS_FTS``), so a longer ``q`` is the rows holding
    each of its trigrams (a superset of those holding ``q``: ``instr()`` narrows it)."""
    if len(text) <= SHORT_Q_MAX:
        return "asset_short_grams", fts_phrase(short_token(text))
    if "\x00" in text:
        return None
    trigrams = list(dict.fromkeys(text[i : i + TRIGRAM] for i in range(len(text) - TRIGRAM + 1)))
    if len(trigrams) > QUERY_TRIGRAMS_MAX:  # any of them finds a superset; spread over q, first and last kept
        step = (len(trigrams) - 1) / (QUERY_TRIGRAMS_MAX - 1)
        trigrams = [trigrams[round(i * step)] for i in range(QUERY_TRIGRAMS_MAX)]
    return "assets_fts", " AND ".join(map(fts_phrase, trigrams))


# prepare_asset_writes: the write, its row, its rendering as a new record (None: an update, expect_rev > 0)
# and its short-q tokens (``short_tokens`` of the row's search text, also built before the lock)
PreparedAsset = tuple[AssetWrite, tuple[Any, ...], tuple[Doc, str, str | None] | None, str]


class AssetRecords:
    db: SqliteDatabase
    fts_drive_max: int = FTS_DRIVE_MAX
    fts_filtered_drive_max: int = FTS_DRIVE_MAX * FILTERED_DRIVE_FACTOR
    fts_filter_max: int = FTS_FILTER_MAX

    # ------------------------------------------------------------------ reads
    def get_asset(self, catalog_id: str, asset_id: str) -> Doc:
        row = self.db.query_one("SELECT doc FROM assets WHERE catalog_id = ? AND id = ?", (catalog_id, asset_id))
        if row is None:
            raise NotFound(f"asset {asset_id!r} does not exist in catalog {catalog_id!r}")
        return loads(row[0])

    def get_assets(self, catalog_id: str, asset_ids: Sequence[str]) -> list[Doc]:
        if not asset_ids:
            return []
        rows = self.db.query(
            "SELECT doc FROM assets WHERE catalog_id = ? AND id IN (SELECT value FROM json_each(?))",
            (catalog_id, orjson.dumps(list(asset_ids)).decode()),
        )
        parse = orjson.loads
        with gc_paused():
            return [parse(row[0]) for row in rows]

    def get_assets_json(self, catalog_id: str, asset_ids: Sequence[str]) -> list[tuple[str, str, str]]:
        """``(id, status, doc JSON)`` rows, the stored text unparsed."""
        if not asset_ids:
            return []
        rows = self.db.query(
            "SELECT id, status, doc FROM assets WHERE catalog_id = ? AND id IN (SELECT value FROM json_each(?))",
            (catalog_id, orjson.dumps(list(asset_ids)).decode()),
        )
        return [(row[0], row[1], row[2]) for row in rows]

    # ------------------------------------------------------------------ writes
    def write_assets(self, writes: Sequence[AssetWrite], *, audits: Sequence[Doc]) -> list[Doc]:
        """One transaction: revisions are checked in order (a record may appear twice), then the
        final state of every record is written with ``executemany`` and the trigram index is fed
        in bulk."""
        return self.write_prepared_assets(self.prepare_asset_writes(writes), audit_rows(audits))

    @staticmethod
    def prepare_asset_writes(writes: Sequence[AssetWrite]) -> list[PreparedAsset]:
        """Each write with its row (``asset_row``) and, unless it names a revision to update, its
        rendering as a new record (rev 1), built before the write lock: other writers (``dynastore
        load --workers``) wait for the lock, not for this; a record found stored is rendered again,
        at its revision, inside."""
        return [
            (write, row, _with_rev(write.doc, 1) if write.expect_rev in (0, None) else None, short_tokens(row[-1]))
            for write in writes
            for row in (asset_row(write.doc),)
        ]

    def write_prepared_assets(
        self, prepared: list[PreparedAsset], audits: list[tuple[Any, ...]], *, refill: bool = True
    ) -> list[Doc]:
        """``write_assets`` of ``prepare_asset_writes`` and ``audit_rows`` (``write_items`` prepares its
        assets before it takes the lock, then calls this inside its transaction: a savepoint; ``refill``
        False: the caller stores the ``item_members`` rows of the scopes written)."""
        if not prepared and not audits:
            return []
        stored: list[Doc] = []
        with self.db.write() as conn:
            # (catalog_id, id) -> (rev, seq, search_text) as stored before this call
            before: dict[tuple[str, str], tuple[int, int, str]] = {}
            by_catalog: dict[str, list[str]] = {}
            for _, row, _, _ in prepared:
                by_catalog.setdefault(row[0], []).append(row[1])
            for catalog_id, ids in by_catalog.items():
                for asset_id, rev, seq, text in conn.execute(
                    "SELECT id, rev, seq, search_text FROM assets "
                    "WHERE catalog_id = ? AND id IN (SELECT value FROM json_each(?))",
                    (catalog_id, dumps(ids)),
                ):
                    before[(catalog_id, asset_id)] = (rev, seq, text)
            revs = {key: value[0] for key, value in before.items()}
            final: dict[tuple[str, str], tuple[Any, ...]] = {}  # (catalog_id, id) -> (catalog_id, id, *_COLUMNS)
            grams: dict[tuple[str, str], str] = {}  # (catalog_id, id) -> short-q tokens of its final text
            for write, row, as_new, tokens in prepared:
                key = row[0], row[1]
                known = revs.get(key)
                if known is not None or write.expect_rev != 0:
                    rev = check_rev(known, write.expect_rev, f"asset {key[1]!r} in catalog {key[0]!r}")
                else:
                    rev = 1  # a new record (check_rev's answer, without building its message)
                revs[key] = rev
                doc, doc_json, record_json = as_new if rev == 1 and as_new else _with_rev(write.doc, rev)
                final[key] = (*row, rev, doc_json, record_json)
                grams[key] = tokens
                stored.append(doc)
            if before:
                inserts = [values for key, values in final.items() if key not in before]
                updates = [(*values[2:], before[key][1]) for key, values in final.items() if key in before]
                reindex = [
                    (before[key][1], before[key][2], values[2 + _TEXT], grams[key])
                    for key, values in final.items()
                    if key in before and before[key][2] != values[2 + _TEXT]
                ]
            else:  # a bulk load of new records
                inserts, updates, reindex = list(final.values()), [], []
            last_seq = conn.execute("SELECT ifnull(max(seq), 0) FROM assets").fetchone()[0]
            if inserts:
                conn.executemany(_INSERT, inserts)
                conn.execute(
                    "INSERT INTO assets_fts (rowid, search_text) SELECT seq, search_text FROM assets WHERE seq > ?",
                    (last_seq,),
                )
                self._insert_grams(conn, last_seq, [grams[(v[0], v[1])] for v in inserts])
            if updates:
                conn.executemany(_UPDATE, updates)
            if reindex:
                conn.executemany(
                    "INSERT INTO assets_fts (assets_fts, rowid, search_text) VALUES ('delete', ?, ?)",
                    [(seq, old) for seq, old, _, _ in reindex],
                )
                conn.executemany(
                    "INSERT INTO assets_fts (rowid, search_text) VALUES (?, ?)",
                    [(seq, new) for seq, _, new, _ in reindex],
                )
                conn.executemany(
                    "INSERT INTO asset_short_grams (asset_short_grams, rowid, grams) VALUES ('delete', ?, ?)",
                    [(seq, short_tokens(old)) for seq, old, _, _ in reindex],
                )
                conn.executemany(
                    "INSERT INTO asset_short_grams (rowid, grams) VALUES (?, ?)",
                    [(seq, tokens) for seq, _, _, tokens in reindex],
                )
            insert_audit_rows(conn, audits)
            if refill:
                refill_members(conn, [(v[0], v[2], v[3]) for v in final.values() if v[4] == "item"])
        return stored

    @staticmethod
    def _insert_grams(conn: Any, last_seq: int, tokens: list[str]) -> None:
        """The short-``q`` index rows of the assets just inserted after ``last_seq``, ``tokens`` in
        their order (``grams``). Built before the lock: inside it is only bound (calling
        ``short_tokens`` from SQL took twice the CPU). The rows took seqs ``last_seq + 1``, ... (SQLite
        gives a row without one the largest rowid + 1); were it otherwise, SQL computes them."""
        high = conn.execute("SELECT max(seq) FROM assets").fetchone()[0]
        if high == last_seq + len(tokens):  # the rows inserted after last_seq: each took max + 1
            conn.executemany(
                "INSERT INTO asset_short_grams (rowid, grams) VALUES (?, ?)",
                zip(range(last_seq + 1, high + 1), tokens, strict=True),
            )
        else:
            conn.execute(
                "INSERT INTO asset_short_grams (rowid, grams) "
                "SELECT seq, short_tokens(search_text) FROM assets WHERE seq > ?",
                (last_seq,),
            )

    def delete_asset(self, catalog_id: str, asset_id: str, *, audit: Doc, expect_rev: int | None = None) -> None:
        with self.db.write() as conn:
            key = (catalog_id, asset_id)
            row = conn.execute("SELECT rev FROM assets WHERE catalog_id = ? AND id = ?", key).fetchone()
            if row is None:
                raise NotFound(f"asset {asset_id!r} does not exist in catalog {catalog_id!r}")
            check_rev(row[0], expect_rev, f"asset {asset_id!r}")
            conn.execute("DELETE FROM assets WHERE catalog_id = ? AND id = ?", key)
            insert_audits(conn, [audit])

    # ------------------------------------------------------------------ search
    def _asset_selection(self, query: AssetQuery, *, count: bool = False) -> Selection:
        """The assets ``query`` asks for (``_text_plan``: how a ``q`` is found)."""
        from_sql, from_params = "assets AS a", list[Any]()
        where = [f"a.catalog_id IN ({marks(query.catalog_ids)})"]
        params: list[Any] = list(query.catalog_ids)
        if query.collection_id is not None:
            where.append("a.collection_id = ?")
            params.append(query.collection_id)
        if query.item_id is not None:
            where.append("a.item_id = ?")
            params.append(query.item_id)
        if query.level is not None:
            where.append("a.level = ?")
            params.append(query.level)
        if query.ids:
            where.append("a.id IN (SELECT value FROM json_each(?))")
            params.append(dumps(list(query.ids)))
        if query.status:
            where.append(f"a.status IN ({marks(query.status)})")
            params.extend(query.status)
        if query.types:
            where.append(f"a.type IN ({marks(query.types)})")
            params.extend(query.types)
        if query.roles:
            where.append(f"EXISTS (SELECT 1 FROM json_each(a.doc, '$.roles') WHERE value IN ({marks(query.roles)}))")
            params.extend(query.roles)
        for tag in dict.fromkeys(query.tags):
            where.append("EXISTS (SELECT 1 FROM json_each(a.doc, '$.tags') WHERE value = ?)")
            params.append(tag)
        if query.datetime is not None:
            sql, dt_params = time_overlap(query.datetime[0], query.datetime[1], "a")
            where.append(sql)
            params.extend(dt_params)
        if query.bbox is not None:
            if len(query.bbox) not in (4, 6):
                raise Invalid("bbox must have 4 or 6 numbers")
            geo_sql, geo_params = item_geometry_condition(bbox_polygon(list(query.bbox)), "i")
            where.append(
                "a.item_id IS NOT NULL AND (a.catalog_id, a.collection_id, a.item_id) IN "
                f"(SELECT i.catalog_id, i.collection_id, i.id FROM items AS i WHERE {geo_sql})"
            )
            params.extend(geo_params)
        filter_sql, filter_params, residual = split_filter(query.filter, "a.doc")
        if filter_sql:
            where.append(filter_sql)
            params.extend(filter_params)
        if query.q:  # last: its plan depends on the other conditions
            from_sql, from_params = self._text_plan(query, query.q.lower(), where, params, count=count)
        return Selection(from_sql, "a.doc", where, params, residual, from_params)

    def _text_plan(
        self, query: AssetQuery, text: str, where: list[str], params: list[Any], *, count: bool
    ) -> tuple[str, list[Any]]:
        """The FROM clause and parameters of a ``q`` search; adds its conditions to ``where`` and
        ``params``, which hold every other condition. A 1-2 character ``text`` is one token of the
        short-q index, a longer one a trigram phrase (none with a NUL: FTS5 cannot parse it, instr()
        alone matches it exactly). By the number of candidates the index lists:

        - few: the index drives (CROSS JOIN keeps it the outer loop);
        - more: the ordered scan tests each row's seq against them first (``FTS_FILTER_MAX``), when
          the query has no other filters or a sample shows they keep enough candidates;
        - many (a frequent text): the ordered scan with instr() alone meets a page soon.

        instr() keeps the exact semantics on every plan."""
        index = _text_index(text)
        from_sql, from_params = "assets AS a", []
        if index is not None:
            table, phrase = index
            filtered = _has_filters(query)
            drive_max = self.fts_filtered_drive_max if filtered else self.fts_drive_max
            candidates, rows = (0, 0) if count else self._fts_candidates(table, phrase, drive_max)
            if filtered and self.fts_drive_max < candidates <= drive_max:
                plan = (
                    "seq"
                    if self._filters_keep_enough(table, phrase, candidates, rows, query.limit, where, params)
                    else "drive"
                )
            elif candidates <= self.fts_drive_max:
                plan = "drive"
            else:
                plan = "seq" if not filtered and candidates <= self.fts_filter_max else "scan"
            if plan == "drive":
                from_sql = f"(SELECT rowid AS fts_seq FROM {table} WHERE {table} MATCH ?) AS f "
                from_sql += "CROSS JOIN assets AS a ON a.seq = f.fts_seq"
                from_params = [phrase]
            elif plan == "seq":  # "+": a test on each row, not an index lookup
                where.append(f"+a.seq IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)")
                params.append(phrase)
        where.append("instr(a.search_text, ?) > 0")
        params.append(text)
        return from_sql, from_params

    def _fts_candidates(self, table: str, phrase: str, drive_max: int) -> tuple[int, int]:
        """How many assets the text index ``table`` lists for the text, and the span of seqs:
        exact up to ``drive_max``; beyond, an estimate from how far into the seqs the first
        ``drive_max + 1`` reach (FTS5 lists rowids in order), which reads no more of the index."""
        found, last, low, high = self.db.query_one(
            f"SELECT count(*), max(r), (SELECT min(seq) FROM assets), (SELECT max(seq) FROM assets) "
            f"FROM (SELECT rowid AS r FROM {table} WHERE {table} MATCH ? LIMIT ?)",
            (phrase, drive_max + 1),
        )
        rows = 0 if high is None else high - low + 1
        if found <= drive_max:
            return int(found), rows
        return int(found * rows // max(last - low + 1, 1)), rows

    def _filters_keep_enough(
        self, table: str, phrase: str, candidates: int, rows: int, limit: int, where: list[str], params: list[Any]
    ) -> bool:
        """Should a filtered search scan in order testing seqs rather than read every candidate?
        The first ``FILTER_SAMPLE`` candidates tell the share ``p`` that meets the other conditions;
        the scan then reads ~``limit * rows / (p * candidates)`` index entries (each ~1/10 of a row
        read: ``ENTRY_COST``) and ~``limit / p`` rows, driving ``candidates`` rows."""
        sample = min(FILTER_SAMPLE, candidates)
        kept = self.db.query_one(
            f"SELECT count(*) FROM (SELECT rowid AS fts_seq FROM {table} WHERE {table} MATCH ? LIMIT ?) AS f "
            f"CROSS JOIN assets AS a ON a.seq = f.fts_seq WHERE {' AND '.join(where)}",
            (phrase, sample, *params),
        )[0]
        share = kept / sample
        return bool(share * candidates * candidates >= ENTRY_COST * limit * rows + limit * candidates)

    def _asset_order(self, query: AssetQuery) -> list[OrderKey]:
        return search_order(
            query.sortby,
            sortable=ASSET_SORT_FIELDS,
            sql=ASSET_SORT_SQL.__getitem__,
            tiebreak=[(name, ASSET_SORT_SQL[name]) for name in ("catalog_id", "id")],
            refusal="cannot sort by",
        )

    def search_assets(self, query: AssetQuery) -> Page[Doc]:
        check_limit(query.limit)
        order = self._asset_order(query)
        if not query.catalog_ids:
            return Page(items=[])
        selection = self._asset_selection(query)
        return keyset_page(self.db, selection, kind="asset-search", order=order, limit=query.limit, token=query.token)

    def search_asset_records(self, query: AssetQuery) -> Page[str | Doc]:
        """``search_assets`` reading the stored record text (``assets.record``) where there is one: a
        row without one comes as ``'D' + doc`` (a record starts with ``{``) and is parsed. A query
        with a filter part that runs in Python needs every document: ``search_assets``."""
        check_limit(query.limit)
        order = self._asset_order(query)
        if not query.catalog_ids:
            return Page(items=[])
        selection = self._asset_selection(query)
        if selection.residual is not None:
            page = self.search_assets(query)
            return Page(items=list[str | Doc](page.items), next_token=page.next_token)
        selection = replace(selection, doc_sql="ifnull(a.record, 'D' || a.doc)")
        return keyset_page(
            self.db, selection, kind="asset-search", order=order, limit=query.limit, token=query.token, parse=_record
        )

    def item_asset_heads(
        self, catalog_id: str, keys: Sequence[tuple[str, str]], limit: int
    ) -> dict[tuple[str, str], list[Doc]]:
        """One statement for a page of items: per item, the first ``limit`` ids on the scope index (a
        correlated subquery stops there), then their documents."""
        heads: dict[tuple[str, str], list[Doc]] = {}
        if not keys or limit < 1:
            return heads
        rows = self.db.query(
            "SELECT a.collection_id, a.item_id, a.id, a.doc FROM json_each(?) AS k CROSS JOIN assets AS a "
            "ON a.seq IN (SELECT b.seq FROM assets AS b WHERE b.catalog_id = ? "
            "AND b.collection_id = json_extract(k.value, '$[0]') AND b.item_id = json_extract(k.value, '$[1]') "
            "AND b.level = 'item' AND b.status = 'active' ORDER BY b.id LIMIT ?)",
            (dumps([list(k) for k in dict.fromkeys(keys)]), catalog_id, limit),
        )
        rows.sort(key=lambda row: (row[0], row[1], row[2]))
        parse = orjson.loads
        with gc_paused():
            for collection_id, item_id, _, doc in rows:
                heads.setdefault((collection_id, item_id), []).append(parse(doc))
        return heads

    def count_assets(self, query: AssetQuery) -> int:
        if not query.catalog_ids:
            return 0
        return count_matching(self.db, self._asset_selection(query, count=True))

    # ------------------------------------------------------------------ export
    def export_assets(
        self, catalog_id: str, *, since: str | None = None, statuses: Sequence[str] = ("active",)
    ) -> Iterator[Doc]:
        """Batches of ``EXPORT_BATCH`` in (updated, id) order; no cursor stays open between them."""
        for batch in self._export_batches(catalog_id, since, statuses):
            with gc_paused():
                docs = [orjson.loads(text) for text in batch]
            yield from docs

    def export_assets_json(
        self, catalog_id: str, *, since: str | None = None, statuses: Sequence[str] = ("active",)
    ) -> Iterator[str]:
        """The stored JSON text of each document, unparsed."""
        for batch in self._export_batches(catalog_id, since, statuses):
            yield from batch

    def _export_batches(self, catalog_id: str, since: str | None, statuses: Sequence[str]) -> Iterator[list[str]]:
        where = ["catalog_id = ?"]
        params: list[Any] = [catalog_id]
        if statuses:
            where.append(f"status IN ({marks(statuses)})")
            params.extend(statuses)
        if since is not None:
            where.append("updated >= ?")
            params.append(since)
        cursor: tuple[str, str] | None = None
        while True:
            clauses, all_params = list(where), list(params)
            if cursor is not None:
                clauses.append("(updated, id) > (?, ?)")
                all_params.extend(cursor)
            rows = self.db.query(
                f"SELECT doc, updated, id FROM assets WHERE {' AND '.join(clauses)} ORDER BY updated, id LIMIT ?",
                [*all_params, EXPORT_BATCH],
            )
            yield [row[0] for row in rows]
            if len(rows) < EXPORT_BATCH:
                return
            cursor = (rows[-1][1], rows[-1][2])
