"""N-gram keys for case-insensitive substring search on Firestore (pure Python, no SDK).

Firestore has no substring operator. Each searchable document stores, in the map field ``tri``,
one key per distinct lower-case 1-, 2- and 3-gram of each line of its search text (for assets
``domain.asset.search_text``: id, code, title, file name; a gram never spans two lines). A search
for ``q`` asks Firestore for the documents holding *all* of a few grams of ``q`` (equality filters
``tri.<key> == true``, answered by merging single-field indexes: no composite index per gram) and
checks the exact substring on what comes back:

- ``len(q) <= 3``: ``q`` itself is a gram, the index answers exactly (no false positives);
- longer ``q``: up to ``MAX_QUERY_GRAMS`` trigrams spread over ``q`` narrow the candidates; the
  false positives are documents holding those trigrams elsewhere, rare in practice (measured in
  ``tests/integration/gcp/test_substring_reads.py``).

Keys are ``g`` + the hex of the gram's UTF-8 bytes, so any character makes a valid Firestore field
name without quoting. A text with more than ``MAX_DOC_GRAMS`` distinct grams (about 5,000
characters) is not indexed (``gram_map`` returns None); the store flags such documents and every
substring query also scans the flagged ones, so results stay exact.
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_QUERY_GRAMS = 3
# Each key is a single-field index entry: stay well below Firestore's 40,000 per document.
MAX_DOC_GRAMS = 15_000


def gram_key(gram: str) -> str:
    return "g" + gram.encode("utf-8").hex()


def text_grams(text: str) -> set[str]:
    """Every distinct 1-, 2- and 3-gram of each line of ``text`` (already lower-cased)."""
    grams: set[str] = set()
    for line in text.split("\n"):
        n = len(line)
        for size in (1, 2, 3):
            for start in range(0, n - size + 1):
                grams.add(line[start : start + size])
    return grams


def gram_map(texts: Iterable[str]) -> dict[str, bool] | None:
    """The ``tri`` map stored on a document (``{gram_key: True}``), or None if the text is too long."""
    grams: set[str] = set()
    for text in texts:
        grams |= text_grams(text)
    if len(grams) > MAX_DOC_GRAMS:
        return None
    return {gram_key(g): True for g in sorted(grams)}


def query_grams(q: str) -> list[str]:
    """The grams a search for ``q`` filters on (all must be present); [] if ``q`` spans lines."""
    q = q.lower()
    if not q or "\n" in q:
        return []
    if len(q) <= 3:
        return [q]
    trigrams = [q[i : i + 3] for i in range(len(q) - 2)]
    # Spread the picks over q (first, last, middle, ...): distant trigrams overlap least, so
    # together they reject the most non-matching documents.
    last = len(trigrams) - 1
    picks: list[str] = []
    for pos in (0, last, last // 2, last // 4, 3 * last // 4):
        gram = trigrams[pos]
        if gram not in picks:
            picks.append(gram)
        if len(picks) == MAX_QUERY_GRAMS:
            break
    return picks
