"""The one STAC version the service writes and renders: the one pystac renders (and whose core
schemas it bundles, which every write is validated against).

Read without importing pystac: its ``__init__`` imports urllib3 and its whole object model (~25 ms
of every process: each ``dynastore load``, each cold start), while writes need only its version and
its bundled schemas (``pystac_folder``). pystac's ``version`` module imports nothing."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def pystac_folder() -> Path:
    """pystac's package folder (its bundled schemas), found without importing pystac."""
    spec = importlib.util.find_spec("pystac")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("pystac is not installed", name="pystac")
    return Path(next(iter(spec.submodule_search_locations)))


def _stac_version() -> str:
    """``pystac.get_stac_version()``: pystac's own when it is imported already, else that of its
    ``version`` module loaded alone (same default, same ``PYSTAC_STAC_VERSION_OVERRIDE``)."""
    loaded = sys.modules.get("pystac")
    if loaded is not None:
        return str(loaded.get_stac_version())
    path = pystac_folder() / "version.py"
    spec = importlib.util.spec_from_file_location("dynastore.domain._pystac_version", path)
    if not path.is_file() or spec is None or spec.loader is None:  # another layout: import it
        import pystac

        return str(pystac.get_stac_version())
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.get_stac_version())


STAC_VERSION: str = _stac_version()
