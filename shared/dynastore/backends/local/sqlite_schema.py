"""The schema of the local metadata store (one SQLite file; the task queue adds its own tables).

Every record keeps its JSON document in ``doc`` (text, as ``orjson`` wrote it) next to the
columns the store filters, sorts and pages on. ``assets_fts`` is an external-content FTS5 table
with the ``trigram`` tokenizer over ``assets.search_text`` (``domain.asset.search_text``), without
positions (``ASSETS_FTS``), kept in sync by ``write_assets`` and a delete trigger; ``item_bounds``
is an R*Tree of item bounding boxes (from the geometry, else the bbox).
``asset_short_grams`` is the short-``q`` index (``grams``): a contentless FTS5 table of
the hex-encoded 1- and 2-grams of each asset's search text, so a 1- or 2-character ``q`` has an
index too (FTS5 trigram cannot answer fewer than 3 characters); ``sqlite_assets`` feeds it, a
trigger cleans it on delete. ``assets.record`` is the asset's page record as JSON text
(``domain.asset_record``, NULL where it depends on the request), written with ``doc``: one item's
assets page splices it.

The asset indexes are the ones some query plan uses (``EXPLAIN QUERY PLAN`` of every statement the
test suites run): ``created`` and ``datetime`` sort on ``ifnull(...)`` expressions and the time
filter is an ``IS NULL OR`` range, which no column index serves, so schema 6 dropped
``assets_created``, ``assets_dt_start`` and ``assets_dt_end`` (each was written on every asset
write for nothing).

``item_members`` keeps what ``item_asset_members`` answers for an item's assets scope (catalog,
collection, item id) at ``MEMBERS_LIMIT``: ``"<count> <bad> <members>"``, ``''`` for none. A row is
valid while it exists: triggers on ``assets`` delete the row of every item scope an item-level asset
enters or leaves (whatever writes it), the write paths refill the scopes they touched at the end of
their transaction (``sqlite_catalogs.refill_members`` in SQL; ``write_items`` first stores the rows it
cut in Python before the lock, for the scopes that hold only its own assets: ``sqlite_members``), a
read computes what has no row. A separate
table, not a column of ``items``: the item rows are large (a column after ``doc`` may sit on overflow
pages), and deleting a small row costs less than rewriting an item row.
"""

SCHEMA_VERSION = 9
# Page size of a new database file (an existing file keeps its own): 16 KiB pages cut the CPU of a
# bulk load's writes by ~20 % against 4 KiB (fewer page splits and WAL frames per row; the assets
# rows are ~1 KB), measured by replaying a load (scripts/bench/load.py) against both.
PAGE_SIZE = 16 * 1024

