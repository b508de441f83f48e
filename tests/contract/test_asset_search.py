"""MetadataStore contract: asset search (q, filters, scopes, time, place, sorting, exact paging).

Filter semantics are checked against ``domain.filters.matches`` on the same documents, and ``q``
against ``domain.asset.search_text``: the store must agree with the reference on every case.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import replace
from typing import Any

import pytest

from dynastore.domain.asset import search_text
from dynastore.domain.filters import (
    And,
    Between,
    Compare,
    Const,
    Exists,
    Expr,
    In,
    Intersects,
    Like,
    Not,
    Or,
    from_mongo,
    matches,
)
from dynastore.domain.search import AssetQuery, SortDirection, SortKey
from dynastore.errors import Invalid
from dynastore.ports import AssetWrite, MetadataStore
from support.paging import all_items, pages

from .helpers import asset_doc, audit, box, collection_doc, item_doc, seed_catalog, write_new

ALL_STATUSES = ("active", "deleted", "missing")
DIRECTIONS: tuple[SortDirection, ...] = ("asc", "desc")


def everything(store: MetadataStore, query: AssetQuery) -> list[dict[str, Any]]:
    """Every result of a query, following tokens; fails on a repeated record."""
    found = all_items(lambda token: store.search_assets(replace(query, token=token)))
    keys = [(d["catalog_id"], d["id"]) for d in found]
    assert len(keys) == len(set(keys)), "a record was returned twice"
    return found


def ids(docs: list[dict[str, Any]]) -> list[str]:
    return sorted(d["id"] for d in docs)


METADATA_VARIANTS: list[dict[str, Any]] = [
    {"cloud": 5, "bands": ["B02", "B04"], "flag": True, "nested": {"a": {"b": 1}}},
    {"cloud": 2.5, "bands": ["B08"], "flag": False},
    {"cloud": "5", "bands": [], "nested": {"a": {"b": 7}}},
    {"cloud": None, "bands": "B04"},
    {"cloud": True, "bands": ["b04", None, 3]},
    {},
    {"cloud": 7, "bands": [["B04"]], "nested": {"a": 1}},
    {"cloud": [1, 9], "flag": "true"},
    {"cloud": 0, "bands": ["B04", "B04"], "nested": {"a": {"b": 1}}},
    {"cloud": -3.75, "bands": {"B04": 1}},
]
TITLES = ["Band 4", "band_4 red", "Ébène", "Straße", None, "100% cloud", "Zulu", "mid", 'He said "hi"', "x"]
ROLES = [["data"], ["thumbnail"], ["data", "overview"], [], ["metadata"]]
TYPES = ["image/tiff; application=geotiff", "application/pdf", None, "image/png"]


@pytest.fixture
def corpus(store: MetadataStore) -> list[dict[str, Any]]:
    """Forty assets in two catalogs with varied metadata, titles, roles and statuses."""
    seed_catalog(store, "demo")
    seed_catalog(store, "other")
    docs = []
    for n in range(40):
        catalog = "demo" if n < 32 else "other"
        fields: dict[str, Any] = {
            "metadata": METADATA_VARIANTS[n % len(METADATA_VARIANTS)],
            "roles": ROLES[n % len(ROLES)],
            "tags": ["a", "b"] if n % 3 == 0 else (["b"] if n % 3 == 1 else []),
            "status": "deleted" if n % 9 == 4 else "active",
        }
        if TITLES[n % len(TITLES)] is not None:
            fields["title"] = TITLES[n % len(TITLES)]
        if TYPES[n % len(TYPES)] is not None:
            fields["type"] = TYPES[n % len(TYPES)]
        if n % 4 != 3:
            fields["file:size"] = (n * 37) % 500
        if n % 5 == 0:
            fields["bbox"] = [n, 0, n + 1, 1]
        if n % 6 == 0:
            fields["code"] = f"CODE-{n:03d}"
        docs.append(asset_doc(catalog, f"S2A_2024{n:04d}_B{n % 13:02d}.TIF", **fields))
    return write_new(store, *docs)


FILTERS: list[Expr] = [
    from_mongo({"metadata.cloud": 5}),
    from_mongo({"metadata.cloud": {"$ne": 5}}),
    from_mongo({"metadata.cloud": {"$gt": 2}}),
    from_mongo({"metadata.cloud": {"$lte": 2.5}}),
    from_mongo({"metadata.cloud": {"$gte": 0, "$lt": 7}}),
    from_mongo({"metadata.cloud": {"$in": [1, "5", True]}}),
    from_mongo({"metadata.cloud": {"$nin": [5, 0]}}),
    from_mongo({"metadata.cloud": {"$exists": True}}),
    from_mongo({"metadata.cloud": {"$exists": False}}),
    from_mongo({"metadata.cloud": None}),
    from_mongo({"metadata.cloud": {"$ne": None}}),
    from_mongo({"metadata.cloud": {"$not": {"$gt": 3}}}),
    from_mongo({"metadata.cloud": "5"}),
    from_mongo({"metadata.cloud": {"$lt": "6"}}),
    from_mongo({"metadata.bands": "B04"}),
    from_mongo({"metadata.bands": {"$ne": "B04"}}),
    from_mongo({"metadata.bands": {"$in": ["B02", "B08"]}}),
    from_mongo({"metadata.bands": {"$nin": ["B04"]}}),
    from_mongo({"metadata.bands": None}),
    from_mongo({"metadata.bands": {"$in": [None, 3]}}),
    from_mongo({"metadata.nested.a.b": {"$gte": 1}}),
    from_mongo({"metadata.nested.a": {"$exists": True}}),
    from_mongo({"metadata.nested.a": {"$ne": 1}}),
    from_mongo({"metadata.flag": True}),
    from_mongo({"metadata.flag": {"$ne": False}}),
    from_mongo({"metadata.flag": {"$gt": False}}),
    from_mongo({"roles": "data"}),
    from_mongo({"roles": {"$in": ["thumbnail", "metadata"]}}),
    from_mongo({"file:size": {"$gte": 100, "$lt": 300}}),
    from_mongo({"title": {"$gt": "M"}}),
    from_mongo({"$or": [{"metadata.cloud": {"$lt": 1}}, {"roles": "thumbnail"}]}),
    from_mongo({"$and": [{"metadata.cloud": {"$gte": 0}}, {"tags": "a"}]}),
    Like("title", "Band%"),
    Like("title", "band%", casei=True),
    Like("title", "band\\_4%"),
    Like("title", "100\\% %"),
    Like("title", "_ulu"),
    Like("title", "%STRASSE%", casei=True),
    Like("title", "%ÉBÈNE%", casei=True),
    Like("metadata.bands", "b0_"),
    Compare("eq", "title", "ÉBÈNE", casei=True),
    Compare("eq", "title", "ébène"),
    In("metadata.bands", ("b04",), casei=True),
    In("title", ("zulu", "MID"), casei=True),
    Between("metadata.cloud", 0, 5),
    Between("file:size", 50, 250),
    Intersects("bbox", box(3.5, 0.5, 10.5, 0.6)),
    Not(Exists("title")),
    Not(Or((Compare("eq", "roles", "data"), Compare("gt", "file:size", 200)))),
    Const(False),
    Const(True),
    Compare("eq", "metadata.nested", {"a": {"b": 1}}),
    And((Compare("eq", "metadata.nested", {"a": {"b": 1}}), Compare("eq", "roles", "data"))),
    Compare("ne", "metadata.bands", ["B08"]),
    Compare("eq", "metadata.does.not.exist", 1),
    Compare("ne", "metadata.does.not.exist", 1),
]


@pytest.mark.parametrize("expr", FILTERS, ids=[f"f{n:02d}" for n in range(len(FILTERS))])
def test_filters_agree_with_the_reference_evaluator(
    store: MetadataStore, corpus: list[dict[str, Any]], expr: Expr
) -> None:
    # GIVEN the corpus  WHEN searched with a filter (any status, both catalogs)
    query = AssetQuery(catalog_ids=("demo", "other"), status=(), filter=expr, limit=7)
    found = everything(store, query)
    # THEN exactly the documents the reference evaluator accepts, and count agrees
    expected = [d for d in corpus if matches(expr, d)]
    assert ids(found) == ids(expected)
    assert store.count_assets(query) == len(expected)


Q_CASES = [
    "b04",
    "B04",
    "s2a_2024",
    "s2a_2024000",
    "4",
    "04",
    ".tif",
    "_b1",
    "é",
    "ÉB",
    "straße",
    "%",
    "_",
    '"hi',
    "code-0",
    "he said",
    "zz-no-match",
    "TIF\ncode",
    "f\n",
    "t",
    "Þ",
    "x",
    "C",
    "-",
    "1_",
]


@pytest.mark.parametrize("q", Q_CASES, ids=repr)
def test_q_is_a_case_insensitive_substring_whatever_its_length(
    store: MetadataStore, corpus: list[dict[str, Any]], q: str
) -> None:
    found = everything(store, AssetQuery(catalog_ids=("demo", "other"), status=ALL_STATUSES, q=q, limit=9))
    assert ids(found) == ids([d for d in corpus if q.lower() in search_text(d)])


def test_q_matches_id_code_title_and_file_name_but_never_across_fields(store: MetadataStore) -> None:
    seed_catalog(store, "demo")
    write_new(
        store,
        asset_doc("demo", "abc", title="def"),
        asset_doc("demo", "k1", code="S2A_20240101_B04"),
        asset_doc("demo", "k2", href="https://h.example.com/path/S2A_20240101_B04.TIF"),
        asset_doc("demo", "k3", title="the S2A_20240101_B04.TIF band"),
        asset_doc("demo", "S2A_20240101_B04.TIF"),
    )
    query = AssetQuery(catalog_ids=("demo",), q="b04")
    assert ids(everything(store, query)) == ["S2A_20240101_B04.TIF", "k1", "k2", "k3"]
    assert ids(everything(store, replace(query, q="cde"))) == []
    assert ids(everything(store, replace(query, q="bcd"))) == []
    assert ids(everything(store, replace(query, q="Ab"))) == ["abc"]


def test_short_q_follows_writes_updates_and_deletes_and_pages_exactly(store: MetadataStore) -> None:
    # GIVEN assets whose text holds 1- and 2-character strings in various cases and places
    seed_catalog(store, "demo")
    titles = {f"a{n:02d}": ("Þór Qz" if n % 3 == 0 else "plain") for n in range(12)}
    write_new(store, *(asset_doc("demo", key, title=title) for key, title in titles.items()))
    query = AssetQuery(catalog_ids=("demo",), q="þ", limit=2)
    with_thorn = sorted(k for k, t in titles.items() if "Þ" in t)
    # WHEN searched with 1 and 2 characters, in either case, two per page
    # THEN exactly the matching assets, each once
    for q in ("þ", "Þ", "qz", "QZ", "Qz", "z", "ór"):
        assert ids(everything(store, replace(query, q=q))) == with_thorn
    assert ids(everything(store, replace(query, q="pl"))) == sorted(set(titles) - set(with_thorn))
    # WHEN one loses the text (update) and another is deleted
    changed = store.get_asset("demo", "a00")
    store.write_assets(
        [AssetWrite({**changed, "title": "plain"}, expect_rev=changed["rev"])], audits=[audit("demo", "asset")]
    )
    store.delete_asset("demo", "a03", audit=audit("demo", "asset"))
    gained = store.get_asset("demo", "a01")
    store.write_assets(
        [AssetWrite({**gained, "title": "qz"}, expect_rev=gained["rev"])], audits=[audit("demo", "asset")]
    )
    # THEN short q follows the current text
    expected = sorted({*with_thorn, "a01"} - {"a00", "a03"})
    assert ids(everything(store, replace(query, q="qZ"))) == expected
    assert ids(everything(store, replace(query, q="þ"))) == sorted(set(with_thorn) - {"a00", "a03"})
    assert store.count_assets(replace(query, q="q")) == len(expected)


def test_scope_filters(store: MetadataStore) -> None:
    seed_catalog(store, "demo")
    store.put_collection("demo", collection_doc("s2"), expect_rev=0, audit=audit("demo", "collection", "s2"))
    store.put_item("demo", item_doc("s2", "scene-1"), expect_rev=0, audit=audit("demo", "item"))
    write_new(
        store,
        asset_doc("demo", "cat-level"),
        asset_doc("demo", "col-level", collection_id="s2"),
        asset_doc("demo", "item-level", collection_id="s2", item_id="scene-1"),
        asset_doc("demo", "item-level-2", collection_id="s2", item_id="scene-2"),
    )
    base = AssetQuery(catalog_ids=("demo",))
    assert ids(everything(store, replace(base, collection_id="s2"))) == ["col-level", "item-level", "item-level-2"]
    assert ids(everything(store, replace(base, collection_id="s2", item_id="scene-1"))) == ["item-level"]
    assert ids(everything(store, replace(base, level="catalog"))) == ["cat-level"]
    assert ids(everything(store, replace(base, level="collection"))) == ["col-level"]
    assert ids(everything(store, replace(base, level="item"))) == ["item-level", "item-level-2"]
    assert ids(everything(store, replace(base, ids=("cat-level", "item-level", "nope")))) == ["cat-level", "item-level"]
    assert everything(store, replace(base, catalog_ids=())) == []


def test_roles_any_tags_all_types_any_status_any(store: MetadataStore, corpus: list[dict[str, Any]]) -> None:
    base = AssetQuery(catalog_ids=("demo", "other"), status=ALL_STATUSES)
    roles = ("thumbnail", "overview")
    assert ids(everything(store, replace(base, roles=roles))) == ids(
        [d for d in corpus if set(d["roles"]) & set(roles)]
    )
    assert ids(everything(store, replace(base, tags=("a", "b")))) == ids(
        [d for d in corpus if {"a", "b"} <= set(d["tags"])]
    )
    assert ids(everything(store, replace(base, tags=("b",)))) == ids([d for d in corpus if "b" in d["tags"]])
    types = ("application/pdf", "image/png")
    assert ids(everything(store, replace(base, types=types))) == ids([d for d in corpus if d.get("type") in types])
    assert ids(everything(store, replace(base, status=("deleted",)))) == ids(
        [d for d in corpus if d["status"] == "deleted"]
    )
    # the default status is active only
    assert ids(everything(store, AssetQuery(catalog_ids=("demo", "other")))) == ids(
        [d for d in corpus if d["status"] == "active"]
    )
    assert ids(everything(store, replace(base, catalog_ids=("other",)))) == ids(
        [d for d in corpus if d["catalog_id"] == "other"]
    )


TIMES = {
    "instant": {"datetime": "2024-01-10T00:00:00Z"},
    "interval": {"start_datetime": "2024-01-05T00:00:00Z", "end_datetime": "2024-01-15T00:00:00Z"},
    "open-end": {"start_datetime": "2024-02-01T00:00:00Z"},
    "open-start": {"end_datetime": "2023-12-01T00:00:00Z"},
    "timeless": {},
}


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        (("2024-01-10T00:00:00.000000Z", "2024-01-10T00:00:00.000000Z"), {"instant", "interval"}),
        (("2024-01-15T00:00:00.000000Z", None), {"interval", "open-end"}),
        ((None, "2024-01-05T00:00:00.000000Z"), {"interval", "open-start"}),
        (("2024-01-15T00:00:00.000001Z", "2024-01-31T23:59:59.999999Z"), set()),
        (
            ("2023-12-01T00:00:00.000000Z", "2024-02-01T00:00:00.000000Z"),
            {"instant", "interval", "open-end", "open-start"},
        ),
        (("2030-01-01T00:00:00.000000Z", None), {"open-end"}),
    ],
)
def test_datetime_interval_overlap_with_inclusive_bounds(
    store: MetadataStore, bounds: tuple[str | None, str | None], expected: set[str]
) -> None:
    seed_catalog(store, "demo")
    write_new(store, *(asset_doc("demo", name, **fields) for name, fields in TIMES.items()))
    found = everything(store, AssetQuery(catalog_ids=("demo",), datetime=bounds))
    assert {d["id"] for d in found} == expected


def test_bbox_selects_item_linked_assets_by_exact_item_geometry(store: MetadataStore) -> None:
    # GIVEN a triangle item, a point item, an item with only a bbox, and non-item assets
    seed_catalog(store, "demo")
    store.put_collection("demo", collection_doc("s2"), expect_rev=0, audit=audit("demo", "collection", "s2"))
    triangle = {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [0, 10], [0, 0]]]}
    store.put_item("demo", item_doc("s2", "tri", geometry=triangle), expect_rev=0, audit=audit("demo"))
    point = {"type": "Point", "coordinates": [20, 20]}
    store.put_item("demo", item_doc("s2", "pt", geometry=point), expect_rev=0, audit=audit("demo"))
    no_geometry = item_doc("s2", "bb", bbox=[30, 30, 31, 31])
    no_geometry["geometry"] = None
    store.put_item("demo", no_geometry, expect_rev=0, audit=audit("demo"))
    write_new(
        store,
        asset_doc("demo", "tri-a", collection_id="s2", item_id="tri"),
        asset_doc("demo", "tri-b", collection_id="s2", item_id="tri"),
        asset_doc("demo", "pt-a", collection_id="s2", item_id="pt"),
        asset_doc("demo", "bb-a", collection_id="s2", item_id="bb"),
        asset_doc("demo", "col", collection_id="s2", bbox=[0, 0, 50, 50]),
        asset_doc("demo", "cat", bbox=[0, 0, 50, 50]),
    )
    base = AssetQuery(catalog_ids=("demo",))
    # THEN the triangle's empty corner (inside its bbox) matches nothing
    assert ids(everything(store, replace(base, bbox=(8, 8, 9, 9)))) == []
    assert ids(everything(store, replace(base, bbox=(1, 1, 2, 2)))) == ["tri-a", "tri-b"]
    assert ids(everything(store, replace(base, bbox=(19.5, 19.5, 20.5, 20.5)))) == ["pt-a"]
    assert ids(everything(store, replace(base, bbox=(30.5, 30.5, 32, 32)))) == ["bb-a"]
    assert ids(everything(store, replace(base, bbox=(-180, -90, 180, 90)))) == ["bb-a", "pt-a", "tri-a", "tri-b"]
    # a 3D bbox is [minx, miny, minz, maxx, maxy, maxz]
    assert ids(everything(store, replace(base, bbox=(-180, -90, 0, -100, 90, 10)))) == []
    assert ids(everything(store, replace(base, bbox=(0.5, 0.5, 0, 1, 1, 10)))) == ["tri-a", "tri-b"]


def test_sorting_with_exact_paging(store: MetadataStore) -> None:
    seed_catalog(store, "demo")
    docs = [asset_doc("demo", f"a{n:03d}", title=f"t{(n * 7) % 10}", **{"file:size": (n * 13) % 17}) for n in range(60)]
    write_new(store, *docs)
    base = AssetQuery(catalog_ids=("demo",), limit=7)
    by_title_desc = everything(store, replace(base, sortby=(SortKey("title", "desc"),)))
    assert [d["id"] for d in by_title_desc] == [
        d["id"] for d in sorted(sorted(docs, key=lambda d: d["id"]), key=lambda d: d["title"], reverse=True)
    ]
    by_size = everything(store, replace(base, sortby=(SortKey("file:size"), SortKey("id", "desc"))))
    assert [d["id"] for d in by_size] == [
        d["id"] for d in sorted(sorted(docs, key=lambda d: d["id"], reverse=True), key=lambda d: d["file:size"])
    ]
    default = everything(store, base)
    assert [d["id"] for d in default] == sorted(d["id"] for d in docs)


def test_sorting_by_a_sometimes_missing_field_still_visits_each_record_once(
    store: MetadataStore, corpus: list[dict[str, Any]]
) -> None:
    for field, direction in itertools.product(("title", "file:size", "datetime", "item_id"), DIRECTIONS):
        query = AssetQuery(catalog_ids=("demo", "other"), status=(), sortby=(SortKey(field, direction),), limit=6)
        assert ids(everything(store, query)) == ids(corpus)


def test_paging_visits_every_record_exactly_once_while_inserts_happen(store: MetadataStore) -> None:
    # GIVEN 300 assets
    seed_catalog(store, "demo")
    write_new(store, *(asset_doc("demo", f"a{n:04d}", title="match") for n in range(0, 600, 2)))
    original = {f"a{n:04d}" for n in range(0, 600, 2)}
    # WHEN paging while a writer keeps inserting matching assets in between (before and after the cursor)
    stop = threading.Event()
    inserted: list[str] = []

    def writer() -> None:
        n = 1
        while not stop.is_set() and n < 600:
            write_new(store, asset_doc("demo", f"a{n:04d}", title="match"))
            inserted.append(f"a{n:04d}")
            n += 2

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seen: list[str] = []
        query = AssetQuery(catalog_ids=("demo",), q="match", limit=11)
        for page in pages(lambda token: store.search_assets(replace(query, token=token))):
            seen.extend(d["id"] for d in page.items)
            write_new(
                store,
                asset_doc("demo", f"z-{len(seen)}", title="match"),
                asset_doc("demo", f"0-{len(seen)}", title="match"),
            )
    finally:
        stop.set()
        thread.join()
    # THEN every original record once, and no record twice
    assert len(seen) == len(set(seen))
    assert original <= set(seen)


def test_post_filtered_parts_keep_paging_exact(store: MetadataStore, corpus: list[dict[str, Any]]) -> None:
    # a comparison with an object literal, and a sort: every page boundary must stay exact
    expr = Or((Compare("eq", "metadata.nested", {"a": {"b": 1}}), Compare("eq", "roles", "thumbnail")))
    for limit in (1, 2, 3, 5):
        query = AssetQuery(
            catalog_ids=("demo", "other"), status=(), filter=expr, limit=limit, sortby=(SortKey("title", "desc"),)
        )
        assert ids(everything(store, query)) == ids([d for d in corpus if matches(expr, d)])


@pytest.mark.parametrize("limit", [0, 10_001])
def test_limit_bounds(store: MetadataStore, limit: int) -> None:
    seed_catalog(store, "demo")
    with pytest.raises(Invalid):
        store.search_assets(AssetQuery(catalog_ids=("demo",), limit=limit))


def test_limit_of_ten_thousand_is_accepted(store: MetadataStore) -> None:
    seed_catalog(store, "demo")
    write_new(store, *(asset_doc("demo", f"a{n}") for n in range(30)))
    page = store.search_assets(AssetQuery(catalog_ids=("demo",), limit=10_000))
    assert len(page.items) == 30
    assert page.next_token is None


def test_a_token_only_fits_its_sort_order(store: MetadataStore) -> None:
    seed_catalog(store, "demo")
    write_new(store, *(asset_doc("demo", f"a{n}", title=str(n)) for n in range(5)))
    page = store.search_assets(AssetQuery(catalog_ids=("demo",), limit=2))
    assert page.next_token
    with pytest.raises(Invalid):
        store.search_assets(
            AssetQuery(catalog_ids=("demo",), limit=2, token=page.next_token, sortby=(SortKey("title"),))
        )
    with pytest.raises(Invalid):
        store.search_assets(AssetQuery(catalog_ids=("demo",), limit=2, token="garbage"))
