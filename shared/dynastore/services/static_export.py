"""Static STAC export (seed 004 §5, DESIGN §7): a catalog as a folder a static STAC browser can open.

Layout of one catalog (``--catalog C``; without it every active catalog goes to ``DIR/<catalog>/``
under a root ``DIR/catalog.json``)::

    catalog.json
    collections/<collection>.json
    items/<collection>/<item>/item.json
    items/<collection>/<item>/track@2025-08-11T1112Z.geojson       (bytes copied from the blob store)
    items/<collection>/<item>/track@latest.geojson -> track@2025-08-11T1112Z.geojson   (relative symlink)

Every link and asset href is relative. ``item.json`` embeds what the API's item embeds (the newest
``STAC_ASSET_HISTORY_MAX`` versions of each name); the folder holds every version's file. The
``@latest`` alias is a symlink (``STAC_USE_SYMLINKS``); where one cannot be made,
``STAC_SYMLINK_FALLBACK=copy`` writes a copy and ``error`` stops the export.

Incremental: ``.dynastore-export.json`` in ``DIR`` records each file written with the identity of
its source (key + ``file:checksum``, else the generation) and its size. A re-run copies only files
whose source changed, rewrites a JSON document only when its text changed, and removes the files
it wrote earlier that are no longer exported (deleted items and assets). Files it did not write
are never touched. Every write is atomic per file.

Where it writes is a target (``static_targets.py``): a local folder (the CLI), or a prefix of a
blob store (the ``export-static`` task writes ``{catalog}/_static/``, where ``@latest`` is always a
copy since object stores have no symlinks, and the manifest is ``_export-manifest.json``).
"""

from __future__ import annotations

import io
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from dynastore.config import Settings
from dynastore.domain.asset import file_name, stored_key
from dynastore.domain.stac_version import STAC_VERSION
from dynastore.errors import Unavailable
from dynastore.ports import BlobStore, Doc, MetadataStore
from dynastore.services.catalogs import CatalogStorage, active_catalogs
from dynastore.services.paging import every_asset
from dynastore.services.reports import RunReport
from dynastore.services.retention import version_series
from dynastore.services.stac import StacService
from dynastore.services.stac.collections import _with_collection_defaults as with_collection_defaults
from dynastore.services.stac.rendering import ASSET_INTERNAL, ITEM_PRIVATE, client_links, client_view, version_of
from dynastore.services.static_targets import ExportTarget, FolderTarget

PAGE = 1000


@dataclass
class ExportReport(RunReport):
    catalogs: int = 0
    collections: int = 0
    items: int = 0
    files_copied: int = 0
    files_unchanged: int = 0
    documents_written: int = 0
    symlinks: int = 0
    alias_copies: int = 0
    removed: int = 0
    errors: list[str] = field(default_factory=list)


def _link(rel: str, href: str, media_type: str = "application/json", **extra: Any) -> Doc:
    return {"rel": rel, "href": href, "type": media_type, **extra}


def _json_bytes(doc: Doc) -> bytes:
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"


