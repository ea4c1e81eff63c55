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
from gateway.config import Settings
from gateway.runtime import Runtime

build_source = registry.build_source
build_sink = registry.build_sink


def load_settings(path: str | Path) -> Settings:
    """The configuration file read and checked whole: the core's sections and every adapter's own keys."""
    return registry.check(config.load(path))


def settings_from_dict(raw: dict[str, Any], base_dir: Path) -> Settings:
    return registry.check(config.from_dict(raw, base_dir))


class Gateway(Runtime):
    """A gateway whose sources and sinks come from ``adapters.registry``, its configuration checked whole."""

    def __init__(self, settings: Settings, actor: str = "gateway") -> None:
        super().__init__(registry.check(settings), actor, registry)  # a wrong adapter key stops start-up here
