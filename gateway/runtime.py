"""One gateway's working parts in one object: the ``gw`` every core function takes.

Settings, the actor written into audit rows, a store connection, the archive, health, the document kinds, and
the sources and sinks, built on first use by the adapter factory the composition root hands in
(``gateway.app.Gateway`` passes ``adapters.registry``; the core never imports ``adapters``). A store connection
belongs to one thread: ``fork`` gives another thread (the delivery loop) the same settings and the same sinks
with a connection, archive and health monitor of its own.
"""

from __future__ import annotations

from typing import Protocol

from gateway.archive import Archive
from gateway.config import NotifyConfig, Settings, SinkConfig, SourceConfig
from gateway.errors import ResourceError, os_reason
from gateway.health import HealthMonitor
from gateway.kinds import KindRegistry
from gateway.ports import Mailer, Sink, Source
from gateway.store import Store, open_originals, open_store
from gateway.workers import Pool


class Adapters(Protocol):
    """What builds sources and sinks from their checked configuration (``adapters.registry``)."""

    def build_source(self, config: SourceConfig) -> Source: ...

    def build_sink(self, config: SinkConfig) -> Sink: ...

    def build_mailer(self, config: NotifyConfig) -> Mailer: ...


class Runtime:
    def __init__(self, settings: Settings, actor: str, adapters: Adapters,
                 sinks: dict[str, Sink] | None = None) -> None:
        self.settings = settings
        self.actor = actor
        try:
            settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # store, archive, staging: the owner's
        except OSError as exc:
            raise ResourceError(f"gateway.data_dir {settings.data_dir}", os_reason(exc)) from None
        self.store: Store = open_store(settings.store_url)
        self.store.node = settings.node  # each audit row names the node that made the transition
        self.archive = Archive(settings.archive_dir,
                               open_originals(settings.store_url) if settings.originals_in_store else None)
        self.health = HealthMonitor(self.store)
        self.kinds = KindRegistry(settings.certificate_dirs, settings.sat_schema_dir, settings.sat_data_files,
                                  mapping_dirs=settings.erp_mapping_dirs, store=self.store, settings=settings)
        self._adapters = adapters
        self._sources: list[Source] | None = None
        self._sinks: dict[str, Sink] | None = sinks
        self._owns_sinks = sinks is None
        self._mailer: Mailer | None = None
        self._pool: Pool | None = None

    @property
    def sources(self) -> list[Source]:
        if self._sources is None:
            self._sources = [self._adapters.build_source(c) for c in self.settings.sources]
        return self._sources

    @property
    def sinks(self) -> dict[str, Sink]:
        if self._sinks is None:
            self._sinks = {c.name: self._adapters.build_sink(c) for c in self.settings.sinks}
        return self._sinks

    @property
    def mailer(self) -> Mailer | None:
        """The ``[notify]`` mailer, or None when operations staff are not mailed."""
        if self._mailer is None and self.settings.notify is not None:
            self._mailer = self._adapters.build_mailer(self.settings.notify)
        return self._mailer

    def workers(self) -> Pool | None:
        """The worker processes that check documents in parallel (``[gateway] workers``), started on first use;
        None with one worker."""
        if self.settings.workers <= 1:
            return None
        if self._pool is None:
            from gateway import pipeline_worker

            self._pool = Pool(self.settings.workers, pipeline_worker.setup, (self.settings,))
        return self._pool

    def sink_config(self, name: str) -> SinkConfig | None:
        return next((c for c in self.settings.sinks if c.name == name), None)

    def fork(self) -> Runtime:
        """The same gateway for another thread: its own store connection, the same (thread-safe) sinks."""
        return Runtime(self.settings, self.actor, self._adapters, sinks=self.sinks)

    def close(self) -> None:
        adapters: list[Source | Sink] = [*(self._sources or [])]
        if self._owns_sinks:
            adapters += (self._sinks or {}).values()
        for adapter in adapters:
            adapter.close()  # network adapters hang up
        if self._pool is not None:
            self._pool.close()
        self.archive.close()
        self.store.close()
