"""What every document kind provides: recognise its bytes, check them, produce the canonical record."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeGuard, TypeVar, cast, runtime_checkable

from gateway.findings import Finding, has_errors
from gateway.kinds.keys import Keys

if TYPE_CHECKING:
    from gateway.store.base import CoreStore


@dataclass
class Part:
    """One document carved out of a container file (a pedimento of an M file, a chunk of an ERP export).

    The part's bytes are archived on their own so that it can be retried, replaced and audited like any
    other document; ``kind`` is the kind that checks those bytes.
    """

    kind: str  # a kind's name, ``auto`` (detect), ``attachment`` (kept, never forwarded) or ``refused``
    data: bytes
    label: str  # shown after the container's file name: ``m3420001.123#2 (pedimento 3420-6000001)``
    #: a large part streams from here instead of ``data`` (an entry of a ZIP), so it never sits in memory
    opener: Callable[[], IO[bytes]] | None = None
    #: a part its container refused (a ZIP bomb entry): recorded and rejected at once with these findings
    findings: list[Finding] = field(default_factory=list)


@dataclass
class CheckResult:
    """The outcome of validating one document: findings, and the canonical record when it is clean."""

    findings: list[Finding] = field(default_factory=list)
    record: dict[str, Any] | None = None
    business_key: str | None = None
    #: whether the document got far enough to be validated (parsed, right version...)
    validated: bool = False
    #: for containers: the documents this file holds; consumed once, lazily (it may stream a large file)
    parts: Iterable[Part] | None = None
    #: (role, business key) of documents this one refers to, e.g. ("supersedes", key of a corrected pedimento)
    related: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)


class DocumentKind(Protocol):
    name: str

    def sniff(self, head: bytes, filename: str) -> bool:
        """Cheap content test on the first bytes; the full check decides."""
        ...

    def check(self, data: bytes) -> CheckResult: ...

    def correlation_keys(self, record: dict[str, Any]) -> Keys:
        """What the record provides to other documents and needs from them (``gateway.kinds.keys``)."""
        ...

    def waits_to_be_claimed(self, record: dict[str, Any]) -> bool:
        """Whether the document, when its kind is in ``[correlation] hold``, waits for a pedimento to declare it."""
        ...


@runtime_checkable
class ChecksFileName(Protocol):
    """A kind whose verdict depends on the file's name too (an M file and its 801 record)."""

    def check_named(self, data: bytes, filename: str) -> CheckResult: ...


@runtime_checkable
class ChecksFile(Protocol):
    """A kind that streams its input from the archived file (an ERP export, a ZIP) instead of taking bytes."""

    def check_file(self, path: Path) -> CheckResult: ...


@runtime_checkable
class MakesParts(Protocol):
    """A container that writes its parts in a format of its own (ERP chunks, M-file blocks, Data Stage pedimento
    parts): only its parts may be read back in that format; anything else shaped like one is refused."""

    makes_parts: bool


@runtime_checkable
class HasInternalFormat(Protocol):
    """A kind that also reads a format only the gateway writes (``pedimento``: the Data Stage pedimento part)."""

    def internal_format(self, head: bytes) -> bool: ...


@runtime_checkable
class KeepsReferenceData(Protocol):
    """A kind that records reference data in the transaction that makes a document ready (the material master)."""

    def on_ready(self, store: CoreStore, document_id: str, record: dict[str, Any] | None) -> None: ...


@runtime_checkable
class Warms(Protocol):
    """A kind whose first document would pay a start-up (compiled schemas): paid before a node takes work."""

    def warm(self) -> None: ...


class Uncorrelated:
    """The correlation verbs of a kind whose documents take no part in correlation (containers, ERP records)."""

    def correlation_keys(self, record: dict[str, Any]) -> Keys:
        return Keys()

    def waits_to_be_claimed(self, record: dict[str, Any]) -> bool:
        return False


P = TypeVar("P")
_IMPLEMENTS: dict[tuple[type, object], bool] = {}


def implements(kind: object, protocol: Callable[..., P]) -> TypeGuard[P]:
    """``isinstance(kind, protocol)`` for the runtime-checkable protocols above, answered once per class.

    Python 3.11 lists a protocol's members again on every ``isinstance`` (≈ 30 µs); ``validate`` asks two or
    three per document. The kinds declare these members on the class, so the class's answer is the instance's.
    """
    key = (type(kind), protocol)
    answer = _IMPLEMENTS.get(key)
    if answer is None:
        answer = _IMPLEMENTS[key] = isinstance(kind, cast(type, protocol))
    return answer
