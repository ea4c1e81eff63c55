"""What ``validate`` prints for each file and part, rendered where the document was checked.

Why here and not at the end of ``validate``: rendering an invoice's entry as indented JSON costs about as
much as a third of checking it (``json`` has no C path for ``indent``), so each worker renders the entries of
the files it checked and the gateway process only writes the text in order — as it comes, so that memory stays
flat however many files there are. The bytes are exactly those of ``json.dumps(entries, ensure_ascii=False,
indent=2)`` over the whole list, and of the text lines, as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from json.encoder import INFINITY
from json.encoder import encode_basestring as _string  # json's own (C) string encoder, as ensure_ascii=False uses
from typing import Any, Protocol, TextIO

from gateway.findings import Finding


class Validation(Protocol):
    """What an entry shows of a ``gateway.library.Validation`` (named here, not imported: library renders here)."""

    @property
    def kind(self) -> str | None: ...
    @property
    def findings(self) -> list[Finding]: ...
    @property
    def record(self) -> dict[str, Any] | None: ...
    @property
    def label(self) -> str: ...
    @property
    def parts(self) -> Sequence[Validation]: ...


def entry(filename: str, outcome: Validation) -> dict[str, Any]:
    """One file's (or part's) own verdict: a container's parts are judged on their own entries."""
    return {"filename": filename, "kind": outcome.kind,
            "valid": all(f.severity.value != "error" for f in outcome.findings),
            "findings": [f.to_dict() for f in outcome.findings], "record": outcome.record}


def unreadable(filename: str, strerror: str | None) -> dict[str, Any]:
    return {"filename": filename, "kind": None, "valid": False, "findings": [
        {"code": "FILE-UNREADABLE", "severity": "error", "message": f"No se pudo leer: {strerror}",
         "location": {}}], "record": None}


def entries(filename: str, outcome: Validation) -> Iterator[dict[str, Any]]:
    """The file's entry, then one per part (``file#n label``)."""
    yield entry(filename, outcome)
    for number, part in enumerate(outcome.parts, start=1):
        yield entry(f"{filename}#{number} {part.label}".rstrip(), part)


def render(item: dict[str, Any], as_json: bool) -> str:
    """An entry as it appears in the output: a JSON list item (indented one level, no separator) or text lines."""
    if as_json:
        return item_json(item)
    verdict = "VÁLIDO" if item["valid"] else "RECHAZADO"
    lines = [f"{shown(item['filename'])}: {verdict} ({item['kind'] or 'tipo desconocido'})"]
    lines.extend("  " + finding_line(Finding.from_dict(f)) for f in item["findings"])
    return "\n".join(lines)


def item_json(item: Any) -> str:
    """``item`` as an element of a list dumped by ``json.dumps(…, ensure_ascii=False, indent=2)``: the same
    characters, about twice as fast for the plain dicts, lists, strings and numbers entries hold. Anything else
    (a key that is not a string, a subclass, a cycle) is left to ``json`` itself, which decides as before."""
    out: list[str] = []
    try:
        _encode(item, 1, out)
    except (_Unusual, RecursionError):  # JSON strings hold no raw line break: indenting every line indents the item
        return json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n  ")
    return "".join(out)


class _Unusual(Exception):
    """A value ``_encode`` leaves to ``json``."""


_INDENTS = ["\n" + "  " * level for level in range(64)]


def _encode(value: Any, level: int, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(_string(value))
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        if level >= 62:
            raise _Unusual
        inner = _INDENTS[level + 1]
        separator = "{" + inner
        for key, inside in value.items():
            if type(key) is not str:
                raise _Unusual
            if type(inside) is str:  # the common case, without a call
                out.append(separator + _string(key) + ": " + _string(inside))
            elif inside is None:
                out.append(separator + _string(key) + ": null")
            else:
                out.append(separator + _string(key) + ": ")
                _encode(inside, level + 1, out)
            separator = "," + inner
        out.append(_INDENTS[level] + "}")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is float:
        out.append("NaN" if value != value else "Infinity" if value == INFINITY
                   else "-Infinity" if value == -INFINITY else float.__repr__(value))
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return
        if level >= 62:
            raise _Unusual
        inner = _INDENTS[level + 1]
        separator = "[" + inner
        for inside in value:
            out.append(separator)
            _encode(inside, level + 1, out)
            separator = "," + inner
        out.append(_INDENTS[level] + "]")
    else:
        raise _Unusual


class Writer:
    """Rendered entries written in order: ``[``, items separated by ``,``, ``]`` for JSON; lines for text."""

    def __init__(self, stream: TextIO, as_json: bool) -> None:
        self.stream, self.as_json, self.count = stream, as_json, 0

    def write(self, rendered: str) -> None:
        if self.as_json:
            self.stream.write(("[\n  " if self.count == 0 else ",\n  ") + rendered)
        else:
            self.stream.write(rendered + "\n")
        self.count += 1

    def close(self) -> None:
        if self.as_json:
            self.stream.write("\n]\n" if self.count else "[]\n")
        self.stream.flush()


def shown(name: str) -> str:
    """A file name as a terminal may print it: control characters (a newline, ESC sequences) escaped."""
    return "".join(c if c.isprintable() or c == " " else ascii(c)[1:-1] for c in name)


def finding_line(f: Finding) -> str:
    where = ", ".join(f"{k} {v}" for k, v in f.location.items()
                      if k in ("line", "column", "record", "field", "row", "sheet", "cell", "key"))
    xpath = f.location.get("xpath")
    sat = f" [{f.sat_code}]" if f.sat_code else ""
    text = f"{f.severity.value.upper():7} {f.code}{sat}: {f.message}"
    if where:
        text += f"  ({where})"
    if xpath:
        text += f"\n          en {xpath}"
    return text
