"""The Fields extension on rendered items (which members an item document keeps) and on the asset
records of asset pages.

``Fields`` is what the API parsed from ``fields=`` (GET) or ``{"include", "exclude"}`` (POST)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dynastore.ports import Doc


@dataclass(frozen=True)
class Fields:
    """The Fields extension: dotted paths to include and exclude."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    # POST ``{"include": [] or null, "exclude": [...]}``: exclude from the default set, not the item
    from_defaults: bool = False

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)

    def wants_assets(self) -> bool:
        """Whether the shaped item keeps its ``assets`` (else they need not be embedded at all)."""
        if "assets" in self.exclude:
            return False
        return not self.include or any(p == "assets" or p.startswith("assets.") for p in self.include)


# What an item keeps whatever ``include`` says (the Fields extension lets a server add these).
_FIELDS_ALWAYS = ("type", "stac_version", "id", "links")
# The Fields extension's default set.
_FIELDS_DEFAULT = (
    "collection",
    "geometry",
    "bbox",
    "assets",
    "properties.datetime",
    "properties.start_datetime",
    "properties.end_datetime",
)


def apply_fields(doc: Doc, fields: Fields) -> Doc:
    """Shape a rendered item per the Fields extension.

    With ``include``: the always-kept members plus the included paths; else the whole item. Then
    ``exclude`` removes paths, except that an included path wins over an exclusion of itself or of
    a parent (``-properties,+properties.eo:cloud_cover`` keeps that one property).
    """
    if not fields:
        return doc
    if fields.include or fields.from_defaults:
        out: Doc = {k: doc[k] for k in _FIELDS_ALWAYS if k in doc}
        for path in fields.include or _FIELDS_DEFAULT:
            _copy_path(doc, out, path.split("."))
    else:
        out = _deep_copy_dicts(doc)
    for path in fields.exclude:
        if path.split(".")[0] in ("id", "type", "links") or path in fields.include:
            continue
        _drop_path(out, path.split("."))
    for path in fields.include:
        if any(path == ex or path.startswith(f"{ex}.") for ex in fields.exclude):
            _copy_path(doc, out, path.split("."))
    return out


# What an asset record of an asset page keeps unless ``fields`` excludes it, and what it keeps whatever
# ``fields`` says: its bytes (``href``), and on a search page its identity too. On one item's page
# ``-id`` drops the ids: the page names its item once and a client that wants only the files (the
# peer's item with 10,000 assets is their href/type/roles/title under a key) need not read 10,000 ids.
_ASSET_FIELDS_KEPT = ("id", "href")
_ASSET_FIELDS_ALWAYS = _ASSET_FIELDS_KEPT
_ITEM_ASSET_FIELDS_ALWAYS = ("href",)


def apply_asset_fields(record: Doc, fields: Fields, *, in_item: bool = False) -> Doc:
    """Shape one asset record of an asset page (``/asset-search``, an item's ``/assets``): with
    ``include`` only ``id``, ``href`` and the included paths; ``exclude`` removes paths except ``href``
    and (but on one item's page, ``in_item``) ``id`` (``fields=-id,-created,-updated`` for the
    leanest item page)."""
    return asset_fields_shaper(fields, in_item=in_item)(record)


def asset_fields_shaper(fields: Fields, *, in_item: bool = False) -> Callable[[Doc], Doc]:
    """``apply_asset_fields`` for every record of a page, its choices made once."""
    if not fields:
        return _same
    always = _ITEM_ASSET_FIELDS_ALWAYS if in_item else _ASSET_FIELDS_ALWAYS
    if not fields.include and not any("." in path for path in fields.exclude):  # the common case: one pass
        drop = frozenset(fields.exclude) - frozenset(always)
        return lambda record: {k: v for k, v in record.items() if k not in drop}
    return lambda record: _shaped_asset(record, fields, always)


def _same(record: Doc) -> Doc:
    return record


def _shaped_asset(record: Doc, fields: Fields, always: tuple[str, ...]) -> Doc:
    if fields.include:
        out: Doc = {k: record[k] for k in _ASSET_FIELDS_KEPT if k in record}
        for path in fields.include:
            _copy_path(record, out, path.split("."))
    else:
        out = _deep_copy_dicts(record)
    for path in fields.exclude:
        if path in always or path in fields.include:
            continue
        _drop_path(out, path.split("."))
    return out


def _deep_copy_dicts(value: Any) -> Any:
    return {k: _deep_copy_dicts(v) for k, v in value.items()} if isinstance(value, dict) else value


def _copy_path(src: Any, dest: Doc, parts: list[str]) -> None:
    if not isinstance(src, dict) or parts[0] not in src:
        return
    if len(parts) == 1:
        dest[parts[0]] = src[parts[0]]
        return
    child = dest.setdefault(parts[0], {})
    if isinstance(child, dict):
        _copy_path(src[parts[0]], child, parts[1:])


def _drop_path(doc: Any, parts: list[str]) -> None:
    if not isinstance(doc, dict):
        return
    if len(parts) == 1:
        doc.pop(parts[0], None)
    elif parts[0] in doc:
        _drop_path(doc[parts[0]], parts[1:])
