"""The one hardened XML parser every XML document kind uses.

No DTD loading, no entity resolution, no network, no huge trees. A document that
declares a DTD or entities is refused before libxml2 sees it (billion laughs,
XXE), and again after parsing in case an exotic encoding hid the declaration.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from lxml import etree

from gateway.findings import Finding, error, warning

_PROLOG_FORBIDDEN = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT_START = re.compile(rb"<[A-Za-z_]")
_BAD_SCHEMALOCATION = re.compile(rb"""xmlns:schemaLocation\s*=\s*("[^"]*"|'[^']*')""")


def make_parser() -> etree.XMLParser:
    """A fresh parser: lxml parsers are not thread-safe, so callers keep one per thread."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        collect_ids=False,
    )


@dataclass
class ParsedXml:
    root: etree._Element | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.root is not None


def parse(data: bytes, parser: etree.XMLParser | None = None) -> ParsedXml:
    """Parse bytes into an element tree, or return why not as findings."""
    parser = parser or make_parser()
    forbidden = _forbidden_in_prolog(data)
    if forbidden:
        return ParsedXml(None, [forbidden])
    findings: list[Finding] = []
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        repaired = _repair_schemalocation(data, exc)
        if repaired is None:
            return ParsedXml(None, [_malformed(exc)])
        data, quirk = repaired
        findings.append(quirk)
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as exc2:
            return ParsedXml(None, [*findings, _malformed(exc2)])
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        return ParsedXml(None, [error("XML-FORBIDDEN", "El documento declara un DTD; no se admite por seguridad.")])
    return ParsedXml(root, findings)


def _forbidden_in_prolog(data: bytes) -> Finding | None:
    head = data[:65536]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16: scan the decoded text, not the raw bytes
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    root_at = _ROOT_START.search(head)
    prolog = head[: root_at.start()] if root_at else head
    match = _PROLOG_FORBIDDEN.search(prolog)
    if not match:
        return None
    line = prolog.count(b"\n", 0, match.start()) + 1
    return error(
        "XML-FORBIDDEN",
        "El documento declara un DTD o entidades (<!DOCTYPE/<!ENTITY>); se rechaza sin expandirlo "
        "para evitar ataques de expansión de entidades o lectura de archivos externos.",
        line=line,
    )


def _malformed(exc: etree.XMLSyntaxError) -> Finding:
    line, column = (exc.position if exc.position else (exc.lineno, None))
    message = str(exc.msg or exc).split(" (<string>")[0]
    return error("XML-MALFORMED", f"El XML no está bien formado: {message}", line=line, column=column)


def _repair_schemalocation(data: bytes, exc: etree.XMLSyntaxError) -> tuple[bytes, Finding] | None:
    """SAT bulk downloads may carry ``xmlns:schemaLocation``; blank it out, keeping offsets.

    The attribute is outside the cadena original, so the seals are unaffected.
    """
    if "xmlns:schemaLocation" not in str(exc):
        return None
    match = _BAD_SCHEMALOCATION.search(data)
    if not match:
        return None
    line = data.count(b"\n", 0, match.start()) + 1
    repaired = _BAD_SCHEMALOCATION.sub(lambda m: b" " * len(m.group(0)), data)
    return repaired, warning(
        "XML-SCHEMALOCATION",
        "El archivo usa 'xmlns:schemaLocation' en lugar de 'xsi:schemaLocation' (defecto conocido de la "
        "descarga masiva del SAT); se ignoró ese atributo, que no forma parte del sello.",
        line=line,
    )


def xpath_of(element: etree._Element) -> str:
    """A readable XPath with prefixes as the document uses them, e.g. /cfdi:Comprobante/cfdi:Emisor."""
    parts = []
    node: etree._Element | None = element
    while node is not None:
        qname = etree.QName(node)
        prefix = node.prefix
        name = f"{prefix}:{qname.localname}" if prefix else qname.localname
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if c.tag == node.tag]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        parts.append(name)
        node = parent
    return "/" + "/".join(reversed(parts))


def children_by_tag(element: etree._Element) -> dict[str, list[etree._Element]]:
    """The element's children grouped by Clark tag, each group in document order (comments and PIs left out).

    One pass instead of a ``find`` per name: lxml's ElementPath costs microseconds a call.
    """
    groups: dict[str, list[etree._Element]] = {}
    for child in element:
        tag = child.tag
        if isinstance(tag, str):
            groups.setdefault(tag, []).append(child)
    return groups


class Forbidden(Exception):
    """Raised by ``iterparse`` for a DTD or entity declaration; ``finding`` is the XML-FORBIDDEN finding."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


def iterparse(stream: BinaryIO, events: tuple[str, ...] = ("end",)) -> Iterator[tuple[str, etree._Element]]:
    """Stream a large XML file with the same hardening as ``parse`` (for exports too big to hold as a tree).

    The prolog is checked before libxml2 sees it and the doctype again at the root; the caller frees each
    record once read. Raises ``Forbidden`` or ``etree.XMLSyntaxError`` while iterating.
    """
    head = stream.read(65536)
    forbidden = _forbidden_in_prolog(head)
    if forbidden:
        raise Forbidden(forbidden)
    parser = etree.iterparse(_Prepended(head, stream), events=tuple({*events, "start"}), resolve_entities=False,
                             no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False)
    checked = False
    for event, element in parser:
        if not checked and event in ("start", "end"):  # start-ns/end-ns carry (prefix, uri), not an element
            docinfo = element.getroottree().docinfo
            if docinfo.internalDTD is not None or docinfo.doctype:
                raise Forbidden(error("XML-FORBIDDEN", "El documento declara un DTD; no se admite por seguridad."))
            checked = True
        if event in events:
            yield event, element


class _Prepended:
    """The bytes already read for the prolog check, then the rest of the stream."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head, self._stream = head, stream

    def read(self, size: int = -1) -> bytes:
        if self._head:
            chunk, self._head = (self._head, b"") if size < 0 or size >= len(self._head) else \
                (self._head[:size], self._head[size:])
            return chunk
        return self._stream.read(size)
