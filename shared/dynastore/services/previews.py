"""Reading an asset's preview (``GET <asset path>/preview.png``): read-only, the ``thumbnail`` task writes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dynastore.domain.previews import preview_is_stale, preview_key
from dynastore.errors import NotFound

if TYPE_CHECKING:
    from dynastore.domain.storage import BlobInfo
    from dynastore.ports import BlobStore
    from dynastore.services.assets import AssetService, Scope

MAKE_ONE = "an editor makes one with POST <asset path>/tasks/thumbnail/execute?mode=sync-execute"


def preview_of(assets: AssetService, scope: Scope, asset_id: str) -> tuple[dict[str, Any], BlobStore, BlobInfo]:
    """(asset, its catalog's store, the stored preview); ``NotFound`` naming the fix when there is none."""
    doc = assets.get(scope, asset_id)
    location = assets.stored_location(doc)
    if location is None:
        raise NotFound(f"asset {asset_id!r} is not stored in its catalog's storage, so it has no preview")
    if preview_is_stale(doc):
        raise NotFound(f"the preview of asset {asset_id!r} shows older bytes than the asset has now; {MAKE_ONE}")
    blobs, key = location
    try:
        info = blobs.stat(preview_key(key))
    except NotFound:
        raise NotFound(f"asset {asset_id!r} has no preview yet; {MAKE_ONE}") from None
    return doc, blobs, info
