"""The Firestore composite indexes the gcp backend's queries need, and a check of query shapes.

``python -m dynastore.backends.gcp.indexes [--prefix P]`` prints ``firestore_indexes.json`` (the
Firestore admin API / ``firebase.json`` ``indexes`` format), the file Terraform reads; the
checked-in copy is regenerated and compared by ``tests/integration/gcp/test_indexes.py``.
Collection groups are named without the deployment's collection prefix; Terraform prepends it.

What needs no composite index (Firestore merges single-field indexes): equality, ``in`` and
``array-contains[-any]`` filters ordered by document name only. That covers listing, the default
search order and every substring (gram) query. What does:

- asset searches sorted by a field: ``(catalog_id, status, <field> <dir>, __name__)``;
- item searches sorted by a field: ``(catalog_id, <field> <dir>, __name__)`` and with a
  collection filter ``(catalog_id, collection, <field> <dir>, __name__)``;
- export: ``(catalog_id, status, updated, __name__)`` (one of the above);
- audit trail and jobs, newest first;
- a catalog's ingest records by status, newest first: ``(catalog_id, status, at DESC, __name__)``.

A sorted search with other native filters (collection, type, roles, ...) has no index of its own:
``FirestoreMetadataStore`` catches Firestore's missing-index answer and runs the query with only
the indexed filters, checking the rest on each document read (exact, within the read budget).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INDEX_FILE = Path(__file__).with_name("firestore_indexes.json")
NAME = "__name__"
ASC, DESC = "ASCENDING", "DESCENDING"
EQUALITY_OPS = ("==", "in", "array_contains", "array_contains_any")


@dataclass(frozen=True)
class QueryShape:
    """What decides which index a query needs."""

    collection: str  # collection group without the prefix
    equalities: frozenset[str]  # fields under ==, in
    arrays: frozenset[str]  # fields under array-contains[-any]
    ranges: tuple[str, ...]  # fields under <, <=, >, >=
    order: tuple[tuple[str, str], ...]  # explicit orderBy fields (without the final __name__ ASC)


def _fields(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    out = []
    for path, mode in pairs:
        if mode == "CONTAINS":
            out.append({"fieldPath": path, "arrayConfig": "CONTAINS"})
        else:
            out.append({"fieldPath": path, "order": mode})
    return out


def _index(collection: str, *pairs: tuple[str, str]) -> dict[str, Any]:
    return {"collectionGroup": collection, "queryScope": "COLLECTION", "fields": _fields(*pairs, (NAME, ASC))}


def composite_indexes() -> list[dict[str, Any]]:
    from dynastore.backends.gcp.firestore_common import ASSET_SORT_NATIVE, ITEM_SORT_NATIVE

    indexes: list[dict[str, Any]] = []
    for native in dict.fromkeys(ASSET_SORT_NATIVE.values()):
        for direction in (ASC, DESC):
            if native == "catalog_id":  # several catalogs sorted by catalog: catalogs are checked
                indexes.append(_index("assets", ("status", ASC), (native, direction)))
            else:
                indexes.append(_index("assets", ("catalog_id", ASC), ("status", ASC), (native, direction)))
    for native in dict.fromkeys(ITEM_SORT_NATIVE.values()):
        for direction in (ASC, DESC):
            indexes.append(_index("items", ("catalog_id", ASC), (native, direction)))
            if native != "collection":
                indexes.append(_index("items", ("catalog_id", ASC), ("collection", ASC), (native, direction)))
    jobs_order = (("created", DESC), ("id", DESC))
    indexes.append(_index("jobs", *jobs_order))
    for field in ("status", "task_id", "catalog_id", "asset_id"):
        indexes.append(_index("jobs", (field, ASC), *jobs_order))
    for extra in ((), ("record_type",), ("record_id",), ("record_type", "record_id")):
        indexes.append(_index("audit", ("catalog_id", ASC), *((f, ASC) for f in extra), ("seq", DESC)))
    indexes.append(_index("ingest", ("catalog_id", ASC), ("status", ASC), ("at", DESC)))  # failures, then the rest
    return indexes


def field_overrides() -> list[dict[str, Any]]:
    no_index: dict[str, Any] = {"indexes": []}
    overrides = [
        # The record itself: never queried, often larger than an index entry may be.
        *({"collectionGroup": group, "fieldPath": "doc", **no_index} for group in _GROUPS),
        # Substring grams: equality only (no descending or array index per key).
        *(
            {"collectionGroup": group, "fieldPath": "tri", "indexes": [{"order": ASC, "queryScope": "COLLECTION"}]}
            for group in ("assets", "items")
        ),
        # Claimed storage events expire by themselves (TTL policy).
        {"collectionGroup": "events", "fieldPath": "expires_at", "ttl": True, "indexes": []},
    ]
    return overrides


_GROUPS = ("catalogs", "collections", "items", "assets", "audit", "jobs")


def index_file(prefix: str = "") -> dict[str, Any]:
    def named(entry: dict[str, Any]) -> dict[str, Any]:
        return {**entry, "collectionGroup": prefix + entry["collectionGroup"]}

    return {
        "indexes": [named(i) for i in composite_indexes()],
        "fieldOverrides": [named(o) for o in field_overrides()],
    }


# ------------------------------------------------------------------ servability


def _index_shape(index: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    fields = [(f["fieldPath"], f.get("order") or "CONTAINS") for f in index["fields"]]
    if fields and fields[-1][0] == NAME:
        fields = fields[:-1]
    return index["collectionGroup"], fields


def servable(shape: QueryShape, indexes: Iterable[dict[str, Any]] | None = None) -> bool:
    """Can production Firestore answer a query of this shape with these composite indexes?

    Rules (Firestore's, simplified to what the store issues): equality-only queries in name
    order are served by merging single-field indexes; otherwise a composite index must hold the
    equality/array fields first (any order), then the order-by fields (a range field must be the
    first of them) with their directions, then ``__name__`` ascending.
    """
    order = list(shape.order)
    if not order and not shape.ranges:
        return True
    if shape.ranges and (not order or order[0][0] != shape.ranges[0]):
        order = [(r, ASC) for r in shape.ranges] + order
    if not shape.equalities and not shape.arrays and len(order) == 1:
        return True  # a single-field index
    wanted_prefix = {(f, ASC) for f in shape.equalities} | {(f, "CONTAINS") for f in shape.arrays}
    for index in indexes if indexes is not None else composite_indexes():
        group, fields = _index_shape(index)
        if group != shape.collection:
            continue
        head, tail = fields[: len(wanted_prefix)], fields[len(wanted_prefix) :]
        if set(head) == wanted_prefix and tail == order:
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="print the Firestore index file of the gcp backend")
    parser.add_argument("--prefix", default="", help="collection prefix of the deployment")
    parser.add_argument("--write", action="store_true", help=f"write {INDEX_FILE.name} next to this module")
    args = parser.parse_args(argv)
    text = json.dumps(index_file(args.prefix), indent=2) + "\n"
    if args.write:
        INDEX_FILE.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
