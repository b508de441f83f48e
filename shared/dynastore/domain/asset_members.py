"""An item's embedded assets as one JSON text, cut from the stored page records of its assets
(``domain.asset_record.stored_record_json``): the members ``"<asset id>":<STAC Asset Object>`` of the
item's ``assets`` object, joined by ``,`` in id order, so an item page splices one text per item
instead of parsing and rendering every asset document.

A record is ``{"id":"<id>",<the Asset Object's members as the item embeds it>}``. An asset whose record
cannot be cut like that (no record: a local file; an id that needs JSON escapes), whose file name
may carry a version (``@``: the version may choose its key and place) or whose record holds one of
``RECORD_SIGNS`` makes the whole item None: the caller renders its documents. The local store computes the same in SQL
(``SqliteCatalogs.item_asset_members``, ``@`` looked up in the asset's search text, which holds its
file name)."""

from __future__ import annotations

import re
from collections.abc import Sequence

ID_PREFIX = '{"id":"'

# Texts in a record that may make its asset render otherwise in an item than the record says: time
# fields (the record moves them under ``properties``), a version (its key and place in the item are
# chosen by series), a metadata role (embedded first). A false alarm only costs the item the rendering
# of its documents. The local store checks the same texts in SQL (``sqlite_catalogs._MEMBERS_OF_KEY``).
RECORD_SIGNS = ('"properties":', '"version":', '"thumbnail"', '"overview"', '"metadata"')
_SIGNS = re.compile("|".join(map(re.escape, RECORD_SIGNS)))  # one scan of a record for any of them


def cut_member(asset_id: str, record: str | None, named: str) -> tuple[bool, str]:
    """Can the asset be cut from its record (``named``: a text holding its file name, for ``@``), and
    its member text. The text of one that cannot be cut is what the local store's SQL makes of it
    (``'"<id>":{'`` and the record after the id's comma, else ``'}'``): kept, never read."""
    if record is None:
        return False, f'"{asset_id}":{{}}'
    end = len(ID_PREFIX) + len(asset_id)  # record[:end] is '{"id":"<id>' when the id needs no escapes
    mark = record[end + 1 : end + 2]
    member = f'"{asset_id}":{{{record[end + 2 :]}' if mark == "," else f'"{asset_id}":{{}}'
    ok = (
        record.startswith(ID_PREFIX)
        and record.startswith(asset_id, len(ID_PREFIX))
        and record[end : end + 1] == '"'
        and (mark == "," or mark == "}")
        and "@" not in named
        and _SIGNS.search(record) is None
    )
    return ok, member


def asset_members_json(found: Sequence[tuple[str, str | None, str]]) -> str | None:
    """The members text of ``(asset id, stored record or None, document JSON)`` triples (in id order),
    or None when one of them cannot be cut from its record."""
    members: list[str] = []
    for asset_id, record, doc in found:
        ok, member = cut_member(asset_id, record, doc)
        if not ok:
            return None
        members.append(member)
    return ",".join(members)


def stored_members(found: Sequence[tuple[str, str | None, str]]) -> str:
    """What the local store keeps of an item's first assets (``item_members``, the triples as in
    ``asset_members_json`` with the search text for the document): ``"<count> <how many cannot be
    cut> <members>"``, ``''`` for none."""
    if not found:
        return ""
    members: list[str] = []
    uncut = 0
    for asset_id, record, named in found:
        ok, member = cut_member(asset_id, record, named)
        members.append(member)
        if not ok:
            uncut += 1
    return f"{len(members)} {uncut} {','.join(members)}"
