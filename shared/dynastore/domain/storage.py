"""What storage says about an object, and the rules of object keys and revisions (DESIGN §5).

``BlobInfo`` is what any ``BlobStore`` reports about one object. The key convention places an
object in the hierarchy, ``{catalog}/{collection}/{item}/{path...}``:

- ``demo/readme.pdf`` is a catalog-level asset of catalog ``demo``;
- ``demo/s2/guide.pdf`` a collection-level asset of collection ``s2``;
- ``demo/s2/scene-1/B04.tif`` an asset of item ``scene-1``; deeper paths
  (``demo/s2/scene-1/qa/mask.tif``) still belong to item ``scene-1`` and the asset keeps its key.

``<file>.meta.json`` next to a file is its sidecar: it describes the file and is not an asset.
``compare_generations`` orders two revisions of one object (generation, version id, sequencer).
"""

from __future__ import annotations

import functools
import posixpath
import re
from dataclasses import dataclass, field
from typing import Literal

from dynastore.domain.asset import asset_level
from dynastore.domain.ids import check_id, slug
from dynastore.errors import Invalid

SIDECAR_SUFFIX = ".meta.json"
# Zarr (v2 and v3) metadata documents: dot-files that are nevertheless real content.
ZARR_METADATA_NAMES = frozenset({".zarray", ".zgroup", ".zattrs", ".zmetadata", "zarr.json"})
# Custom object metadata keys the service itself writes (the API's upload tags the blob with its asset id).
ASSET_ID_METADATA_KEYS = ("asset_id", "asset-id", "dynastore-asset-id")

_TEMP_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", ".swx", ".lock", "~")
_TEMP_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", "__MACOSX"})
HEX = re.compile(r"^[0-9a-fA-F]+$")
STATIC_EXPORT_FOLDER = "_static"  # {catalog}/_static/: the export-static task's tree, never indexed


@dataclass(frozen=True)
class BlobInfo:
    """What storage knows about one object."""

    bucket: str
    key: str
    size: int
    generation: str
    etag: str | None = None
    md5: str | None = None  # hex
    crc32c: str | None = None  # hex, big-endian
    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    updated: str | None = None
    storage_class: str | None = None  # the backend's name (STANDARD, ARCHIVE, GLACIER_IR), None where unknown


# ------------------------------------------------------------------------------------ revisions


def compare_generations(
    a: str | None, b: str | None, *, seq_a: str | None = None, seq_b: str | None = None
) -> int | None:
    """-1/0/1 when two object versions can be ordered, None when they cannot.

    Numeric generations (Cloud Storage, the local folder) compare as integers; S3 sequencers as
    hex strings padded to the same length. Equal opaque tokens (etags, version ids) are equal.
    """
    if seq_a and seq_b and HEX.match(seq_a) and HEX.match(seq_b):
        width = max(len(seq_a), len(seq_b))
        x, y = seq_a.rjust(width, "0").lower(), seq_b.rjust(width, "0").lower()
        return (x > y) - (x < y)
    if a is None or b is None:
        return None
    if a.isdigit() and b.isdigit():
        ia, ib = int(a), int(b)
        return (ia > ib) - (ia < ib)
    return 0 if a == b else None


# ------------------------------------------------------------------------------------ key convention


@dataclass(frozen=True)
class KeyScope:
    """Where an object key places its asset."""

    key: str
    catalog_id: str
    collection_id: str | None
    item_id: str | None
    path: str  # below the scope's folder: "B04.tif", "qa/mask.tif"

    @property
    def relative(self) -> str:
        """The key below the catalog's prefix (``s2/scene-1/B04.tif``)."""
        return self.key.split("/", 1)[1]

    @property
    def level(self) -> Literal["catalog", "collection", "item"]:
        return asset_level(self.collection_id, self.item_id)

    @property
    def file_name(self) -> str:
        return posixpath.basename(self.key)

    @functools.cached_property
    def asset_id(self) -> str:
        return asset_id_for_key(self.key)


def parse_key(key: str) -> KeyScope:
    """Place an object key in the hierarchy; ``Invalid`` says why a key cannot hold an asset.

    The catalog folder must already be a valid id (it is the catalog's storage prefix);
    collection and item folders are turned into ids with ``slug`` (identity for valid ids).
    """
    if not key or key.startswith("/") or key.endswith("/"):
        raise Invalid(f"object key {key!r} does not name a file")
    parts = key.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise Invalid(f"object key {key!r} has an empty, '.' or '..' segment")
    if len(parts) < 2:
        raise Invalid(f"object {key!r} is at the bucket root; put files under a catalog folder: {{catalog}}/{key}")
    catalog_id = check_id(parts[0], "catalog folder")
    if len(parts) == 2:
        return KeyScope(key, catalog_id, None, None, parts[1])
    collection_id = slug(parts[1])
    if len(parts) == 3:
        return KeyScope(key, catalog_id, collection_id, None, parts[2])
    return KeyScope(key, catalog_id, collection_id, slug(parts[2]), "/".join(parts[3:]))


def catalog_of_key(key: str) -> str | None:
    """The catalog folder a key names (unchecked), or None for a key at the bucket root."""
    return key.split("/", 1)[0] if "/" in key else None


def asset_id_for_key(key: str) -> str:
    """The deterministic, URL-safe asset id of an object: ``slug`` of the key below its catalog.

    The API's upload derives the same id for the same key, so an uploaded file and its storage
    event meet on one record.
    """
    relative = key.split("/", 1)[1] if "/" in key else key
    return slug(relative)


def is_sidecar(key: str) -> bool:
    name = posixpath.basename(key)
    return name.endswith(SIDECAR_SUFFIX) and len(name) > len(SIDECAR_SUFFIX)


def sidecar_key(key: str) -> str:
    return key + SIDECAR_SUFFIX


def sidecar_target(key: str) -> str:
    """The file a sidecar describes (``a/b.tif.meta.json`` → ``a/b.tif``)."""
    return key[: -len(SIDECAR_SUFFIX)]


def ignored_reason(key: str) -> str | None:
    """Why a key is not indexed at all (temporary file, hidden folder, OS litter), or None."""
    parts = key.split("/")
    if len(parts) > 2 and parts[1] == STATIC_EXPORT_FOLDER:
        return f"inside the static export folder {parts[0]}/{STATIC_EXPORT_FOLDER}/ (written by export-static)"
    for folder in parts[:-1]:
        if folder.startswith(".") or folder in _TEMP_NAMES:
            return f"inside hidden or system folder {folder!r}"
    name = parts[-1]
    if name in ZARR_METADATA_NAMES:
        return None
    if name in _TEMP_NAMES:
        return f"{name!r} is operating-system litter"
    if name.startswith((".", "~$", ".~")):
        return f"{name!r} is a hidden or temporary file"
    if name.lower().endswith(_TEMP_SUFFIXES):
        return f"{name!r} is a temporary file"
    return None
