"""``item_members`` rows of a write batch cut in Python before the write lock (``write_items``), so
the writer stores them with one ``executemany`` instead of reading every item's assets back in SQL
(``sqlite_catalogs.refill_members``, which stays the answer for every scope this cannot prove).

A row is the same as the SQL's when the item scope holds exactly the assets the batch writes into it
(their final state in the batch, as ``write_prepared_assets`` stores them): the cut is
``domain.asset_members.stored_members`` over the active item-level ones in id order, ``@`` looked up
in the search text as the SQL does. Inside the lock one statement counts each scope's assets after the
write; a scope holding more than the batch wrote into it (an asset created earlier through the asset
API, one an upsert left out) falls back to the SQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from dynastore.backends.local.sqlite_common import dumps
from dynastore.domain.asset_members import stored_members
from dynastore.ports import Doc, ItemWrite

if TYPE_CHECKING:
    from dynastore.backends.local.sqlite_assets import PreparedAsset

Scope = tuple[str, str, str]  # (catalog, collection, item)
# scope -> (how many assets the batch leaves in it, its members text); None: the SQL refills it
BatchMembers = dict[Scope, tuple[int, str] | None]

# row positions of ``sqlite_assets.asset_row``
_CATALOG, _ID, _COLLECTION, _ITEM, _LEVEL, _STATUS, _TEXT = 0, 1, 2, 3, 4, 5, 13

# The scopes of json_each(?2) ([collection, item, count]) of catalog ?1 whose assets are not that count.
_OTHERS_SQL = (
    "SELECT json_extract(k.value, '$[0]'), json_extract(k.value, '$[1]') FROM json_each(?2) AS k "
    "WHERE (SELECT count(*) FROM assets AS a WHERE a.catalog_id = ?1 "
    "AND a.collection_id = json_extract(k.value, '$[0]') AND a.item_id = json_extract(k.value, '$[1]')) "
    "!= json_extract(k.value, '$[2]')"
)
_INSERT_SQL = "INSERT OR IGNORE INTO item_members (catalog_id, collection_id, item_id, members) VALUES (?, ?, ?, ?)"


def item_scopes(catalog_id: str, items: Sequence[ItemWrite]) -> list[Scope]:
    """The assets scopes of the items (those whose collection and id are texts: the others are refused)."""
    keys = ((w.doc.get("collection"), w.doc.get("id")) for w in items)
    return [(catalog_id, c, i) for c, i in keys if isinstance(c, str) and isinstance(i, str)]


def batch_members(prepared: Sequence[PreparedAsset], items: Iterable[Scope], limit: int) -> BatchMembers:
    """The members row of every item scope of ``items`` and of the batch's item-level assets, as if
    the scope held only what the batch writes into it (``limit``: ``MEMBERS_LIMIT``). None for a scope
    the batch cannot answer alone: a write naming a revision (rendered inside the lock), a NUL."""
    final: dict[tuple[str, str], tuple[tuple[Any, ...], tuple[Doc, str, str | None] | None]] = {}
    for _, row, as_new, _ in prepared:  # the last write of a record is the one stored
        final[(row[_CATALOG], row[_ID])] = (row, as_new)
    counts: dict[Scope, int] = dict.fromkeys(items, 0)
    heads: dict[Scope, list[tuple[str, str | None, str]]] = {}
    unsure: set[Scope] = set()
    for row, as_new in final.values():
        collection_id, item_id = row[_COLLECTION], row[_ITEM]
        if not isinstance(collection_id, str) or not isinstance(item_id, str):
            continue  # in no item scope the SQL can key (a level above, or refused by the store)
        scope = (row[_CATALOG], collection_id, item_id)
        counts[scope] = counts.get(scope, 0) + 1
        text = row[_TEXT]
        if as_new is None or "\x00" in row[_ID] or "\x00" in text:
            unsure.add(scope)  # SQLite's length() stops at a NUL
        if row[_LEVEL] == "item" and row[_STATUS] == "active":
            head = (row[_ID], as_new[2] if as_new is not None else None, text)
            found = heads.get(scope)
            if found is None:
                heads[scope] = [head]
            else:
                found.append(head)
    out: BatchMembers = {}
    for scope, count in counts.items():
        if scope in unsure:
            out[scope] = None
        else:
            found = heads.get(scope)
            if found is None:
                out[scope] = count, ""
            else:
                found.sort()  # by id: the ids of a scope are distinct, so nothing else is compared
                out[scope] = count, stored_members(found[:limit])
    return out


def store_batch_members(conn: sqlite3.Connection, members: BatchMembers) -> set[Scope]:
    """Inside the write transaction, after the batch's assets: stores the rows of ``members`` whose
    scope holds only the batch's assets (one counting statement per catalog) and answers their scopes."""
    by_catalog: dict[str, list[tuple[str, str, int]]] = {}
    for (catalog_id, collection_id, item_id), row in members.items():
        if row is not None:
            by_catalog.setdefault(catalog_id, []).append((collection_id, item_id, row[0]))
    done: set[Scope] = set()
    for catalog_id, scoped in by_catalog.items():
        others = {(c, i) for c, i in conn.execute(_OTHERS_SQL, (catalog_id, dumps(scoped)))}
        done.update((catalog_id, c, i) for c, i, _ in scoped if (c, i) not in others)
    conn.executemany(_INSERT_SQL, sorted((*scope, row[1]) for scope in done if (row := members[scope]) is not None))
    return done
