"""Bulk item loading: NDJSON parsing with per-line errors, and the batches ``dynastore load`` streams
from a file (NDJSON, or one FeatureCollection JSON document) through ``create_items``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from dynastore.errors import DynastoreError, Invalid


def parse_ndjson(lines: Iterable[bytes], first_line: int = 1) -> list[Any]:
    """One JSON value per line (blank lines at the end are ignored, so that value ``i`` is line
    ``first_line + i``); ``Invalid`` listing every unreadable line."""
    rows = list(lines)
    while rows and not rows[-1].strip():
        rows.pop()
    values: list[Any] = []
    failures: list[tuple[int, DynastoreError]] = []
    for number, line in enumerate(rows, start=first_line):
        if not line.strip():
            failures.append((number, Invalid("a blank line (NDJSON is one item per line)")))
            continue
        try:
            values.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            failures.append((number, Invalid(f"not valid JSON: {exc}")))
    if failures:
        raise record_errors(failures, lines=True)  # numbers are lines already (first=0)
    return values


ERRORS_SHOWN = 20  # failing records named in the detail (all of them, up to 1,000, in ``errors``)


def record_errors(
    failures: list[tuple[int, DynastoreError]], *, lines: bool = False, first: int = 0
) -> DynastoreError:
    """One error for every failing record of a bulk request (``features[i]``, or ``line n`` of an
    NDJSON body; record numbers start at ``first``): its status is theirs when they agree (409 when
    every item exists already), else 400."""
    kinds = {type(exc) for _, exc in failures}
    kind = kinds.pop() if len(kinds) == 1 else Invalid
    name = (lambda i: f"line {i}") if lines else (lambda i: f"features[{i}]")
    failures = [(first + index, exc) for index, exc in failures]
    parts = [f"{name(index)}: {exc.detail}" for index, exc in failures[:ERRORS_SHOWN]]
    more = len(failures) - ERRORS_SHOWN
    detail = "; ".join(parts) + (f"; and {more} more (see errors)" if more > 0 else "")
    detail += "; nothing was written"
    key = "line" if lines else "index"
    errors = [{key: index, "detail": exc.detail} for index, exc in failures[:1000]]
    return kind(detail, errors=errors)


def bulk_items_features(body: Any) -> tuple[list[Any], bool]:
    """The STAC Transaction bulk form ``{"items": {id: item}, "method": "insert"|"upsert"}`` as
    (features, upsert); an item without an id takes its key, one with another id is refused."""
    if not isinstance(body, dict) or not isinstance(body.get("items"), dict) or not body["items"]:
        raise Invalid('bulk_items takes {"items": {"<id>": <item>, ...}, "method": "insert" | "upsert"}')
    method = body.get("method", "insert")
    if method not in ("insert", "upsert"):
        raise Invalid(f'method is "insert" or "upsert", not {method!r}')
    features: list[Any] = []
    for key, item in body["items"].items():
        if isinstance(item, dict):
            if item.get("id", key) != key:
                raise Invalid(f"items.{key}: the item id {item.get('id')!r} differs from its key")
            item = {**item, "id": key}
        features.append(item)
    return features, method == "upsert"


NDJSON_SUFFIXES = (".ndjson", ".jsonl", ".geojsonl", ".geojsons")


def file_batches(path: Path, size: int) -> Iterator[tuple[int, list[Any]]]:
    """``(number of the first record, items)`` batches of ``size`` items from a file: NDJSON
    (``.ndjson``, ``.jsonl``, ``.geojsonl``: one item per line, streamed; numbers are 1-based lines),
    else one FeatureCollection JSON document, read whole (numbers are 0-based ``features`` indexes)."""
    lines = path.suffix.lower() in NDJSON_SUFFIXES
    for first, chunk in file_chunks(path, size):
        yield first, parse_chunk(chunk, first, lines=lines)


def file_chunks(path: Path, size: int) -> Iterator[tuple[int, list[Any]]]:
    """``file_batches`` with NDJSON lines left unparsed (``bytes``; ``parse_chunk`` reads them), so
    that a reader can hand them to the process that validates them."""
    if path.suffix.lower() not in NDJSON_SUFFIXES:
        try:
            doc = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise Invalid(f"{path} is not JSON ({exc}); name an NDJSON file *.ndjson") from None
        features = doc.get("features") if isinstance(doc, dict) else None
        if not isinstance(features, list):
            raise Invalid(f"{path}: a FeatureCollection with a features array, or NDJSON named *.ndjson")
        for start in range(0, len(features), size):
            yield start, features[start : start + size]
        return
    with path.open("rb") as handle:
        batch: list[bytes] = []
        first = 1
        for number, line in enumerate(handle, start=1):
            if not batch:
                first = number
            batch.append(line)
            if len(batch) >= size:
                yield first, batch
                batch = []
        if batch:
            yield first, batch


def parse_chunk(chunk: list[Any], first: int, *, lines: bool) -> list[Any]:
    """The items of a ``file_chunks`` chunk: NDJSON lines parsed (``Invalid`` naming each bad line)."""
    return parse_ndjson(chunk, first) if lines else chunk
