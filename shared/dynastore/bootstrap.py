"""Wire the configured backend to the services, once per process (per cold start).

``bootstrap(settings)`` imports ``dynastore.backends.<settings.backend>`` lazily and asks its
``build_adapters(settings)`` for one object per port (an ``Adapters``, re-exported here); tests
pass their own adapters instead. Backends never import this module.

Each service is imported and built on its first use (``Services``): a command or a cold start
pays only for what it uses (``dynastore load`` builds the catalogs and the STAC service, not the
task, indexing or registry services and their models).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, overload

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


T = TypeVar("T")


class _Lazy(Generic[T]):
    """A ``Services`` member built by ``build`` on first access, then kept on the instance (the
    descriptor is not consulted again). Built under the instance's re-entrant lock, so concurrent
    first uses (the API's threads) share one service, and a service may build those it needs."""

    def __init__(self, build: Callable[[Services], T]) -> None:
        self.build = build
        self.name = build.__name__
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _Lazy[T]: ...

    @overload
    def __get__(self, instance: Services, owner: type | None = None) -> T: ...

    def __get__(self, instance: Services | None, owner: type | None = None) -> T | _Lazy[T]:
        if instance is None:
            return self
        with instance._lock:
            if self.name not in instance.__dict__:
                instance.__dict__[self.name] = self.build(instance)
            value: T = instance.__dict__[self.name]
            return value


class Services:
    """Every service of one process, built once by ``bootstrap``: the settings and adapters at
    once, each service on its first use (``_Lazy``), with the ones it needs.

    A new service is a ``@_Lazy`` method here that imports and builds it. ``background`` holds
    workers a long-lived host (``dynastore dev``) starts and stops; serverless hosts never start them.
    """

    def __init__(self, settings: Settings, adapters: Adapters) -> None:
        self.settings = settings
        self.adapters = adapters
        self._started = False
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"Services(backend={self.settings.backend!r})"

    @_Lazy
    def catalogs(self) -> CatalogService:
        from dynastore.services.catalogs import CatalogService

        return CatalogService(self.adapters.store, self.adapters.provisioner, self.adapters.blobs)

    @_Lazy
    def assets(self) -> AssetService:
        from dynastore.services.assets import AssetService

        return AssetService(self.adapters.store, self.adapters.blobs, self.catalogs, self.settings)

    @_Lazy
    def search(self) -> SearchService:
        from dynastore.services.search import SearchService

        return SearchService(self.adapters.store, self.catalogs, self.settings)

    @_Lazy
    def auth(self) -> Authenticator:
        from dynastore.services.auth import Authenticator

        return Authenticator.from_settings(self.settings)

    @_Lazy
    def indexing(self) -> IndexingService:
        from dynastore.services.indexing import IndexingService

        a = self.adapters
        return IndexingService(a.store, a.blobs, a.provisioner, self.settings, catalogs=self.catalogs)

    @_Lazy
    def lifecycle(self) -> LifecycleService:
        from dynastore.services.lifecycle import LifecycleService

        a = self.adapters
        return LifecycleService(a.store, a.blobs, a.provisioner, self.settings, indexing=self.indexing)

    @_Lazy
    def stac(self) -> StacService:
        from dynastore.services.stac import StacService

        return StacService(self.settings, self.adapters.store, self.catalogs)

    @_Lazy
    def tasks(self) -> TaskService:
        from dynastore.services.jobs import TaskService
        from dynastore.tasks.lazy_registry import LazyTaskRegistry

        # The task registry (every task module, numpy, plugins) is built when a task is first needed.
        return TaskService(self.settings, self.adapters, assets=self.assets, catalogs=self.catalogs, stac=self.stac,
                           registry=LazyTaskRegistry())

    @_Lazy
    def aios(self) -> AiosService:
        from dynastore.services.aios import AiosService

        return AiosService(self.settings, self.catalogs, self.assets, self.search)

    @_Lazy
    def registry(self) -> RegistryService:
        from dynastore.services.registry import RegistryService

        return RegistryService(self.settings, self.adapters.store, self.catalogs)

    @_Lazy
    def versions(self) -> VersionIndex:
        return self.indexing.versions

    @_Lazy
    def publish(self) -> PublishService:
        from dynastore.services.versions.publish import PublishService

        return PublishService(self.adapters.store, self.catalogs, self.indexing, self.versions, self.settings)

    @_Lazy
    def stac_events(self) -> StacEventService:
        from dynastore.services.stac_events import StacEventService

        return StacEventService(self.adapters.store, self.stac, self.assets)

    @_Lazy
    def background(self) -> list[BackgroundWorker]:
        """The local folder watcher (local backend with ``watch_bucket``), then the in-process task
        worker (local backend); a host may append its own before ``start_background``."""
        workers: list[BackgroundWorker] = []
        bucket_root = self.adapters.blobs.root
        if self.settings.backend == "local" and self.settings.watch_bucket and bucket_root is not None:
            from dynastore.backends.local.watcher import FolderWatcher

            # `dynastore dev` starts it: watch <data_dir>/bucket, reconcile once at start.
            workers.append(FolderWatcher(self.indexing, bucket_root, reconciler=self.lifecycle.reconciler))
        task_worker = self.tasks.worker()  # the local backend's in-process queue consumer (None elsewhere)
        if task_worker is not None:
            workers.append(task_worker)
        return workers

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
    """The services on the configured backend (or on ``adapters`` given by a test), each built on
    its first use.

    ``TypeError`` naming the missing members if an adapter does not implement its port."""
    settings = settings or Settings()
    adapters = adapters or build_adapters(settings)
    adapters.check()
    return Services(settings, adapters)
