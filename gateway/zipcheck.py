"""ZIP archives (a Data Stage set, an XLSX workbook) are checked against ``[limits]`` before one byte is unpacked.

The central directory declares every member's sizes; zipfile never hands out more than the declared
size (a member that expands further fails its CRC), so checking the declarations bounds what reading can
cost: members, total expanded size, compression ratio. Encrypted members are refused (the gateway holds
no passwords) instead of letting zipfile ask for one.
"""

from __future__ import annotations

import zipfile
from typing import Any

from gateway.findings import Finding, error
from gateway.limits import current, exceeded

#: members smaller than this are never a bomb, whatever their ratio (a 4 KiB header compresses 50:1)
_RATIO_FLOOR = 64 * 1024


def check(archive: zipfile.ZipFile, what: str, **location: Any) -> Finding | None:
    """The first reason not to unpack ``archive`` (``what``: "el ZIP del Data Stage", "el libro XLSX"), or None."""
    limits = current()
    infos = archive.infolist()
    if len(infos) > limits.max_archive_members:
        return exceeded("max_archive_members", len(infos), **location)
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            return error("FILE-ARCHIVE", f"{what}: '{info.filename}' está cifrado (protegido con contraseña); envíe "
                                         "el archivo sin cifrar. / An encrypted member cannot be read.",
                         member=info.filename, **location)
        total += info.file_size
        if total > limits.max_expanded_size:
            return exceeded("max_expanded_size", total, member=info.filename, **location)
        if info.file_size > _RATIO_FLOOR:
            ratio = info.file_size // max(info.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                return exceeded("max_compression_ratio", ratio, member=info.filename, **location)
    return None
