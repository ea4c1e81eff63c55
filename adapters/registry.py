"""Which adapter answers to which ``type = "…"``: one line per transport, and the checks that use them.

Adapters are imported only when a configuration names their type (paramiko, httpx and SQLAlchemy load only
where they are used). A new transport is its own module (a ``SourceBase``/``SinkBase`` subclass with ``TYPE``,
``check_options`` and ``__init__(config)``) plus one line here. Registration is explicit: no scanning, no
entry points.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from gateway.config import NotifyConfig, Settings, SinkConfig, SourceConfig, did_you_mean
from gateway.errors import ConfigError, ResourceError, SourceError, os_reason
from gateway.ports import ConfigContext, Mailer, MailerBase, Sink, SinkBase, Source, SourceBase


def _lazy(module: str, name: str) -> Callable[[], type]:
    return lambda: getattr(import_module(module), name)


SOURCES: dict[str, Callable[[], type]] = {
    "folder": _lazy("adapters.sources.folder", "FolderSource"),
    "sftp": _lazy("adapters.sources.sftp", "SftpSource"),
}
SINKS: dict[str, Callable[[], type]] = {
    "folder": _lazy("adapters.sinks.folder", "FolderSink"),
    "sftp": _lazy("adapters.sinks.sftp", "SftpSink"),
    "http": _lazy("adapters.sinks.http", "HttpSink"),
    "sql": _lazy("adapters.sinks.sql", "SqlSink"),
}


def source_class(config: SourceConfig) -> type[SourceBase]:
    entry = SOURCES.get(config.type)
    if entry is None:
        raise ConfigError(f"source '{config.name}'.type: '{config.type}' is not one of {', '.join(sorted(SOURCES))}"
                          f"{did_you_mean(config.type, SOURCES)}")
    return entry()


def sink_class(config: SinkConfig) -> type[SinkBase]:
    entry = SINKS.get(config.type)
    if entry is None:
        raise ConfigError(f"sink '{config.name}'.type: '{config.type}' is not one of {', '.join(sorted(SINKS))}"
                          f"{did_you_mean(config.type, SINKS)}")
    return entry()


MAILERS: dict[str, Callable[[], type]] = {
    "smtp": _lazy("adapters.mailers.smtp", "SmtpMailer"),
}


def mailer_class(config: NotifyConfig) -> type[MailerBase]:
    entry = MAILERS.get(config.type)
    if entry is None:
        raise ConfigError(f"notify.type: '{config.type}' is not one of {', '.join(sorted(MAILERS))}")
    return entry()


def check(settings: Settings) -> Settings:
    """Let each adapter check and complete its own table; a wrong key is a ConfigError naming it. Idempotent."""
    context = ConfigContext(settings.base_dir, settings.staging_dir)
    for source in settings.sources:
        if not source.checked:
            source.options = source_class(source).check_options(source.options, f"source '{source.name}'", context)
            source.checked = True
    for sink in settings.sinks:
        if not sink.checked:
            sink.options = sink_class(sink).check_options(sink.options, f"sink '{sink.name}'", context)
            sink.checked = True
    notify = settings.notify
    if notify is not None and not notify.checked:
        notify.options = mailer_class(notify).check_options(notify.options, "notify", settings.base_dir)
        notify.checked = True
    return settings


def build_source(config: SourceConfig) -> Source:
    return _built(f"source '{config.name}'", source_class(config), config)


def build_sink(config: SinkConfig) -> Sink:
    return _built(f"sink '{config.name}'", sink_class(config), config)


def build_mailer(config: NotifyConfig) -> Mailer:
    mailer: Mailer = mailer_class(config)(config)
    return mailer


def probe(config: SourceConfig | SinkConfig, connect: bool) -> str:
    """``config check``'s line for one source or sink: its adapter's ``probe``."""
    if isinstance(config, SourceConfig):
        return source_class(config).probe(config, connect)
    return sink_class(config).probe(config, connect)


def _built(what: str, adapter: Callable[[Any], Any], config: SourceConfig | SinkConfig) -> Any:
    """The adapter, or a ResourceError naming it when its folder cannot be made or a file of it read."""
    try:
        return adapter(config)
    except OSError as exc:
        if isinstance(exc, SourceError):  # already the adapter's own words
            raise
        where = f" {exc.filename}" if exc.filename else ""
        raise ResourceError(f"{what}{where}", os_reason(exc)) from None
