"""An item's embedded assets as one JSON text, cut from the stored page records of its assets
(``domain.asset_record.stored_record_json``): the members ``"<asset id>":<STAC Asset Object>`` of the
item's ``assets`` object, joined by ``,`` in id order, so an item page splices one text per item
instead of parsing and rendering every asset document.

A record is ``{"id":"<id>",<the Asset Object's members>}`` except that it leaves ``updated`` out when
it equals ``created``; the Asset Object states both (``render_asset``), right after each other as
the stored document has them, so ``"updated"`` goes back in after ``"created"``. An asset whose
record cannot be cut like that (no record, an id that needs JSON escapes, ``@`` in its document: a
versioned file name may choose its key, ``created`` not once in its record or not just before
``updated`` in its document) makes the whole item None: the caller renders its documents. The
local store computes the same in SQL (``SqliteCatalogs.item_asset_members``)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

ID_PREFIX = '{"id":"'
UPDATED = '"updated":'
CREATED = '"created":'


def asset_members_json(found: Sequence[tuple[str, str | None, str]]) -> str | None:
    """The members text of ``(asset id, stored record or None, document JSON)`` triples (in id order),
    or None when one of them cannot be cut from its record."""
    members: list[str] = []
    for asset_id, record, doc in found:
        member = _member(asset_id, record, doc)
        if member is None:
            return None
        members.append(member)
    return ",".join(members)


def _member(asset_id: str, record: str | None, doc: str) -> str | None:
    if record is None or "@" in doc:
        return None
    end = len(ID_PREFIX) + len(asset_id)  # record[:end] is '{"id":"<id>' when the id needs no escapes
    if not (record.startswith(ID_PREFIX) and record.startswith(asset_id, len(ID_PREFIX)) and record[end] == '"'):
        return None
    if record[end + 1] == ",":
        rest = record[end + 2 :]
    elif record[end + 1] == "}":
        rest = "}"
    else:
        return None
    if UPDATED not in record:
        parsed = orjson.loads(doc)
        created, updated = parsed.get("created"), parsed.get("updated")
        if updated and updated == created:
            stamp = CREATED + orjson.dumps(created).decode()
            if record.count(stamp) != 1 or f"{stamp},{UPDATED}" not in doc:
                return None
            rest = rest.replace(stamp, f"{stamp},{UPDATED}{orjson.dumps(updated).decode()}")
    return f'"{asset_id}":{{{rest}'
