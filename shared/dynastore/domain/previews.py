"""Where a raster's preview lives: ``<dir>/.previews/<file name>.png``, next to its source.

The hidden ``.previews`` folder is never indexed (``storage.ignored_reason``): a preview is a derived
file, not an asset. The source asset records it in ``metadata.preview`` (written by the
``thumbnail`` task) with the ``file:checksum`` it was rendered from.
"""

from __future__ import annotations

import posixpath

PREVIEW_FOLDER = ".previews"
PREVIEW_SUFFIX = ".png"
PREVIEW_MEDIA_TYPE = "image/png"


def preview_key(source_key: str) -> str:
    """``demo/s2/scene/B04@2025-08-11T1112Z.tif`` → ``demo/s2/scene/.previews/B04@2025-08-11T1112Z.tif.png``."""
    folder, name = posixpath.split(source_key)
    return posixpath.join(folder, PREVIEW_FOLDER, name + PREVIEW_SUFFIX)


def preview_is_stale(asset: dict) -> bool:
    """True when the recorded preview was rendered from other bytes than the asset has now."""
    record = (asset.get("metadata") or {}).get("preview") or {}
    rendered, current = record.get("source_checksum"), asset.get("file:checksum")
    return bool(rendered and current and rendered != current)
