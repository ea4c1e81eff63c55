"""Streaming reader of the validation file ("M file", VOCE-SAAI M3): lines → records → pedimento blocks.

The file is read line by line; only the current pedimento block (500 … 800) is held, so memory does not
grow with the number of pedimentos. File-level rules (first record 500, a single 801 at the end, its
counts, the file name against 801.2 and the patente) are checked here; each block's own rules are checked
when the block is validated as a document of its own (``rules.check_block``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from gateway.findings import Finding, error, warning
from gateway.kinds.pedimento.layout import FILE_NAME, LAYOUTS
from gateway.limits import LimitExceeded, current

_FILE_NAME = re.compile(FILE_NAME)


@dataclass(slots=True)
class Line:
    number: int  # 1-based line number in the bytes being read
    fields: list[str]

    @property
    def record(self) -> str:
        return self.fields[0]


@dataclass
class Block:
    """One pedimento: the lines from its 500 to its 800 and their original bytes."""

    lines: list[Line]
    raw: bytes
    first_line: int
    last_line: int

    @property
    def key(self) -> tuple[str, str, str]:
        """(patente, pedimento, aduana-sección) from the 500 record (empty strings when missing)."""
        head = self.lines[0].fields if self.lines and self.lines[0].record == "500" else []
        return tuple(head[i].strip() if len(head) > i else "" for i in (2, 3, 4))  # type: ignore[return-value]


def decode(raw: bytes) -> tuple[str, bool]:
    """ASCII/UTF-8 as sent; Latin-1 as a fallback (returns whether the fallback was needed)."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("latin-1"), True


def iter_lines(data: bytes, findings: list[Finding] | None = None) -> Iterator[tuple[int, int, int, Line]]:
    """Yield (start offset, end offset, line number, Line) for every line; CRLF and a final missing newline
    are tolerated. Blank lines are reported (the format has none; the first 100) and skipped. A line longer than
    limits.max_line_length or more lines than limits.max_rows stop the reading (LimitExceeded)."""
    limits = current()
    pos, number, size, warned, blanks = 0, 0, len(data), False, 0
    while pos < size:
        end = data.find(b"\n", pos, pos + limits.max_line_length + 1)
        if end < 0 and size - pos > limits.max_line_length:
            raise LimitExceeded("max_line_length", line=number + 1)
        stop = size if end < 0 else end + 1
        number += 1
        if number > limits.max_rows:
            raise LimitExceeded("max_rows", number, line=number)
        raw = data[pos:stop].rstrip(b"\r\n")
        if not raw.strip():
            blanks += 1
            if findings is not None and blanks <= 100:
                findings.append(error("PED-LAYOUT", "Línea en blanco: el archivo de validación no admite líneas "
                                      "vacías.", line=number))
        else:
            text, fallback = decode(raw)
            if fallback and not warned and findings is not None:
                warned = True
                findings.append(warning("FILE-ENCODING", "El archivo no está en ASCII/UTF-8; se leyó como Latin-1.",
                                        line=number))
            yield pos, stop, number, Line(number, text.split("|"))
        pos = stop


@dataclass
class FileCheck:
    """What the reader learnt about the file as a whole while streaming it."""

    filename: str
    findings: list[Finding] = field(default_factory=list)
    pedimentos: int = 0
    records: int = 0
    patentes: set[str] = field(default_factory=set)
    trailer: Line | None = None