# The trigram index of asset texts (schema 9): ``detail='none'`` keeps no positions, only which rows
# hold each trigram, and ``columnsize=0`` no per-row token counts (nothing ranks): a third of the
# size and half the CPU to write of the default ``detail=full`` (which stored every trigram's
# positions). A q of 4+ characters is then "every trigram of q in the row", a superset that the
# ``instr()`` every search plan applies narrows to the exact rows (``sqlite_assets._text_index``).
ASSETS_FTS = (
    "assets_fts USING fts5(search_text, content='assets', content_rowid='seq', tokenize='trigram', "
    "detail='none', columnsize=0)"
)

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS catalogs (
    id TEXT PRIMARY KEY,
    status TEXT,
    rev INTEGER NOT NULL,
    doc TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS collections (
    catalog_id TEXT NOT NULL,
    id TEXT NOT NULL,
    rev INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (catalog_id, id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY,
    catalog_id TEXT NOT NULL,
    collection_id TEXT NOT NULL,
    id TEXT NOT NULL,
    dt_start TEXT,
    dt_end TEXT,
    search_text TEXT NOT NULL,
    rev INTEGER NOT NULL,
    doc TEXT NOT NULL,
    UNIQUE (catalog_id, collection_id, id)
);
CREATE INDEX IF NOT EXISTS items_catalog_id ON items (catalog_id, id);

CREATE VIRTUAL TABLE IF NOT EXISTS item_bounds USING rtree(seq, minx, maxx, miny, maxy);

CREATE TABLE IF NOT EXISTS assets (
    seq INTEGER PRIMARY KEY,
    catalog_id TEXT NOT NULL,
    id TEXT NOT NULL,
    collection_id TEXT,
    item_id TEXT,
    level TEXT NOT NULL,
    status TEXT NOT NULL,
    type TEXT,
    title TEXT,
    dt_start TEXT,
    dt_end TEXT,
    file_size INTEGER,
    created TEXT,
    updated TEXT NOT NULL,
    search_text TEXT NOT NULL,
    rev INTEGER NOT NULL,
    doc TEXT NOT NULL,
    record TEXT,
    UNIQUE (catalog_id, id)
);
CREATE INDEX IF NOT EXISTS assets_scope ON assets (catalog_id, collection_id, item_id, id);
CREATE INDEX IF NOT EXISTS assets_updated ON assets (catalog_id, updated, id);
CREATE INDEX IF NOT EXISTS assets_type ON assets (catalog_id, type);
CREATE INDEX IF NOT EXISTS assets_status ON assets (status, catalog_id);

CREATE VIRTUAL TABLE IF NOT EXISTS """
    + ASSETS_FTS
    + """;
-- Inserts and updates feed the index in bulk from write_assets (3-4x faster than a per-row
-- trigger); deletes, which happen in many places, go through this trigger.
DROP TRIGGER IF EXISTS assets_fts_insert;
DROP TRIGGER IF EXISTS assets_fts_update;
CREATE TRIGGER IF NOT EXISTS assets_fts_delete AFTER DELETE ON assets BEGIN
    INSERT INTO assets_fts (assets_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text);
END;

-- Short-q index (grams.py): fed by write_assets, cleaned by this trigger (the 'delete' command of a
-- contentless table needs the tokens the row was inserted with). Schema 3's postings table goes.
DROP TRIGGER IF EXISTS asset_grams_delete;
DROP TABLE IF EXISTS asset_grams;
CREATE VIRTUAL TABLE IF NOT EXISTS asset_short_grams USING fts5(
    grams, content='', detail='none', columnsize=0, tokenize='ascii'
);
CREATE TRIGGER IF NOT EXISTS asset_short_grams_delete AFTER DELETE ON assets BEGIN
    INSERT INTO asset_short_grams (asset_short_grams, rowid, grams)
        VALUES ('delete', old.seq, short_tokens(old.search_text));
END;

CREATE TABLE IF NOT EXISTS item_members (
    catalog_id TEXT NOT NULL,
    collection_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    members TEXT NOT NULL,
    PRIMARY KEY (catalog_id, collection_id, item_id)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS item_members_asset_insert AFTER INSERT ON assets WHEN new.level = 'item' BEGIN
    DELETE FROM item_members
        WHERE catalog_id = new.catalog_id AND collection_id = new.collection_id AND item_id = new.item_id;
END;
CREATE TRIGGER IF NOT EXISTS item_members_asset_update AFTER UPDATE ON assets
WHEN old.level = 'item' OR new.level = 'item' BEGIN
    DELETE FROM item_members
        WHERE catalog_id = old.catalog_id AND collection_id = old.collection_id AND item_id = old.item_id;
    DELETE FROM item_members
        WHERE catalog_id = new.catalog_id AND collection_id = new.collection_id AND item_id = new.item_id;
END;
CREATE TRIGGER IF NOT EXISTS item_members_asset_delete AFTER DELETE ON assets WHEN old.level = 'item' BEGIN
    DELETE FROM item_members
        WHERE catalog_id = old.catalog_id AND collection_id = old.collection_id AND item_id = old.item_id;
END;
-- not needed for correctness (a row describes assets, not the item): no row outlives its item
CREATE TRIGGER IF NOT EXISTS item_members_item_delete AFTER DELETE ON items BEGIN
    DELETE FROM item_members
        WHERE catalog_id = old.catalog_id AND collection_id = old.collection_id AND item_id = old.id;
END;

CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    catalog_id TEXT NOT NULL,
    record_type TEXT,
    record_id TEXT,
    at TEXT,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_catalog ON audit (catalog_id, seq);
CREATE INDEX IF NOT EXISTS audit_record ON audit (catalog_id, record_type, record_id, seq);

CREATE TABLE IF NOT EXISTS claimed_events (
    id TEXT PRIMARY KEY,
    expires REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS claimed_events_expires ON claimed_events (expires);

CREATE TABLE IF NOT EXISTS ingest_records (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    catalog_id TEXT,
    doc TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ingest_records_catalog ON ingest_records (catalog_id);
-- Recent records of a catalog, failures first (list_ingest_records; the expressions are its ORDER BY).
CREATE INDEX IF NOT EXISTS ingest_records_recent ON ingest_records (
    catalog_id, (json_extract(doc, '$.status') = 'failed'), json_extract(doc, '$.at'), key, bucket
);

CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    catalog_id TEXT,
    task_id TEXT,
    status TEXT,
    asset_id TEXT,
    created TEXT NOT NULL,
    rev INTEGER NOT NULL,
    doc TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created, id);
CREATE INDEX IF NOT EXISTS jobs_catalog ON jobs (catalog_id, created, id);
"""
)

# Run once, in the schema transaction, when a database of an older schema version is opened:
# {version it brings the database to: script}.
MIGRATIONS = {
    3: "ALTER TABLE assets ADD COLUMN record TEXT; UPDATE assets SET record = asset_record(doc);",
    4: "UPDATE assets SET record = asset_record(doc) WHERE record IS NOT NULL;",  # lean records: no updated = created
    # schema 2's short-q postings (asset_grams) are replaced: the schema script dropped them
    5: "INSERT INTO asset_short_grams (rowid, grams) SELECT seq, short_tokens(search_text) FROM assets;",
    # indexes no query plan uses (see the module docstring)
    6: "DROP INDEX IF EXISTS assets_created; DROP INDEX IF EXISTS assets_dt_start; DROP INDEX IF EXISTS assets_dt_end;",
    # item_members and its triggers come from the schema script, empty: computed at read until written
    7: "",
    # stored members are cut with the record signs checked (domain.asset_members.RECORD_SIGNS): recomputed
    8: "DELETE FROM item_members;",
    # the trigram index without positions (ASSETS_FTS): built again from the assets' texts
    9: f"DROP TABLE assets_fts; CREATE VIRTUAL TABLE {ASSETS_FTS}; "
    "INSERT INTO assets_fts (assets_fts) VALUES ('rebuild');",
}
