"""The composition root: settings, store, archive, kinds, sources and sinks of one process, assembled.

The only core module that imports ``adapters`` (through ``adapters.registry``); everything else speaks to
sources and sinks through ``gateway.ports``. ``load_settings`` is how an entry point reads a configuration:
the core's sections (``gateway.config``) and then every adapter's own keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters import registry
from gateway import config, limits
from gateway.config import Settings, SinkConfig, SourceConfig
from gateway.runtime import Runtime

build_source = registry.build_source
build_sink = registry.build_sink


def load_settings(path: str | Path) -> Settings:
    """The configuration file read and checked whole: the core's sections and every adapter's own keys."""
    return _checked(config.load(path))


def settings_from_dict(raw: dict[str, Any], base_dir: Path) -> Settings:
    return _checked(config.from_dict(raw, base_dir))


def _checked(settings: Settings) -> Settings:
    limits.from_table(settings.limits)  # a wrong [limits] key or value stops start-up, named (exit 2)
    return registry.check(settings)


def probe(adapter: SourceConfig | SinkConfig, connect: bool) -> str:
    """What ``config check`` says about one source or sink (its adapter's ``probe``); raises what is wrong."""
    return registry.probe(adapter, connect)


class Gateway(Runtime):
    """A gateway whose sources and sinks come from ``adapters.registry``, its configuration checked whole."""

    def __init__(self, settings: Settings, actor: str = "gateway") -> None:
        limits.configure(limits.from_table(settings.limits))  # what one input may expand to (docs/limits.md)
        super().__init__(registry.check(settings), actor, registry)  # a wrong adapter key stops start-up here
