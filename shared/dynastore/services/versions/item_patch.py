"""An item PATCH ``assets`` that names published versions by the item's own keys (VERSIONS.md): the
file name (``track@2025-08-11T1112Z.geojson``, the key the item document shows) or ``<name>@latest``.

Decision (seed 004 §9: published versions are immutable and a publish never deletes one): an editor
may still describe a version (title, description, roles, ...) and soft-delete its record with
``null`` (restorable through the asset API's ``/restore``); its file is never deleted and its bytes
never re-pointed (``href``, ``file:*`` are refused). After such a PATCH the item's versions are
re-ranked: the newest active version is ``latest`` again.
"""

from __future__ import annotations

from typing import Any

from dynastore.errors import Invalid
from dynastore.ports import Doc
from dynastore.services.versions.index import VersionIndex

IMMUTABLE = ("href", "file:size", "file:checksum")


def version_keys(
    index: VersionIndex, catalog_id: str, collection_id: str, item_id: str, patch: Doc
) -> tuple[Doc, bool]:
    """``patch`` with each key naming a version replaced by that version's asset id, and whether any
    key did (then the caller refreshes the item's versions after writing)."""
    out: Doc = {}
    touched = False
    for key, value in patch.items():
        asset_id = index.resolve(catalog_id, collection_id, item_id, key) if "@" in key else key
        if asset_id != key:
            touched = True
            _check_mutable(index, catalog_id, asset_id, key, value)
        if asset_id in out:
            raise Invalid(f"assets.{key} names the same asset as another key of the PATCH: name each asset once")
        out[asset_id] = value
    return out, touched


def _check_mutable(index: VersionIndex, catalog_id: str, asset_id: str, key: str, value: Any) -> None:
    if not isinstance(value, dict):
        return
    current = index.store.get_asset(catalog_id, asset_id)
    changed = [name for name in IMMUTABLE if name in value and value[name] != current.get(name)]
    if changed:
        raise Invalid(
            f"assets.{key}: {', '.join(changed)} of a published version is immutable; publish a new version "
            "(POST .../publish) instead"
        )
