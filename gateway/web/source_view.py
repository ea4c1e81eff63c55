"""The original file as numbered lines, with the lines that findings point at marked.

Findings locate themselves by ``line`` (XML, pipe records) or ``row`` (CSV: row N is line N of
the file, the header being row 1). A finding on an attribute (an ``xpath`` ending in ``/@Name``) marks
the attribute itself within its line: a CFDI's root start tag is one line of thousands of characters,
and "line 2" alone leaves the operator hunting for ``Total`` in it. Small files are shown whole; in large
ones only the first lines and a window around each marked line, so the page stays light whatever the
file size.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from gateway.findings import Finding

WHOLE_FILE_LINES = 3000
CONTEXT = 15
HEAD_LINES = 40
MAX_LINE_CHARS = 10000
_RANK = {"error": 0, "warning": 1, "info": 2}
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_][\w.-]*(:[A-Za-z_][\w.-]*)?")


@dataclass
class SourceLine:
    number: int
    text: str
    severity: str | None = None  # the worst finding on this line
    codes: list[str] = field(default_factory=list)
    gap_before: bool = False  # lines were left out before this one
    cut: bool = False  # the line was longer than MAX_LINE_CHARS
    parts: list[Part] = field(default_factory=list)  # the text cut at marked attributes


@dataclass
class Part:
    """A piece of a line; ``attribute`` names a marked attribute (its anchor is ``L{line}-{attribute}``)."""

    text: str
    attribute: str | None = None
    severity: str | None = None
    codes: list[str] = field(default_factory=list)


@dataclass
class SourceView:
    lines: list[SourceLine]
    total_lines: int
    encoding: str
    binary: bool = False
    partial: bool = False
    finding_lines: list[int | None] = field(default_factory=list)  # per finding given, the line it marks


def finding_line(finding: Finding) -> int | None:
    value = finding.location.get("line", finding.location.get("row"))
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def finding_attribute(finding: Finding) -> str | None:
    """The attribute a finding points at (``…/@Total`` → ``Total``), if any."""
    xpath = finding.location.get("xpath")
    if not isinstance(xpath, str) or "/@" not in xpath:
        return None
    name = xpath.rsplit("/@", 1)[1]
    return name if _ATTRIBUTE_NAME.fullmatch(name) else None


def split_at_attributes(text: str, marks: dict[str, tuple[str, list[str]]]) -> list[Part]:
    """``text`` cut so that each marked attribute (name, ``=`` and quoted value) is a part of its own."""
    spans = []
    for name, (severity, codes) in marks.items():
        match = re.search(r"(?<![\w:.-])" + re.escape(name) + r"""\s*=\s*("[^"]*"|'[^']*')""", text)
        if match:
            spans.append((match.start(), match.end(), name, severity, codes))
    parts, at = [], 0
    for start, end, name, severity, codes in sorted(spans):
        if start < at:
            continue
        if start > at:
            parts.append(Part(text[at:start]))
        parts.append(Part(text[start:end], name, severity, codes))
        at = end
    if at < len(text) or not parts:
        parts.append(Part(text[at:]))
    return parts


def decode(data: bytes) -> tuple[str | None, str]:
    """(text, encoding); text is None for binary content."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            return None, "binary"
    if b"\x00" in data[:8192]:
        return None, "binary"
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "Windows-1252"


def render(data: bytes, findings: list[Finding]) -> SourceView:
    text, encoding = decode(data)
    if text is None:
        return SourceView([], 0, encoding, binary=True)
    raw_lines = text.splitlines() or [""]
    marks: dict[int, tuple[str, list[str]]] = {}
    attributes: dict[int, dict[str, tuple[str, list[str]]]] = {}
    finding_lines: list[int | None] = []
    for f in findings:
        number = finding_line(f)
        if number is None:
            number = record_line(f, raw_lines)
        if number is None or number > len(raw_lines):
            finding_lines.append(None)
            continue
        finding_lines.append(number)
        attribute = finding_attribute(f)
        if attribute:
            on_line = attributes.setdefault(number, {})
            worst, attribute_codes = on_line.get(attribute, (f.severity.value, []))
            if _RANK[f.severity.value] < _RANK[worst]:
                worst = f.severity.value
            if f.code not in attribute_codes:
                attribute_codes.append(f.code)
            on_line[attribute] = (worst, attribute_codes)
        severity, codes = marks.get(number, (f.severity.value, []))
        if _RANK[f.severity.value] < _RANK[severity]:
            severity = f.severity.value
        if f.code not in codes:
            codes.append(f.code)
        marks[number] = (severity, codes)
    if len(raw_lines) <= WHOLE_FILE_LINES:
        shown = range(1, len(raw_lines) + 1)
        partial = False
    else:
        keep = set(range(1, HEAD_LINES + 1))
        for number in marks:
            keep.update(range(max(1, number - CONTEXT), min(len(raw_lines), number + CONTEXT) + 1))
        shown = sorted(keep)
        partial = True
    lines, previous = [], 0
    for number in shown:
        body = raw_lines[number - 1]
        severity, codes = marks.get(number, (None, []))
        text = body[:MAX_LINE_CHARS]
        lines.append(SourceLine(number, text, severity, codes, gap_before=number != previous + 1,
                                cut=len(body) > MAX_LINE_CHARS,
                                parts=split_at_attributes(text, attributes.get(number, {}))))
        previous = number
    return SourceView(lines, len(raw_lines), encoding, partial=partial, finding_lines=finding_lines)


def record_line(finding: Finding, raw_lines: list[str]) -> int | None:
    """A finding that names a pipe record (``record`` 505, and ``invoice`` 2 for the second 505) but no line —
    a cross-document check's — marks that record's line (an M file part; a Data Stage part's ``R|505|…`` row)."""
    record = finding.location.get("record")
    if not isinstance(record, str) or not record.isdigit():
        return None
    try:
        wanted = int(finding.location.get("invoice") or 1)
    except (TypeError, ValueError):
        wanted = 1
    seen = 0
    for number, text in enumerate(raw_lines[:WHOLE_FILE_LINES * 10], start=1):
        if text.startswith((f"{record}|", f"R|{record}|")):
            seen += 1
            if seen == wanted:
                return number
    return None
