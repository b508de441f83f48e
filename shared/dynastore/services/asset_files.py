"""Asset bytes: multipart uploads (spooled, hashed, create-only), direct-upload targets (signed URLs in
the cloud) and downloads (streamed, or a redirect that ``services.hrefs`` allows)."""

from __future__ import annotations

import hashlib
import re
import tempfile
from typing import IO, Any, BinaryIO

from dynastore.domain.audit import audit_doc
from dynastore.domain.events import asset_id_for_key
from dynastore.errors import Conflict, Invalid, NotFound, PayloadTooLarge
from dynastore.ports import Doc
from dynastore.services import alternates, mediatypes
from dynastore.services.asset_base import AssetServiceBase, Scope, opt_id, parse_fields

SHA2_256_MULTIHASH_PREFIX = "1220"
HEAD_BYTES = 8192
_BAD_FILE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


def sha256_multihash(hex_digest: str) -> str:
    return SHA2_256_MULTIHASH_PREFIX + hex_digest


def check_file_name(name: Any) -> str:
    """A plain file name: no folders, no ``..``, no control characters; else ``Invalid``."""
    if name is not None and not isinstance(name, str):
        raise Invalid('filename must be a string such as "B04.tif"')
    if not name or not name.strip():
        raise Invalid("the upload needs a file name (multipart part `file` with a filename)")
    if _BAD_FILE_NAME.search(name) or name in (".", "..") or name.startswith("..") or name.startswith("."):
        raise Invalid(f"file name {name!r} is not allowed: use a plain name without folders, `..` or a leading dot")
    if len(name.encode()) > 255:
        raise Invalid("file name is longer than 255 bytes")
    return name


