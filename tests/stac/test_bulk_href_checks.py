"""The href rule of a bulk write checks each http(s) host once (``AssetRecordBuilder.href_checker``
remembers the hrefs heads that passed): every href still gets the answer ``HrefPolicy.check`` gives it."""

from __future__ import annotations

from typing import Any

import pytest

from dynastore.config import Settings
from dynastore.errors import Invalid
from dynastore.services.asset_records import AssetRecordBuilder


class _Blobs:
    bucket = "b"

    def href(self, key: str) -> str:
        return f"file:///data/{key}"

    def key_for_href(self, href: str) -> str | None:
        return href.removeprefix("file:///data/") if href.startswith("file:///data/") else None


def _builder() -> AssetRecordBuilder:
    builder = AssetRecordBuilder(Settings(), catalogs=Any)  # type: ignore[arg-type]
    builder._prefixes["c1"] = "c1/"  # the catalog's binding, without a catalog service
    return builder


def _answer(check: Any, href: str) -> str:
    try:
        check(href)
    except Invalid as exc:
        return exc.detail
    return "ok"


HREFS = [
    "https://data.example.com/a/1.tif",
    "https://data.example.com/a/2.tif",
    "https://data.example.com?x/3.tif",
    "https:///data.example.com/4.tif",
    "https://data.example.com:8080/5.tif",
    "http://h/6.tif",
    "http://h/7.tif",
    "http:///h/8.tif",
    "https://[::1/9.tif",
    "https://[::1]/10.tif",
    "https://exa mple.com/11.tif",
    "https://",
    "https://x",
    "file:///data/c1/12.tif",
    "file:///data/c2/13.tif",
    "file:///data/c1/14.tif",
]


@pytest.mark.parametrize("order", [HREFS, HREFS[::-1], HREFS * 2])
def test_a_bulk_writes_href_checks_answer_as_one_check_per_href(order: list[str]) -> None:
    # GIVEN one catalog's checker for a whole batch, and a fresh one for each href
    builder = _builder()
    batch = builder.href_checker("c1", _Blobs())  # type: ignore[arg-type]
    # WHEN the batch's hrefs (good and bad, hosts repeated) are checked in turn
    answers = [_answer(batch, href) for href in order]
    # THEN each answer is the one a check of that href alone gives
    assert answers == [_answer(builder.href_checker("c1", _Blobs()), href) for href in order]  # type: ignore[arg-type]
    assert "ok" in answers and any("has no host" in a for a in answers) and any("outside" in a for a in answers)
