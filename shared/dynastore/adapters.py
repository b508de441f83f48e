"""``Adapters``: what a backend's ``build_adapters(settings)`` returns, one object per port.

A module of its own so backends can build it without importing ``dynastore.bootstrap``: bootstrap
imports a backend (lazily, by name), never the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass

from dynastore.ports import BlobStore, MetadataStore, Provisioner, TaskQueue, missing_members


@dataclass
class Adapters:
    """One object per port, as a backend builds them."""

    blobs: BlobStore
    store: MetadataStore
    queue: TaskQueue
    provisioner: Provisioner

    def check(self) -> None:
        """Verify at start-up that each adapter has every member of its port (``TypeError`` naming
        the missing ones), so no service ever has to probe for a capability."""
        problems = []
        ports: list[tuple[str, object, type, str | None]] = [  # field, adapter, port, base with defaults
            ("blobs", self.blobs, BlobStore, "BlobStoreBase"),
            ("store", self.store, MetadataStore, "MetadataStoreBase"),
            ("queue", self.queue, TaskQueue, "TaskQueueBase"),
            ("provisioner", self.provisioner, Provisioner, None),
        ]
        for name, adapter, port, base in ports:
            missing = missing_members(adapter, port)
            if missing:
                hint = f" (inherit the defaults from dynastore.ports.{base})" if base else ""
                problems.append(
                    f"the {name} adapter {type(adapter).__name__} does not implement {port.__name__}: "
                    f"missing {', '.join(missing)}{hint}"
                )
        if problems:
            raise TypeError("; ".join(problems))

    def close(self) -> None:
        for adapter in (self.queue, self.store, self.blobs):
            adapter.close()
