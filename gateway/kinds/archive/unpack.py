"""Safe, streaming reading of ZIP archives: every entry checked against the limits before a byte is expanded.

Guarantees:
- the archive is read from a seekable file, never loaded whole; an entry is expanded in chunks, and one that
  is nested is spooled to a temporary file (bounded by ``max_entry_size``), so memory stays flat;
- nothing is ever written under an entry's own name: names are labels, so ``..``, absolute paths and symlink
  entries cannot reach outside the gateway's folders (they are refused all the same, as a broker's system
  that produces them is broken);
- limits come from the central directory before expanding (CPython's reader never yields more than an
  entry's declared size, and checks its CRC at the end), so a bomb is refused without being inflated;
- a problem with one entry refuses that entry (``Entry.problem``); a problem with the archive itself (corrupt
  central directory, too many entries, total size) is a finding on the container, which is then rejected whole.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO

from gateway.findings import Finding, error
from gateway.kinds.archive.limits import ArchiveLimits

#: a bad deflate stream, a truncated member, a CRC mismatch, an unsupported method
DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError, RuntimeError)
_HEAD = 8192
_RATIO_FLOOR = 2**20  # small entries compress absurdly well (a 1 KiB file of spaces); only large ones can hurt
_JUNK = ("__MACOSX/", ".DS_Store", "Thumbs.db", "desktop.ini")
_SUPPORTED = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


@dataclass
class Entry:
    """One file inside the archive (nested archives flattened: ``expediente.zip/facturas.zip/a.xml``)."""

    name: str
    size: int
    head: bytes = b""
    opener: Callable[[], IO[bytes]] | None = None
    #: why the entry is refused (Spanish, for the finding) and the limit's key, when it is
    problem: str | None = None
    limit: str | None = None


class _Budget:
    """What the whole archive, nested ones included, may still use."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.entries = 0
        self.expanded = 0


def is_zip(head: bytes) -> bool:
    return head[:4] == b"PK\x03\x04" or head[:4] == b"PK\x05\x06"  # the second: an empty archive


def entries(file: IO[bytes], limits: ArchiveLimits, findings: list[Finding],
            is_container: Callable[[bytes, str], bool]) -> Iterator[Entry]:
    """Each entry of the archive in ``file`` (seekable), nested containers opened up to ``max_depth``."""
    yield from _walk(file, "", 1, _Budget(limits), findings, is_container)


def _walk(file: IO[bytes], prefix: str, depth: int, budget: _Budget, findings: list[Finding],
          is_container: Callable[[bytes, str], bool]) -> Iterator[Entry]:
    limits = budget.limits
    where = prefix.rstrip("/") or None
    try:
        archive = zipfile.ZipFile(file)
        infos = archive.infolist()
    except DAMAGED as exc:
        findings.append(error("ARCHIVE-CORRUPT", f"El ZIP{_of(where)} está dañado o truncado y no se puede leer "
                              f"({_reason(exc)}). Envíe de nuevo el archivo completo.", entry=where))
        return
    with archive:
        budget.entries += len(infos)
        if budget.entries > limits.max_entries:
            findings.append(error("ARCHIVE-UNSAFE", f"El ZIP{_of(where)} contiene más de {limits.max_entries:,} "
                                  "archivos (límite limits.max_container_entries); no se abre.", entry=where,
                                  limit="limits.max_container_entries"))
            return
        declared = sum(i.file_size for i in infos if not i.is_dir())
        if budget.expanded + declared > limits.max_total_size:
            findings.append(error("ARCHIVE-UNSAFE", f"El ZIP{_of(where)} se expandiría a {declared:,} bytes, más que "
                                  f"el límite de {limits.max_total_size:,} (limits.max_container_size); no se abre.",
                                  entry=where, limit="limits.max_container_size"))
            return
        budget.expanded += declared
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            if info.is_dir() or any(part in name for part in _JUNK):
                continue
            label = prefix + name
            problem = _refusal(info, seen, limits)
            seen.add(name)
            if problem is not None:
                yield Entry(label, info.file_size, problem=problem[0], limit=problem[1])
                continue
            try:
                with archive.open(info) as stream:
                    head = stream.read(_HEAD)
            except DAMAGED as exc:
                yield Entry(label, info.file_size, problem=f"no se puede leer del ZIP ({_reason(exc)})")
                continue
            if is_container(head, name):
                if depth >= limits.max_depth:
                    yield Entry(label, info.file_size, head, problem=f"es un ZIP anidado a más de {limits.max_depth} "
                                "niveles", limit="limits.max_container_depth")
                    continue
                with tempfile.TemporaryFile() as spool:
                    try:
                        with archive.open(info) as stream:
                            shutil.copyfileobj(stream, spool, 2**20)
                    except DAMAGED as exc:
                        yield Entry(label, info.file_size, head, problem=f"no se puede leer del ZIP ({_reason(exc)})")
                        continue
                    spool.seek(0)
                    yield from _walk(spool, label + "/", depth + 1, budget, findings, is_container)
                continue
            yield Entry(label, info.file_size, head, opener=lambda info=info: archive.open(info))


def _refusal(info: zipfile.ZipInfo, seen: set[str], limits: ArchiveLimits) -> tuple[str, str | None] | None:
    """Why an entry must not be expanded, judged from the central directory alone."""
    name = info.filename
    path = PurePosixPath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in path.parts:
        return "tiene una ruta absoluta o con '..' (intento de escribir fuera de la carpeta)", None
    if info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16):
        return "es un enlace simbólico, no un archivo", None
    if name in seen:
        return "tiene el mismo nombre que otro archivo del ZIP", None
    if info.flag_bits & 0x1:
        return "está cifrado (protegido con contraseña); envíelo sin contraseña", None
    if info.compress_type not in _SUPPORTED:
        return f"usa un método de compresión no admitido ({info.compress_type})", None
    if info.file_size > limits.max_entry_size:
        return (f"se expandiría a {info.file_size:,} bytes, más que el límite de {limits.max_entry_size:,}",
                "limits.max_container_entry_size")
    if info.file_size > _RATIO_FLOOR and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        ratio = info.file_size // max(info.compress_size, 1)
        return (f"se comprime {ratio:,} a 1, más que el límite de {limits.max_ratio} a 1 (bomba ZIP)",
                "limits.max_compression_ratio")
    return None


def _of(where: str | None) -> str:
    return f" {where}" if where else ""


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
