"""File names are data: whatever a broker's system produced, a name the gateway derives stays a valid one."""

from __future__ import annotations

import os

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
