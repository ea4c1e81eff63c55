"""The source interface: list files that are ready to take, open them, acknowledge them once committed."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol


@dataclass(frozen=True)
class IncomingFile:
    source: str
    #: the name users see (relative to the watched folder), printable even for odd byte names
    name: str
    path: Path
    size: int
    mtime_ns: int
    marker: Path | None = None


class Source(Protocol):
    name: str
    kind: str

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


#: bytes in one file name (ext4, XFS, NTFS through SMB, OpenSSH servers on them)
NAME_MAX = 255


def with_suffix(name: str, suffix: str) -> str:
    """``name + suffix`` cut so that it stays a valid file name (≤ 255 bytes of UTF-8) without splitting a
    character: a 250-byte broker file name still gets its ``.processed`` or ``.<stamp>-<n>`` suffix."""
    raw = os.fsencode(name)
    room = NAME_MAX - len(os.fsencode(suffix))
    if len(raw) > room:
        name = os.fsdecode(raw[:room].decode("utf-8", "ignore").encode("utf-8"))
    return name + suffix
