"""Where an asset's href may point, and where ``/download`` may send a client.

- ``https://`` and ``http://`` hrefs are external references: registered as they are (with a host).
- ``file://``, ``gs://`` and ``s3://`` hrefs name storage: registered only inside the asset's own
  catalog storage (the bucket and prefix of its binding), or under an entry of
  ``DYNASTORE_HREF_ALLOWED_PREFIXES`` (a reference the service never reads, serves or deletes).
- Reads check again (``domain.asset.key_in_catalog``/``stored_key``), so records written before
  these rules cannot reach another catalog's files either.
- ``/download`` redirects to https URLs of public hosts, or to a host in
  ``DYNASTORE_DOWNLOAD_ALLOWED_HOSTS``; never to http:// or a private/link-local address otherwise.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import unquote, urlsplit

from dynastore.config import Settings, comma_list
from dynastore.errors import Invalid

WEB_SCHEMES = ("https://", "http://")


class HrefPolicy:
    def __init__(self, settings: Settings) -> None:
        self.allowed_prefixes = comma_list(settings.href_allowed_prefixes)
        self.allowed_hosts = frozenset(h.lower() for h in comma_list(settings.download_allowed_hosts))

    def check(self, href: str, *, own_key: str | None, catalog_id: str, storage_href: str) -> None:
        """``Invalid`` naming the rule unless ``href`` may be registered in ``catalog_id``.

        ``own_key``: the key ``href`` names inside the catalog's own storage (None if it names none);
        ``storage_href``: the href prefix of that storage, for the message."""
        if href.startswith(WEB_SCHEMES):
            if not _host(href):
                raise Invalid(f"href {href!r} has no host: an http(s) href is a full URL such as https://host/path")
            return
        if own_key is not None or self._allow_listed(href):
            return
        raise Invalid(
            f"href {href!r} is outside the storage of catalog {catalog_id!r}: a file://, gs:// or s3:// href must "
            f"point inside the catalog's own storage ({storage_href}...) or start with a prefix listed in "
            "DYNASTORE_HREF_ALLOWED_PREFIXES; to store a file in the catalog, upload it (.../upload)"
        )

    def _allow_listed(self, href: str) -> bool:
        if not any(href.startswith(prefix) for prefix in self.allowed_prefixes):
            return False
        path = unquote(href.split("://", 1)[1])
        return not any(segment in (".", "..") for segment in path.split("/"))

    def may_redirect(self, url: str) -> bool:
        """True when ``/download`` may answer with a redirect to ``url``."""
        host = _host(url)
        if not host:
            return False
        if host in self.allowed_hosts:
            return True
        return url.startswith("https://") and is_public_host(host)


def is_public_host(host: str, *, resolve: bool = False) -> bool:
    """False for ``localhost`` and for private, loopback or link-local addresses; with ``resolve``, a
    host name counts only when every address it resolves to is public (an outbound call the service
    makes itself). Without ``resolve`` a host name is public unless allow-listing says more."""
    if not host or host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        pass
    if not resolve:
        return True
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%", 1)[0]).is_global for a in addresses)


# A URL whose authority is a plain host name (and port): its host, without urlsplit (bulk loads).
_PLAIN_HOST = re.compile(r"https?://([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)(?::[0-9]*)?/")


def _host(url: str) -> str:
    plain = _PLAIN_HOST.match(url)
    if plain:
        return plain.group(1).lower()
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # a malformed IPv6 literal, say
        return ""