def blocks(data: bytes, check: FileCheck) -> Iterator[Block]:
    """Split an M file into pedimento blocks, checking the file-level rules into ``check.findings``."""
    current: list[Line] = []
    start = first = 0
    last_end = 0
    saw_any = False
    for begin, end, number, line in iter_lines(data, check.findings):
        record = line.record
        if not saw_any:
            saw_any = True
            if record != "500":
                check.findings.append(error("PED-SEQUENCE", f"El archivo empieza con el registro {record!r}; el "
                                            "primer registro debe ser 500 (inicio de pedimento).", line=number,
                                            record=record))
        if check.trailer is not None:
            check.findings.append(error("PED-SEQUENCE", "Hay registros después del 801: el 801 debe ser el último "
                                        "y único fin de archivo.", line=number, record=record))
            continue
        if record == "801":
            check.trailer = line
            if current:
                check.findings.append(error("PED-SEQUENCE", "El pedimento que empieza en la línea "
                                            f"{first} no termina con un registro 800.", line=first, record="500"))
                check.pedimentos += 1
                yield Block(current, data[start:last_end], first, current[-1].number)
                current = []
            continue
        check.records += 1
        if record == "500":
            if current:
                check.findings.append(error("PED-SEQUENCE", "El pedimento que empieza en la línea "
                                            f"{first} no termina con un registro 800.", line=first, record="500"))
                check.pedimentos += 1
                yield Block(current, data[start:begin], first, current[-1].number)
            current, start, first = [line], begin, number
            if len(line.fields) > 2:
                check.patentes.add(line.fields[2].strip())
        elif not current:
            check.findings.append(error("PED-SEQUENCE", f"Registro {record} fuera de un pedimento (antes de un "
                                        "500 o después de un 800).", line=number, record=record))
            continue
        else:
            current.append(line)
        last_end = end
        if record == "800":
            check.pedimentos += 1
            yield Block(current, data[start:end], first, number)
            current = []
    if current:
        check.findings.append(error("PED-SEQUENCE", f"El pedimento que empieza en la línea {first} no termina con "
                                    "un registro 800.", line=first, record="500"))
        check.pedimentos += 1
        yield Block(current, data[start:last_end], first, current[-1].number)
    _check_trailer(check)


def _check_trailer(check: FileCheck) -> None:
    trailer = check.trailer
    if trailer is None:
        check.findings.append(error("PED-SEQUENCE", "Falta el registro 801 (fin de archivo) al final del archivo; "
                                    "puede estar truncado."))
        return
    where = {"line": trailer.number, "record": "801"}
    if len(trailer.fields) != LAYOUTS["801"].arity:
        check.findings.append(error("PED-LAYOUT", f"El registro 801 tiene {len(trailer.fields)} campos; deben ser "
                                    f"{LAYOUTS['801'].arity}.", **where))
        return
    name, count, records = (trailer.fields[1].strip(), trailer.fields[2].strip(), trailer.fields[3].strip())
    if count != str(check.pedimentos) and (not count.isdigit() or int(count) != check.pedimentos):
        check.findings.append(error("PED-SEQUENCE", f"El 801 declara {count or 'ningún'} pedimento(s) y el archivo "
                                    f"contiene {check.pedimentos}.", field=3, **where))
    if not records.isdigit() or int(records) != check.records:
        check.findings.append(error("PED-SEQUENCE", f"El 801 declara {records or 'ningún'} registro(s) y el archivo "
                                    f"contiene {check.records} (sin contar el 801).", field=4, **where))
    if not _FILE_NAME.match(name):
        check.findings.append(error("PED-LAYOUT", f"El nombre de archivo del 801 ({name!r}) no tiene la forma "
                                    "mPPPPNNN.DDD.", field=2, **where))
        return
    base = check.filename.rsplit("/", 1)[-1].split("#", 1)[0].strip()
    if _FILE_NAME.match(base) and base.lower() != name.lower():
        check.findings.append(error("PED-LAYOUT", f"El archivo se llama {base} pero su registro 801 dice {name}.",
                                    field=2, **where))
    patente = name[1:5]
    others = sorted(p for p in check.patentes if p.zfill(4) != patente)
    if others:
        check.findings.append(error("PED-NUMBER", f"La patente del nombre de archivo ({patente}) no coincide con la "
                                    f"de sus pedimentos ({', '.join(others)}).", field=2, **where))
    julian = int(name[-3:])
    if not 1 <= julian <= 366:
        check.findings.append(error("PED-LAYOUT", f"La extensión .{name[-3:]} no es un día juliano (001–366).",
                                    field=2, **where))


def read_block(data: bytes, findings: list[Finding]) -> list[Line]:
    """The lines of one pedimento's bytes (a part carved out of an M file, or a single-pedimento file)."""
    return [line for _, _, _, line in iter_lines(data, findings)]
