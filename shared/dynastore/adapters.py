"""``Adapters``: what a backend's ``build_adapters(settings)`` returns, one object per port.

A module of its own so backends can build it without importing ``dynastore.bootstrap``: bootstrap
imports a backend (lazily, by name), never the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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
