"""The ``zip`` kind: a ZIP of documents (SAT's bulk download, a broker's expediente) split into its entries.

Each entry becomes a part whose kind is detected from its own bytes and name, exactly as a file dropped in the
inbox would be; entries that are no document (the printed pedimento PDF, images, acuses) become attachments:
archived, linked to the container, never rejected for their kind and never forwarded. A refused entry (bomb,
encryption, traversal, damage) becomes a rejected part with ``ARCHIVE-UNSAFE``; the others go on. A ZIP that is
a Data Stage set is claimed earlier by the ``datastage`` kind and keeps its own behaviour.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from gateway.findings import Finding, error
from gateway.kinds.archive.limits import ArchiveLimits
from gateway.kinds.archive.unpack import DAMAGED, Entry, entries, is_zip
from gateway.kinds.base import CheckResult, Part, Uncorrelated

#: entries up to this size are held as bytes; larger ones stream from the archive a second time
_IN_MEMORY = 8 * 2**20
#: text-like entries that no kind recognises are documents gone wrong (rejected), not attachments
_DOCUMENT_SUFFIXES = (".xml", ".txt", ".csv", ".json", ".asc", ".err")
_M_FILE = re.compile(r"^[mM]\d{7}\.\d{3}$")
#: a pedimento number in an attachment's name: ``3420-6000001.pdf``, ``26 24 3420 6000001.pdf``
_PEDIMENTO_IN_NAME = re.compile(r"(?<!\d)(?:\d{2}[ -]?\d{2}[ -]?)?(\d{4})[ -]?(\d{7})(?!\d)")


def is_office_file(head: bytes) -> bool:
    """XLSX and the other Office Open XML files are ZIPs too; they are ERP exports or attachments, not folders."""
    return b"[Content_Types].xml" in head[:2048]


class ZipKind(Uncorrelated):
    name = "zip"

    def __init__(self, detect: Callable[[bytes, str], str | None], limits: ArchiveLimits | None = None) -> None:
        self.detect = detect
        self.limits = limits or ArchiveLimits()

    def sniff(self, head: bytes, filename: str) -> bool:
        return is_zip(head) and not is_office_file(head)

    def check(self, data: bytes) -> CheckResult:
        return self.check_stream(io.BytesIO(data), "")

    def check_named(self, data: bytes, filename: str) -> CheckResult:
        return self.check_stream(io.BytesIO(data), filename)

    def check_file(self, path: Path) -> CheckResult:
        """The archived file read in place: a ZIP of 10,000 invoices never sits in memory."""
        return self.check_stream(path.open("rb"), path.name, close=True)

    def check_stream(self, file: IO[bytes], filename: str, close: bool = False) -> CheckResult:
        result = CheckResult(validated=True)
        record: dict[str, Any] = {"format": "zip", "documents": 0, "attachments": 0, "refused": 0}
        result.record = record

        def parts() -> Iterator[Part]:
            try:
                for entry in entries(file, self.limits, result.findings, self._is_container):
                    part = self._part(entry)
                    record[{"attachment": "attachments", "refused": "refused"}.get(part.kind, "documents")] += 1
                    yield part
            finally:
                if close:
                    file.close()

        result.parts = parts()
        return result

    def _is_container(self, head: bytes, name: str) -> bool:
        return self.detect(head, name) == self.name

    def _part(self, entry: Entry) -> Part:
        if entry.problem is not None or entry.opener is None:
            return _refused(entry, entry.problem or "no se puede leer", entry.limit)
        base = entry.name.rsplit("/", 1)[-1]
        kind = self.detect(entry.head, base)
        if kind is None and not _looks_like_document(entry.head, base):
            kind = "attachment"
        try:
            data = _read(entry) if entry.size <= _IN_MEMORY else _verify(entry)
        except DAMAGED as exc:
            return _refused(entry, f"no se puede leer del ZIP ({exc or type(exc).__name__})", None)
        label = entry.name
        if kind == "attachment" and (match := _PEDIMENTO_IN_NAME.search(base)):
            label = f"{entry.name} (pedimento {match[1]}-{match[2]})"
        if data is None:
            return Part(kind or "auto", b"", label, opener=entry.opener)
        return Part(kind or "auto", data, label)


def _looks_like_document(head: bytes, name: str) -> bool:
    """Unrecognised bytes that are meant to be a document: broken XML, a text file with a document's name."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<"):
        from gateway import xmlsafe

        return not xmlsafe.parse(head).ok if len(head) < 8192 else False
    return name.lower().endswith(_DOCUMENT_SUFFIXES) or _M_FILE.match(name) is not None


def _read(entry: Entry) -> bytes:
    assert entry.opener is not None
    with entry.opener() as stream:
        return stream.read()


def _verify(entry: Entry) -> None:
    """Read a large entry through once (its CRC is checked at the end), so damage refuses it here, not later."""
    assert entry.opener is not None
    with entry.opener() as stream:
        while stream.read(2**20):
            pass


def _refused(entry: Entry, problem: str, limit: str | None) -> Part:
    finding: Finding = error("ARCHIVE-UNSAFE", f"El archivo {entry.name} del ZIP {problem}; no se procesó. Los demás "
                             "archivos del ZIP siguen su curso.", entry=entry.name, limit=limit)
    note = (f"Archivo {entry.name} del ZIP rechazado sin expandir: {problem}.\nReferencia: {uuid.uuid4()}\n"
            "El ZIP original se conserva sin cambios en el archivo del gateway.\n").encode()
    return Part("refused", note, entry.name, findings=[finding])
