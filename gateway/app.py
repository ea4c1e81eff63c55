"""The composition root: settings, store, archive, kinds, sources and sinks of one process, assembled.

The only core module that imports ``adapters`` (through ``adapters.registry``); everything else speaks to
sources and sinks through ``gateway.ports``. ``load_settings`` is how an entry point reads a configuration:
the core's sections (``gateway.config``) and then every adapter's own keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters import registry
from gateway import config
from gateway.archive import Archive
from gateway.config import Settings, SinkConfig
from gateway.health import HealthMonitor
from gateway.kinds import KindRegistry
from gateway.ports import Sink, Source
from gateway.store import SqliteStore, open_store

build_source = registry.build_source
build_sink = registry.build_sink


def load_settings(path: str | Path) -> Settings:
    """The configuration file read and checked whole: the core's sections and every adapter's own keys."""
    return registry.check(config.load(path))


def settings_from_dict(raw: dict[str, Any], base_dir: Path) -> Settings:
    return registry.check(config.from_dict(raw, base_dir))


class Gateway:
    def __init__(self, settings: Settings, actor: str = "gateway") -> None:
        self.settings = registry.check(settings)  # a wrong adapter key stops start-up here at the latest
        self.actor = actor
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.store: SqliteStore = open_store(settings.store_url)
        self.archive = Archive(settings.archive_dir)
        self.health = HealthMonitor(self.store)
        self.kinds = KindRegistry(settings.certificate_dirs, settings.sat_schema_dir, settings.sat_data_files,
                                  mapping_dirs=settings.erp_mapping_dirs, store=self.store, settings=settings)
        self._sources: list[Source] | None = None
        self._sinks: dict[str, Sink] | None = None

    @property
    def sources(self) -> list[Source]:
        if self._sources is None:
            self._sources = [build_source(c) for c in self.settings.sources]
        return self._sources

    @property
    def sinks(self) -> dict[str, Sink]:
        if self._sinks is None:
            self._sinks = {c.name: build_sink(c) for c in self.settings.sinks}
        return self._sinks

    def sink_config(self, name: str) -> SinkConfig | None:
        return next((c for c in self.settings.sinks if c.name == name), None)

    def close(self) -> None:
        for adapter in [*(self._sources or []), *(self._sinks or {}).values()]:
            adapter.close()  # network adapters hang up
        self.store.close()