class UploadBuffer:
    """Spools upload bytes to a temporary file while counting and hashing them.

    Raises ``PayloadTooLarge`` as soon as the limit is passed, so nothing larger is ever buffered.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.head = b""  # the first bytes, for media type sniffing
        self._sha256 = hashlib.sha256()
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise PayloadTooLarge(f"the upload exceeds DYNASTORE_MAX_UPLOAD_BYTES ({self.max_bytes} bytes)")
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        self._sha256.update(chunk)
        self.file.write(chunk)

    @property
    def checksum(self) -> str:
        return sha256_multihash(self._sha256.hexdigest())

    def rewind(self) -> BinaryIO:
        self.file.seek(0)
        return self.file  # type: ignore[return-value]

    def close(self) -> None:
        self.file.close()


class AssetFiles(AssetServiceBase):
    def upload(
        self,
        scope: Scope,
        *,
        filename: str | None,
        data: UploadBuffer,
        content_type: str | None,
        metadata: Any,
        actor: str,
    ) -> Doc:
        """Store spooled bytes at ``{prefix}{collection}/{item}/{filename}`` (create-only) and record the asset."""
        name = check_file_name(filename)
        catalog = self.check_scope(scope)
        fields = parse_fields(metadata if metadata is not None else {})
        if fields.href:
            raise Invalid("an upload sets `href` itself; leave it out of the metadata")
        blobs = self.storage.for_catalog(catalog)
        relative = scope.relative_dir() + name
        key = self.storage.prefix_of(catalog) + relative
        # The id indexing derives from the same key, so the upload's storage event meets this record.
        asset_id = fields.id or asset_id_for_key(f"{scope.catalog_id}/{relative}")
        try:
            self.store.get_asset(scope.catalog_id, asset_id)
        except NotFound:
            pass
        else:
            raise Conflict(
                f"asset {asset_id!r} exists already in catalog {scope.catalog_id!r}; give the upload another "
                "`id` in its metadata, or delete that asset first"
            )
        try:
            blobs.stat(key)
        except NotFound:
            pass
        else:
            raise Conflict(f"a file exists already at {key!r}; upload under another file name")
        media_type = fields.type or mediatypes.detect(name, data.head, content_type)
        info = blobs.put(
            key,
            data.rewind(),
            content_type=media_type,
            metadata={"asset_id": asset_id},
            if_generation_match=0,
        )
        updates: dict[str, Any] = {
            "id": asset_id,
            "href": blobs.href(key),
            "type": media_type,
            "file_size": data.size,
            "file_checksum": data.checksum,
        }
        if not fields.roles:
            updates["roles"] = mediatypes.default_roles(name, media_type)
        audit = audit_doc(scope.catalog_id, "asset", asset_id, "create", actor, upload=True, key=key, size=data.size)
        try:
            doc = self.records.new(scope, fields.model_copy(update=updates), info, blobs=blobs)
            written = self._write_one(doc, 0, audit)
        except Exception:
            # The record did not land: leave no orphan blob behind.
            blobs.delete(key, missing_ok=True)
            raise
        if self._rerank_versions(written):
            written = self.store.get_asset(scope.catalog_id, asset_id)
        return written

    def upload_target(self, catalog_id: str, body: Any, *, content_type: str | None = None) -> Doc:
        """Where a client sends bytes directly: a signed PUT URL in the cloud, else the multipart endpoint."""
        if not isinstance(body, dict):
            raise Invalid('the body is a JSON object such as {"collection_id": "s2", "filename": "B04.tif"}')
        scope = Scope(
            catalog_id, opt_id(body.get("collection_id"), "collection_id"), opt_id(body.get("item_id"), "item_id")
        )
        if scope.item_id and not scope.collection_id:
            raise Invalid("item_id needs collection_id")
        name = check_file_name(body.get("filename"))
        catalog = self.check_scope(scope)
        blobs = self.storage.for_catalog(catalog)
        key = self.storage.prefix_of(catalog) + scope.relative_dir() + name
        declared = body.get("type") or content_type
        if declared is not None and not isinstance(declared, str):
            raise Invalid("type must be a media type string")
        media_type = declared or mediatypes.from_name(name)
        ttl = self.settings.signed_url_ttl_seconds
        url = blobs.signed_url(key, method="PUT", expires_seconds=ttl, content_type=media_type)
        target: Doc = {"key": key, "href": blobs.href(key), "type": media_type}
        if url is not None:
            target.update(
                {
                    "method": "PUT",
                    "url": url,
                    "signed": True,
                    "expires_in": ttl,
                    "headers": {"Content-Type": media_type} if media_type else {},
                }
            )
        else:
            target.update({"method": "POST", "signed": False, "multipart": {"file": name, "metadata": "JSON object"}})
        target["scope"] = {"catalog_id": catalog_id, "collection_id": scope.collection_id, "item_id": scope.item_id}
        return target

    def download_target(self, scope: Scope, asset_id: str) -> tuple[Doc, str | None, str | None]:
        """(asset, key in its catalog's bucket or None, redirect URL or None) for a download.

        Without a URL the caller streams ``key`` from ``blobs_of(asset)``."""
        catalog, doc = self._get_active(scope, asset_id)
        if alternates.mirrors(doc):  # fall back across mirrors when the primary's object is missing
            source, blobs, key = alternates.download_source(
                doc,
                lambda href: self.stored_location(alternates.with_href(doc, href), catalog),
                self.hrefs.may_redirect,
            )
            if blobs is None or key is None:
                return doc, None, source
            url = blobs.signed_url(key, method="GET", expires_seconds=self.settings.signed_url_ttl_seconds)
            return doc, key, url
        location = self.stored_location(doc, catalog)
        if location is None:
            href = doc.get("href") or ""
            if href.startswith(("http://", "https://")):
                if self.hrefs.may_redirect(href):
                    return doc, None, href
                raise NotFound(
                    f"asset {asset_id!r} points at {href!r}, which /download does not redirect to: only https URLs "
                    "of public hosts and hosts in DYNASTORE_DOWNLOAD_ALLOWED_HOSTS; read the href from the asset"
                )
            raise NotFound(f"asset {asset_id!r} points at {href!r}, which this service cannot serve")
        blobs, key = location
        url = blobs.signed_url(key, method="GET", expires_seconds=self.settings.signed_url_ttl_seconds)
        return doc, key, url
