"""Wire the configured backend to the services, once per process (per cold start).

``bootstrap(settings)`` imports ``dynastore.backends.<settings.backend>`` lazily and asks its
``build_adapters(settings)`` for one object per port (an ``Adapters``, re-exported here); tests
pass their own adapters instead. Backends never import this module.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from dynastore.adapters import Adapters
from dynastore.config import Settings

if TYPE_CHECKING:
    from dynastore.services.aios import AiosService
    from dynastore.services.assets import AssetService
    from dynastore.services.auth import Authenticator
    from dynastore.services.catalogs import CatalogService
    from dynastore.services.indexing import IndexingService
    from dynastore.services.jobs import TaskService
    from dynastore.services.lifecycle import LifecycleService
    from dynastore.services.registry import RegistryService
    from dynastore.services.search import SearchService
    from dynastore.services.stac import StacService
    from dynastore.services.stac_events import StacEventService
    from dynastore.services.versions.index import VersionIndex
    from dynastore.services.versions.publish import PublishService


def build_adapters(settings: Settings) -> Adapters:
    backend = importlib.import_module(f"dynastore.backends.{settings.backend}")
    adapters: Adapters = backend.build_adapters(settings)
    return adapters


# Something that runs beside the API in a long-lived process (``dynastore dev``): the local folder
# watcher (INDEXING), the local task worker (TASKS). ``start`` must return quickly; ``stop`` joins.
class BackgroundWorker(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class Services:
    """Every service of one process, built once by ``bootstrap``.

    A new service is a field here, constructed in ``bootstrap`` below. ``background`` holds workers
    a long-lived host (``dynastore dev``) starts and stops; serverless hosts never start them.
    """

    settings: Settings
    adapters: Adapters
    catalogs: CatalogService
    assets: AssetService
    search: SearchService
    auth: Authenticator
    indexing: IndexingService
    lifecycle: LifecycleService
    tasks: TaskService
    stac: StacService
    aios: AiosService
    registry: RegistryService
    versions: VersionIndex
    publish: PublishService
    stac_events: StacEventService
    background: list[BackgroundWorker] = field(default_factory=list)
    _started: bool = field(default=False, repr=False)

    def start_background(self) -> None:
        if self._started:
            return
        self._started = True
        for worker in self.background:
            worker.start()

    def close(self) -> None:
        """Stop background workers (in reverse start order), then close the adapters."""
        if self._started:
            for worker in reversed(self.background):
                worker.stop()
            self._started = False
        self.adapters.close()


def bootstrap(settings: Settings | None = None, adapters: Adapters | None = None) -> Services:
    """Build the services on the configured backend (or on ``adapters`` given by a test).

    ``TypeError`` naming the missing members if an adapter does not implement its port."""
    from dynastore.services.aios import AiosService
    from dynastore.services.assets import AssetService
    from dynastore.services.auth import Authenticator
    from dynastore.services.catalogs import CatalogService
    from dynastore.services.indexing import IndexingService
    from dynastore.services.jobs import TaskService
    from dynastore.services.lifecycle import LifecycleService
    from dynastore.services.registry import RegistryService
    from dynastore.services.search import SearchService
    from dynastore.services.stac import StacService
    from dynastore.services.stac_events import StacEventService
    from dynastore.services.versions.publish import PublishService
    from dynastore.tasks.lazy_registry import LazyTaskRegistry

    settings = settings or Settings()
    adapters = adapters or build_adapters(settings)
    adapters.check()
    catalogs = CatalogService(adapters.store, adapters.provisioner, adapters.blobs)
    assets = AssetService(adapters.store, adapters.blobs, catalogs, settings)
    search = SearchService(adapters.store, catalogs, settings)
    auth = Authenticator.from_settings(settings)
    indexing = IndexingService(adapters.store, adapters.blobs, adapters.provisioner, settings, catalogs=catalogs)
    lifecycle = LifecycleService(adapters.store, adapters.blobs, adapters.provisioner, settings, indexing=indexing)
    stac = StacService(settings, adapters.store, catalogs)
    # The task registry (every task module, numpy, plugins) is built when a task is first needed.
    tasks = TaskService(settings, adapters, assets=assets, catalogs=catalogs, stac=stac, registry=LazyTaskRegistry())
    services = Services(
        settings=settings,
        adapters=adapters,
        catalogs=catalogs,
        assets=assets,
        search=search,
        auth=auth,
        indexing=indexing,
        lifecycle=lifecycle,
        tasks=tasks,
        stac=stac,
        aios=AiosService(settings, catalogs, assets, search),
        registry=RegistryService(settings, adapters.store, catalogs),
        versions=indexing.versions,
        publish=PublishService(adapters.store, catalogs, indexing, indexing.versions, settings),
        stac_events=StacEventService(adapters.store, stac, assets),
    )
    bucket_root = adapters.blobs.root
    if settings.backend == "local" and settings.watch_bucket and bucket_root is not None:
        from dynastore.backends.local.watcher import FolderWatcher

        # `dynastore dev` starts it: watch <data_dir>/bucket, reconcile once at start.
        watcher = FolderWatcher(services.indexing, bucket_root, reconciler=services.lifecycle.reconciler)
        services.background.append(watcher)
    task_worker = services.tasks.worker()  # the local backend's in-process queue consumer (None elsewhere)
    if task_worker is not None:
        services.background.append(task_worker)
    return services
