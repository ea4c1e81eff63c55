"""The original file as numbered lines, with the lines that findings point at marked.

Findings locate themselves by ``line`` (XML, pipe records) or ``row`` (CSV: row N is line N of
the file, the header being row 1). Small files are shown whole; in large ones only the first
lines and a window around each marked line, so the page stays light whatever the file size.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field

from gateway.findings import Finding

WHOLE_FILE_LINES = 3000
CONTEXT = 15
HEAD_LINES = 40
MAX_LINE_CHARS = 10000
_RANK = {"error": 0, "warning": 1, "info": 2}


@dataclass
class SourceLine:
    number: int
    text: str
    severity: str | None = None  # the worst finding on this line
    codes: list[str] = field(default_factory=list)
    gap_before: bool = False  # lines were left out before this one
    cut: bool = False  # the line was longer than MAX_LINE_CHARS


@dataclass
class SourceView:
    lines: list[SourceLine]
    total_lines: int
    encoding: str
    binary: bool = False
    partial: bool = False


def finding_line(finding: Finding) -> int | None:
    value = finding.location.get("line", finding.location.get("row"))
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


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
    for f in findings:
        number = finding_line(f)
        if number is None or number > len(raw_lines):
            continue
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
        lines.append(SourceLine(number, body[:MAX_LINE_CHARS], severity, codes, gap_before=number != previous + 1,
                                cut=len(body) > MAX_LINE_CHARS))
        previous = number
    return SourceView(lines, len(raw_lines), encoding, partial=partial)
