"""Wire the configured backend to the services, once per process (per cold start).

``bootstrap(settings)`` imports ``dynastore.backends.<settings.backend>`` lazily and asks its
``build_adapters(settings)`` for one object per port; tests pass their own adapters instead.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dynastore.config import Settings

if TYPE_CHECKING:
    from dynastore.ports import BlobStore, MetadataStore, Provisioner, TaskQueue


@dataclass
class Adapters:
    """One object per port, as a backend builds them."""

    blobs: BlobStore
    store: MetadataStore
    queue: TaskQueue
    provisioner: Provisioner

    def close(self) -> None:
        for adapter in (self.queue, self.store, self.blobs):
            close = getattr(adapter, "close", None)
            if callable(close):
                close()


def build_adapters(settings: Settings) -> Adapters:
    backend = importlib.import_module(f"dynastore.backends.{settings.backend}")
    adapters: Adapters = backend.build_adapters(settings)
    return adapters