class StaticExporter:
    """Writes the static tree (module docstring). One instance per export run."""

    def __init__(self, store: MetadataStore, storage: CatalogStorage, stac: StacService, settings: Settings) -> None:
        self.store, self.storage, self.stac, self.settings = store, storage, stac, settings
        self.report = ExportReport()
        self._old: dict[str, Doc] = {}
        self._new: dict[str, Doc] = {}
        self.target: ExportTarget = FolderTarget(Path())
        self.on_item: Callable[[], None] = lambda: None  # called before each item (a task checks for a dismissal)

    # ------------------------------------------------------------------------------ entry point

    def export(self, target: Path | ExportTarget, catalog_id: str | None = None) -> ExportReport:
        """Write into ``target``: a folder, or any ``ExportTarget`` (a blob-store prefix)."""
        self.target = FolderTarget(target) if isinstance(target, Path) else target
        self._old = self._read_manifest()
        if catalog_id:
            self._catalog(self.store.get_catalog(catalog_id), "", root_href="./catalog.json")
        else:
            catalogs = active_catalogs(self.store)
            for catalog in catalogs:
                self._catalog(catalog, f"{catalog['id']}/", root_href="../catalog.json")
            root = {
                "type": "Catalog",
                "stac_version": STAC_VERSION,
                "id": "dynastore",
                "description": "Every catalog of this Dynastore, exported as static STAC",
                "links": [
                    _link("root", "./catalog.json"),
                    *(_link("child", f"./{c['id']}/catalog.json", title=c.get("title") or c["id"]) for c in catalogs),
                ],
            }
            self._write_doc("catalog.json", root)
        self._remove_stale()
        self.target.write(self.target.manifest, io.BytesIO(_json_bytes({"files": self._new})))
        return self.report

    # ------------------------------------------------------------------------------ documents

    def _catalog(self, catalog: Doc, base: str, *, root_href: str) -> None:
        catalog_id = catalog["id"]
        self.report.catalogs += 1
        blobs = self.storage.for_catalog(catalog)
        collections = list(self._pages(lambda token: self.store.list_collections(catalog_id, limit=PAGE, token=token)))
        links = [_link("root", root_href)]
        if base:
            links.append(_link("parent", "../catalog.json"))
        links += [_link("child", f"./collections/{c['id']}.json", title=c.get("title") or c["id"]) for c in collections]
        doc = {
            "type": "Catalog",
            "stac_version": STAC_VERSION,
            "id": catalog_id,
            "title": catalog.get("title") or catalog_id,
            "description": catalog.get("description") or catalog.get("title") or catalog_id,
            "links": links,
        }
        self._write_doc(f"{base}catalog.json", doc)
        root_from_collection = "../catalog.json" if not base else "../../catalog.json"
        for collection in collections:
            self._collection(catalog_id, collection, base, blobs, root_from_collection)

    def _collection(self, catalog_id: str, collection: Doc, base: str, blobs: BlobStore, root: str) -> None:
        col = collection["id"]
        self.report.collections += 1
        items = list(self._pages(lambda token: self.store.list_items(catalog_id, col, limit=PAGE, token=token)))
        rendered = with_collection_defaults({"type": "Collection", **client_view(collection)}, col)
        rendered["links"] = [
            _link("root", root),
            _link("parent", "../catalog.json"),
            *(_link("item", f"../items/{col}/{i['id']}/item.json", "application/geo+json") for i in items),
            *client_links(collection.get("links")),
        ]
        self._write_doc(f"{base}collections/{col}.json", rendered)
        item_root = "../../../catalog.json" if not base else "../../../../catalog.json"
        for item in items:
            self.on_item()
            try:
                self._item(catalog_id, col, item, f"{base}items/{col}/{item['id']}/", blobs, item_root)
            except Unavailable:
                raise
            except Exception as exc:  # one broken item must not stop the export
                self.report.errors.append(f"{catalog_id}/{col}/{item['id']}: {exc}")

    def _item(self, catalog_id: str, col: str, item: Doc, folder: str, blobs: BlobStore, root: str) -> None:
        item_id = item["id"]
        self.report.items += 1
        docs = list(self._item_assets(catalog_id, col, item_id))
        prefix = f"{self.storage.prefix_of(self.store.get_catalog(catalog_id))}{col}/{item_id}/"
        files: dict[str, str] = {}  # asset id -> file name under the item folder
        for doc in docs:
            key = stored_key(doc, blobs)
            if key is None:
                continue
            name = key[len(prefix) :] if key.startswith(prefix) else posixpath.basename(key)
            if f"{folder}{name}" in self._new:
                self.report.errors.append(f"{folder}{name}: two assets share this file name; kept the first")
                continue
            self._copy_blob(blobs, key, doc, f"{folder}{name}")
            files[doc["id"]] = name
        self._aliases(folder, [d for d in docs if d["id"] in files], files)
        out: Doc = {k: v for k, v in item.items() if k not in ITEM_PRIVATE}
        out["stac_version"] = STAC_VERSION
        out.setdefault("stac_extensions", [])
        assets: Doc = dict(item.get("assets") or {})
        embedded, _ = self.stac.embedded_assets(catalog_id, col, item_id)
        for doc in embedded:  # a version is keyed by its file name (VERSIONS.md), other assets by id
            assets[file_name(doc) if version_of(doc) else doc["id"]] = self._asset(doc, files.get(doc["id"]))
        out["assets"] = assets
        out["links"] = [
            _link("root", root),
            _link("parent", f"../../../collections/{col}.json"),
            _link("collection", f"../../../collections/{col}.json"),
            *client_links(item.get("links")),
        ]
        self._write_doc(f"{folder}item.json", out)

    @staticmethod
    def _asset(doc: Doc, file_name: str | None) -> Doc:
        out = {k: v for k, v in doc.items() if k not in ASSET_INTERNAL and v not in (None, [], {})}
        if file_name is not None:
            out["href"] = f"./{file_name}"
            if str(doc.get("href") or "").startswith("file://"):
                out.pop("alternate", None)  # a path on the exporting machine means nothing elsewhere
        return out

    def _item_assets(self, catalog_id: str, col: str, item_id: str) -> Iterator[Doc]:
        return every_asset(self.store, self.stac._item_scope(catalog_id, col, item_id, limit=PAGE))

    @staticmethod
    def _pages(fetch: Any) -> Iterator[Doc]:
        token: str | None = None
        while True:
            page = fetch(token)
            yield from page.items
            token = page.next_token
            if not token:
                return

    # ------------------------------------------------------------------------------ files

    def _unchanged(self, rel: str, entry: Doc) -> bool:
        old = self._old.get(rel)
        if old is None or {k: old.get(k) for k in entry} != entry:
            return False
        link = self.target.link_target(rel)
        if entry.get("kind") == "symlink":
            return link == entry["target"]
        return link is None and self.target.size(rel) == entry.get("size")

    def _copy_blob(self, blobs: BlobStore, key: str, doc: Doc, rel: str) -> None:
        storage = doc.get("storage") or {}
        identity = doc.get("file:checksum") or storage.get("generation") or blobs.stat(key).generation
        entry = {"kind": "file", "source": f"{blobs.bucket}/{key}#{identity}", "size": doc.get("file:size")}
        if entry["size"] is not None and self._unchanged(rel, entry):
            self._new[rel] = entry
            self.report.files_unchanged += 1
            return
        size = self.target.copy_blob(blobs, key, rel)
        self._new[rel] = {**entry, "size": size}
        self.report.files_copied += 1

    def _aliases(self, folder: str, docs: list[Doc], files: dict[str, str]) -> None:
        for (_, _, name, ext), versions in version_series(docs).items():
            newest = files[versions[0]["id"]]
            alias = posixpath.join(posixpath.dirname(newest), f"{name}@latest{ext}")
            self._alias(f"{folder}{alias}", posixpath.basename(newest), f"{folder}{newest}")

    def _alias(self, rel: str, target: str, target_rel: str) -> None:
        """``rel`` -> ``target`` (a name in the same folder) as a relative symlink, else per the fallback."""
        if self.settings.stac_use_symlinks and self.target.supports_symlinks:
            entry = {"kind": "symlink", "target": target}
            if self._unchanged(rel, entry):
                self._new[rel] = entry
                return
            try:
                self.target.symlink(rel, target)
                self._new[rel] = entry
                self.report.symlinks += 1
                return
            except (OSError, NotImplementedError) as exc:
                if self.settings.stac_symlink_fallback == "error":
                    raise Unavailable(
                        f"cannot create the symlink {rel} -> {target} ({exc}); set STAC_SYMLINK_FALLBACK=copy "
                        "or STAC_USE_SYMLINKS=false to write copies instead"
                    ) from exc
        source = self._new[target_rel]
        entry = {"kind": "copy", "source": source["source"], "size": source["size"]}
        if not self._unchanged(rel, entry):
            self.target.copy(target_rel, rel)
            self.report.alias_copies += 1
        self._new[rel] = entry

    def _write_doc(self, rel: str, doc: Doc) -> None:
        data = _json_bytes(doc)
        self._new[rel] = {"kind": "document"}
        if self.target.read(rel) == data:
            return
        self.target.write(rel, io.BytesIO(data))
        self.report.documents_written += 1

    # ------------------------------------------------------------------------------ incremental

    def _read_manifest(self) -> dict[str, Doc]:
        try:
            files = orjson.loads(self.target.read(self.target.manifest) or b"{}").get("files")
        except (orjson.JSONDecodeError, AttributeError):
            return {}
        return files if isinstance(files, dict) else {}

    def _remove_stale(self) -> None:
        """Delete what an earlier run wrote and this one did not, then the folders that emptied."""
        stale = sorted(self._old.keys() - self._new.keys())
        for rel in stale:
            if self.target.remove(rel):
                self.report.removed += 1
        self.target.prune(stale)
