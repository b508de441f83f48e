"""The pure parts of scripts/bench/vs_pgstac.py: deterministic data, the statistics and the table.

No servers, no pgstac, no timing: the harness itself runs only as a script.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from scripts.bench import datagen
from scripts.bench.vs_pgstac import Row, batches, median_p95, ratio, table


def test_the_same_seed_writes_byte_identical_files(tmp_path: Path) -> None:
    # GIVEN two writes with the same size and seed, one with another seed
    first = datagen.write(tmp_path / "a", 50, 20, seed=7)
    second = datagen.write(tmp_path / "b", 50, 20, seed=7)
    other = datagen.write(tmp_path / "c", 50, 20, seed=8)
    # THEN both sides of the benchmark get exactly the same bytes, and a new seed changes them
    for name in ("collections", "items", "big"):
        assert first[name].read_bytes() == second[name].read_bytes()
    assert first["items"].read_bytes() != other["items"].read_bytes()


def test_the_data_has_the_promised_shape(tmp_path: Path) -> None:
    # WHEN 30 items and a big item of 12 assets are written
    paths = datagen.write(tmp_path, 30, 12)
    items = [orjson.loads(line) for line in paths["items"].read_bytes().splitlines()]
    big = orjson.loads(paths["big"].read_bytes())
    # THEN 30 items with 5 assets each in `bench`, one item with 12 assets in `bench-big`
    assert len(items) == 30
    assert {len(doc["assets"]) for doc in items} == {5}
    assert {doc["collection"] for doc in items} == {datagen.COLLECTION}
    assert (big["id"], big["collection"], len(big["assets"])) == (datagen.BIG_ITEM, datagen.BIG_COLLECTION, 12)
    # AND one item in twenty has the platform the CQL2 workload matches (sat-9: items 9 and 29)
    assert sum("sat-9" in doc["properties"]["platform"] for doc in items) == 2
    # AND the sampled ids exist and are distinct
    ids = datagen.sample_ids(30, 10, seed=42)
    assert len(set(ids)) == 10 and set(ids) <= {doc["id"] for doc in items}


def test_median_and_nearest_rank_p95() -> None:
    # GIVEN 20 samples 1..20 THEN the median is 10.5 and the p95 the 19th value
    assert median_p95([float(v) for v in range(20, 0, -1)]) == (10.5, 19.0)
    assert median_p95([5.0]) == (5.0, 5.0)


def test_ratio_is_peer_over_us_and_blank_without_both() -> None:
    assert ratio(300.0, 100.0) == "3.00"
    assert ratio(1500.0, 100.0) == "15.0"
    assert ratio(None, 100.0) == "—"
    assert ratio(100.0, None) == "—"


def test_table_has_one_markdown_row_per_workload() -> None:
    # GIVEN a row measured on both sides and one measured on ours only
    rows = [
        Row("search page", peer=[60.0, 64.0, 70.0], us=[20.0, 24.0, 30.0], peer_bytes=180_000, us_bytes=950),
        Row("bulk-get", us=[2000.0]),
    ]
    lines = table(rows).splitlines()
    # THEN a header, a separator and one line per row, with the ratio of the medians
    assert len(lines) == 4
    assert lines[2] == "| search page | 64.0 ms | 70.0 ms | 24.0 ms | 30.0 ms | 2.67 | 0.18 MB | 0.9 kB |"
    assert lines[3] == "| bulk-get | — | — | 2.00 s | 2.00 s | — |  |  |"


def test_table_names_the_bytes_sent_when_a_side_compressed() -> None:
    # GIVEN our page of 2.21 MB sent gzipped as 91 kB, the peer's sent as it is
    peer = {"peer": [300.0], "peer_bytes": 2_030_000, "peer_wire": 2_030_000}
    rows = [Row("page", us=[25.0], us_bytes=2_210_000, us_wire=91_000, **peer)]  # type: ignore[arg-type]
    # THEN the bytes columns give the body, and what was sent only where it was smaller
    assert table(rows).splitlines()[2].endswith("| 2.03 MB | 2.21 MB (91.0 kB sent) |")


def test_batches_splice_ndjson_lines_into_feature_collections() -> None:
    # GIVEN 5 NDJSON lines (and a blank one) WHEN cut into batches of 2
    lines = [orjson.dumps({"id": str(i)}) + b"\n" for i in range(5)] + [b"\n"]
    bodies = [orjson.loads(body) for body in batches(iter(lines), 2)]
    # THEN three FeatureCollections carry every line once, in order
    assert [[f["id"] for f in body["features"]] for body in bodies] == [["0", "1"], ["2", "3"], ["4"]]
    assert {body["type"] for body in bodies} == {"FeatureCollection"}
