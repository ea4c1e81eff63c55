"""The assembled gateway: settings, store, archive, kinds, sources and sinks of one process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.sinks.base import Sink
from adapters.sources.base import Source
from gateway.archive import Archive
from gateway.config import ConfigError, Settings, SinkConfig, SourceConfig
from gateway.errors import ResourceError, os_reason
from gateway.health import HealthMonitor
from gateway.kinds import KindRegistry
from gateway.store import SqliteStore, open_store


def source_class(type_: str, name: str = "?") -> type:
    """The adapter class for a ``[[source]] type`` (its ``probe`` serves ``config check``)."""
    if type_ == "folder":
        from adapters.sources.folder import FolderSource

        return FolderSource
    if type_ == "sftp":
        from adapters.sources.sftp import SftpSource

        return SftpSource
    raise ConfigError(f"source '{name}'.type: '{type_}' is not available in this version")


def sink_class(type_: str, name: str = "?") -> type:
    """The adapter class for a ``[[sink]] type``."""
    if type_ == "folder":
        from adapters.sinks.folder import FolderSink

        return FolderSink
    if type_ == "sftp":
        from adapters.sinks.sftp import SftpSink

        return SftpSink
    if type_ == "http":
        from adapters.sinks.http import HttpSink

        return HttpSink
    if type_ == "sql":
        from adapters.sinks.sql import SqlSink

        return SqlSink
    raise ConfigError(f"sink '{name}'.type: '{type_}' is not available in this version")


def build_source(config: SourceConfig) -> Source:
    return source_class(config.type, config.name)(config)


def build_sink(config: SinkConfig) -> Sink:
    return sink_class(config.type, config.name)(config)


def _built(what: str, name: str, build: Callable[[Any], Any], config: Any) -> Any:
    """An adapter, or a ResourceError naming it when its folder cannot be made or its file read."""
    try:
        return build(config)
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        raise ResourceError(f"{what} '{name}'{where}", os_reason(exc)) from None


class Gateway:
    def __init__(self, settings: Settings, actor: str = "gateway") -> None:
        self.settings = settings
        self.actor = actor
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ResourceError(f"gateway.data_dir {settings.data_dir}", os_reason(exc)) from None
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
            self._sources = [_built("source", c.name, build_source, c) for c in self.settings.sources]
        return self._sources

    @property
    def sinks(self) -> dict[str, Sink]:
        if self._sinks is None:
            self._sinks = {c.name: _built("sink", c.name, build_sink, c) for c in self.settings.sinks}
        return self._sinks

    def sink_config(self, name: str) -> SinkConfig | None:
        return next((c for c in self.settings.sinks if c.name == name), None)

    def close(self) -> None:
        for adapter in [*(self._sources or []), *(self._sinks or {}).values()]:
            getattr(adapter, "close", lambda: None)()  # network adapters hang up
        self.store.close()
