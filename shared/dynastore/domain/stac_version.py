"""The one STAC version the service writes and renders: the one pystac renders (and whose core
schemas it bundles, which every write is validated against)."""

from __future__ import annotations

import pystac

STAC_VERSION: str = pystac.get_stac_version()
