"""The ports the core owns: what a source and a sink must do, and what they may offer besides.

Adapters (``adapters/``) implement these; the core (intake, runner, outbox, delivery) speaks only to them and
never asks an adapter what it is (no ``hasattr``, no ``isinstance`` of a concrete class). Every capability is
declared here with a default in ``SourceBase`` / ``SinkBase``, so an adapter states what it offers by
overriding, and a reader of this file sees the whole contract:

- a source lists complete files (``poll``), opens them, tells whether they changed while copied
  (``unchanged``) and lets go of them once committed (``acknowledge``); it may count files still settling
  (``pending``) and their settling time (``stable_time``), name a local folder whose events should wake the
  runner (``watched_folder``), answer the sender in a folder it reads (``reply_location``, ``reply``) and hang
  up (``close``);
- a sink delivers one document idempotently by its id (``deliver``); it may deliver several per request
  (``deliver_batch`` with ``batch_size`` > 1) and hang up (``close``). A failure is a ``SinkError`` whose
  ``retryable`` decides between backoff and dead letter.

Each adapter also checks its own configuration keys (``check_options``, called at start-up through
``adapters/registry.py``): a new transport is one file plus one registry line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, BinaryIO, ClassVar, Protocol

from gateway.config import NotifyConfig, SinkConfig, SourceConfig
from gateway.errors import ConfigError, SinkError, SourceError

__all__ = ["ConfigContext", "ConfigError", "IncomingFile", "Mailer", "MailerBase", "Outgoing", "Sink", "SinkBase",
           "SinkError", "Source", "SourceBase", "SourceError", "WatchedFolder"]


@dataclass(frozen=True)
class IncomingFile:
    source: str
    #: the name users see (relative to the watched folder), printable even for odd byte names
    name: str
    #: where the file is in the source's own terms: a local ``Path``, or a remote ``PurePosixPath``
    path: PurePath
    size: int
    mtime_ns: int
    marker: Path | None = None


@dataclass(frozen=True)
class Outgoing:
    id: str
    kind: str
    canonical: dict[str, Any]
    original_name: str
    load_original: Callable[[], bytes]
    business_key: str | None = None  # CFDI UUID, pedimento number…: for sinks that index by it


@dataclass(frozen=True)
class WatchedFolder:
    """A local folder whose filesystem events should wake the runner before its next rescan."""

    path: Path
    recursive: bool = False


@dataclass(frozen=True)
class ConfigContext:
    """What an adapter needs besides its own table to check it: where relative paths start, where to stage."""

    base_dir: Path
    staging_dir: Path


class Source(Protocol):
    name: str
    kind: str
    #: seconds a file's size and mtime must stay the same before it is listed (0: the source knows otherwise)
    stable_time: float

    def poll(self) -> list[IncomingFile]:
        """Files that are complete now (stable, or with their done-marker). Never blocks for long."""
        ...

    def open(self, item: IncomingFile) -> BinaryIO: ...

    def unchanged(self, item: IncomingFile) -> bool:
        """True if the file still has the size and mtime it had when listed (checked after copying)."""
        ...

    def acknowledge(self, item: IncomingFile) -> None:
        """Move or delete the source file. Called only after its bytes are archived and its row committed."""
        ...

    def pending(self) -> int:
        """Files seen but not yet complete: ``run --once`` waits for them a little."""
        ...

    def watched_folder(self) -> WatchedFolder | None:
        """A local folder to watch for events, or None for a source that is only polled."""
        ...

    def reply_location(self) -> str | None:
        """Where answers to the sender go (``reply_path``), shown to operators; None: this source does not answer."""
        ...

    def reply(self, name: str, data: bytes) -> None:
        """Write one answer file where the sender looks: atomically (temp name, then rename), replacing a file
        of the same name, creating the folder if missing. Raises ``SourceError`` when it cannot."""
        ...

    def close(self) -> None: ...


class Sink(Protocol):
    name: str
    #: documents per request; more than one only for a sink whose ``deliver_batch`` is a real batch endpoint
    batch_size: int

    def deliver(self, item: Outgoing) -> None:
        """Deliver ``item``; delivering the same id twice must have the effect of once."""
        ...

    def deliver_batch(self, items: list[Outgoing]) -> list[SinkError | None]:
        """Deliver several; one outcome per item, in order (None: delivered)."""
        ...

    def close(self) -> None: ...


class Mailer(Protocol):
    """Sends one message to operations staff (the ``[notify]`` digest); a failure is a ``TransportError``."""

    def send(self, subject: str, body: str) -> None: ...

    def describe(self) -> str:
        """Where the mail goes, without secrets (the overview and ``/healthz``)."""
        ...


class MailerBase:
    """What a mailer adapter is built from: ``TYPE``, ``check_options`` for its ``[notify]`` keys, ``__init__``."""

    TYPE: ClassVar[str]

    @classmethod
    def check_options(cls, options: dict[str, Any], where: str, base_dir: Path) -> dict[str, Any]:
        return options

    def __init__(self, config: NotifyConfig) -> None:
        self.config = config

    def send(self, subject: str, body: str) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        return self.TYPE


class SourceBase:
    """Defaults of the optional source capabilities; an adapter overrides what it offers.

    ``TYPE`` is the ``[[source]] type`` it answers to; ``check_options`` checks and completes its table at
    start-up (a ConfigError naming the key); ``__init__(config)`` builds it from the checked table.
    """

    TYPE: ClassVar[str]
    stable_time: float = 0.0

    def __init__(self, config: SourceConfig) -> None:
        self.name = config.name
        self.kind = config.kind

    @classmethod
    def check_options(cls, options: dict[str, Any], where: str, context: ConfigContext) -> dict[str, Any]:
        return options

    def poll(self) -> list[IncomingFile]:
        raise NotImplementedError

    def open(self, item: IncomingFile) -> BinaryIO:
        raise NotImplementedError

    def unchanged(self, item: IncomingFile) -> bool:
        raise NotImplementedError

    def acknowledge(self, item: IncomingFile) -> None:
        raise NotImplementedError

    def pending(self) -> int:
        return 0

    def watched_folder(self) -> WatchedFolder | None:
        return None

    def reply_location(self) -> str | None:
        return None

    def reply(self, name: str, data: bytes) -> None:
        raise SourceError(f"source '{self.name}' has no reply_path")

    def close(self) -> None:
        return None


class SinkBase:
    """Defaults of the optional sink capabilities; an adapter overrides what it offers (see ``SourceBase``)."""

    TYPE: ClassVar[str]
    batch_size: int = 1

    def __init__(self, config: SinkConfig) -> None:
        self.name = config.name

    @classmethod
    def check_options(cls, options: dict[str, Any], where: str, context: ConfigContext) -> dict[str, Any]:
        return options

    def deliver(self, item: Outgoing) -> None:
        raise NotImplementedError

    def deliver_batch(self, items: list[Outgoing]) -> list[SinkError | None]:
        """One request per item: a sink without a batch endpoint never gets here (``batch_size`` 1)."""
        outcomes: list[SinkError | None] = []
        for item in items:
            try:
                self.deliver(item)
                outcomes.append(None)
            except SinkError as exc:
                outcomes.append(exc)
        return outcomes

    def close(self) -> None:
        return None
