"""The short-``q`` index of the local store: 2-gram postings (``asset_grams``, one row per gram).

FTS5's trigram tokenizer answers a ``q`` of 3 or more characters; for 1 and 2 characters it can
only scan. So each asset also stores the distinct 2-grams of its search text with a newline
appended (``"ab\\ncd"`` -> ``ab``, ``b\\n``, ``\\nc``, ``cd``, ``d\\n``): every character of the
text starts one, so

- a 2-character ``q`` is the rows of the gram ``q`` (``= ?``, one index range);
- a 1-character ``q`` is the rows of the grams starting with it (``>= q AND < next(q)``, one index
  range: UTF-8 byte order is code point order).

The newline is the line separator of ``domain.asset.search_text``, so the appended one adds no
gram that a field end does not already produce; ``instr`` still checks every candidate (a ``q``
ending in a newline may hit the appended one). 2-grams only, not 1-grams too: they cover both
lengths with one row per distinct pair. The cost is about 38 rows per asset of the benchmark and
roughly twice the load time (``scripts/bench/short_q.py``, README "Short q"); what it buys is a
rare or absent 1-2 character ``q`` in under 1 ms at 1M assets instead of a scan of every row
(~3 s). The alternative, a minimum ``q`` length with a 400, would change the API on every backend.
"""

from __future__ import annotations

import orjson

SHORT_Q_MAX = 2
_SURROGATES = range(0xD800, 0xE000)


def short_grams(text: str) -> list[str]:
    """The distinct 2-grams of ``text + "\\n"`` (none for an empty text)."""
    if not text:
        return []
    padded = text + "\n"
    return list({padded[i : i + 2] for i in range(len(text))})


def short_grams_json(text: object) -> str:
    """``short_grams`` as a JSON array: the SQL function ``short_grams`` (triggers, migration)."""
    return orjson.dumps(short_grams(text) if isinstance(text, str) else []).decode()


def gram_range(q: str) -> tuple[str, str | None]:
    """The ``[low, high)`` range of grams whose rows hold the 1- or 2-character ``q``
    (``high`` None: no upper bound)."""
    if len(q) == SHORT_Q_MAX:
        return q, q + "\x00"
    after = ord(q) + 1
    if after in _SURROGATES:
        after = _SURROGATES.stop
    return q, chr(after) if after <= 0x10FFFF else None
