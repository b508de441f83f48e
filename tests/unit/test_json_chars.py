"""Item pages write link hrefs as text (``embedding._json_chars``): the same characters orjson writes."""

from __future__ import annotations

import orjson
import pytest

from dynastore.services.stac.embedding import _json_chars


@pytest.mark.parametrize("text", ["S2B_000001", "a b/c?d=e", 'say "hi"', "back\\slash", "tab\there", "\x7f", "é-ü", ""])
def test_text_is_escaped_exactly_as_orjson_escapes_it(text: str) -> None:
    # GIVEN an id as a client may send it WHEN written into a page's links THEN it reads as orjson writes it
    assert _json_chars(text) == orjson.dumps(text).decode()[1:-1]
