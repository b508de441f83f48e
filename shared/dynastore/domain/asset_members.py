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

from collections.abc import Sequence

ID_PREFIX = '{"id":"'

# Texts in a record that may make its asset render otherwise in an item than the record says: time
# fields (the record moves them under ``properties``), a version (its key and place in the item are
# chosen by series), a metadata role (embedded first). A false alarm only costs the item the rendering
# of its documents. The local store checks the same texts in SQL (``sqlite_catalogs._MEMBERS_OF_KEY``).
RECORD_SIGNS = ('"properties":', '"version":', '"thumbnail"', '"overview"', '"metadata"')


def asset_members_json(found: Sequence[tuple[str, str | None, str]]) -> str | None:
    """The members text of ``(asset id, stored record or None, document JSON)`` triples (in id order),
    or None when one of them cannot be cut from its record."""
    members: list[str] = []
    for asset_id, record, doc in found:
        if record is None or "@" in doc or any(sign in record for sign in RECORD_SIGNS):
            return None
        end = len(ID_PREFIX) + len(asset_id)  # record[:end] is '{"id":"<id>' when the id needs no escapes
        if not (record.startswith(ID_PREFIX) and record.startswith(asset_id, len(ID_PREFIX)) and record[end] == '"'):
            return None
        if record[end + 1] == ",":
            members.append(f'"{asset_id}":{{{record[end + 2 :]}')
        elif record[end + 1] == "}":
            members.append(f'"{asset_id}":{{}}')
        else:
            return None
    return ",".join(members)
