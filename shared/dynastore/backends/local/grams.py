"""The short-``q`` index of the local store: an FTS5 table (``asset_short_grams``) whose tokens are
the 1- and 2-grams of each asset's search text, hex-encoded.

FTS5's trigram tokenizer answers a ``q`` of 3 or more characters; for 1 and 2 characters it can
only scan. So each asset's row in ``asset_short_grams`` lists, as tokens, the UTF-8 hex of every
character of its text and of every pair of adjacent characters (``"ab"`` -> ``61 62 6162``): a 1-
or 2-character ``q`` is then exactly the rows of one token (``short_token(q)``). Hex keeps the
``ascii`` tokenizer from splitting or folding anything, and UTF-8 decodes one way only, so the token
of a 1-character ``q`` never equals that of a 2-character one. The index is exact (a row holds the
token iff its text holds ``q``); the store still checks ``instr`` on every candidate.

Why FTS5 and not a table of (gram, seq) rows (schema 3, ``asset_grams``): with ``detail=none`` an
FTS5 table keeps only compressed doclists of rowids, built in C from one string per asset, where the
table was ~38 rows per asset built, sorted and inserted from Python. For 100,000 benchmark texts
(``scripts/bench/short_q.py``'s) the postings cost 11.7 s CPU, this index 0.7 s (duplicate tokens
included: FTS5 drops them faster than Python can). ``content=''`` and ``columnsize=0``: nothing but
the doclists is stored; a row is removed with FTS5's ``'delete'`` command and the same tokens, which
``short_tokens`` recomputes from the old search text (the delete trigger, ``write_assets``). A write
builds the new rows' tokens before it takes the write lock (``prepare_asset_writes``) and only binds
them inside: calling ``short_tokens`` from SQL there cost twice the CPU under the lock.
"""

from __future__ import annotations

from itertools import pairwise

SHORT_Q_MAX = 2


def short_tokens(text: object) -> str:
    """The tokens of ``text`` in ``asset_short_grams``: its 1- and 2-grams in UTF-8 hex, space
    separated, duplicates kept (also the SQL function ``short_tokens``: triggers, migration)."""
    if not isinstance(text, str):
        return ""
    data = text.encode("utf-8", "surrogatepass")
    if len(data) == len(text):  # ASCII: one byte per character, so bytes.hex groups them in C
        return f"{data.hex(' ')} {data.hex(' ', 2)} {data[:-1].hex(' ', 2)}"
    chars = [c.encode("utf-8", "surrogatepass").hex() for c in text]
    return " ".join(chars) + " " + " ".join([a + b for a, b in pairwise(chars)])


def short_token(q: str) -> str:
    """The token of a 1- or 2-character ``q`` (an FTS5 phrase: hex digits need no quoting)."""
    return q.encode("utf-8", "surrogatepass").hex()
