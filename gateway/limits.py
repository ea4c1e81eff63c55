"""Limits on everything an input can make grow, checked while streaming (``[limits]``, docs/limits.md).

A file is at most ``validation.max_file_size`` bytes, but what it expands to is not: a ZIP member, an
XLSX sheet, a line, a JSON nesting, a number's digits. Every reader asks :func:`current` for these limits
and stops at the first one exceeded with a ``LIMIT`` finding that names the key, so a hostile file costs
bounded memory and time and never stops the files after it. One process has one set of limits (set from
the configuration at start-up, like logging); the defaults fit real exports with a wide margin.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from typing import Any

from gateway.findings import Finding, error


@dataclass(frozen=True)
class Limits:
    #: bytes an archive (Data Stage ZIP, XLSX) may expand to, all members together
    max_expanded_size: int = 512 * 1024 ** 2
    #: expanded size / compressed size of one archive member (a deflate bomb reaches 1000 and more)
    max_compression_ratio: int = 200
    #: members of one archive (a Data Stage set has 26 files, an XLSX a few dozen parts)
    max_archive_members: int = 1000
    #: bytes in one line of a text file (CSV, JSON Lines, Data Stage .asc, M file)
    max_line_length: int = 1024 ** 2
    #: records of one file (ERP rows, Data Stage rows, M-file lines, XLSX rows)
    max_rows: int = 2_000_000
    #: nesting of JSON arrays and objects (XML: lxml's own limit of 256 levels)
    max_nesting_depth: int = 64
    #: digits of one number (ERP amounts and quantities, JSON numbers)
    max_number_digits: int = 30
    #: distinct strings in an XLSX shared-strings table
    max_shared_strings: int = 1_000_000
    #: columns of an XLSX sheet (Excel's own maximum is 16,384)
    max_sheet_columns: int = 1000
    #: rows of an XLSX sheet, counted on the compressed bytes before reading (Excel's own maximum)
    max_sheet_rows: int = 1_048_576
    #: entries of a ZIP of documents (SAT bulk download, broker expediente), nested ZIPs included
    max_container_entries: int = 200_000
    #: expanded bytes of one entry of a ZIP of documents
    max_container_entry_size: int = 512 * 1024 ** 2
    #: expanded bytes of a whole ZIP of documents, nested ones included
    max_container_size: int = 8 * 1024 ** 3
    #: ZIP inside ZIP inside ZIP of documents
    max_container_depth: int = 3


DEFAULTS = Limits()
_current = DEFAULTS

#: what each key means, in the words of the finding (Spanish first)
DESCRIPTIONS = {
    "max_expanded_size": "tamaño expandido del archivo comprimido",
    "max_compression_ratio": "razón de compresión de un miembro del ZIP",
    "max_archive_members": "número de archivos dentro del ZIP",
    "max_line_length": "longitud de una línea",
    "max_rows": "número de filas o registros",
    "max_nesting_depth": "profundidad de anidamiento",
    "max_number_digits": "dígitos de un número",
    "max_shared_strings": "cadenas compartidas del libro XLSX",
    "max_sheet_columns": "columnas de una hoja XLSX",
    "max_sheet_rows": "filas de una hoja XLSX",
    "max_container_entries": "número de documentos dentro del ZIP",
    "max_container_entry_size": "tamaño expandido de un documento dentro del ZIP",
    "max_container_size": "tamaño expandido del ZIP de documentos",
    "max_container_depth": "niveles de ZIP dentro de ZIP",
}

#: the sizes, given as ``"512MiB"`` or a number of bytes
_SIZES = {"max_expanded_size", "max_container_entry_size", "max_container_size"}

def current() -> Limits:
    return _current


def configure(limits: Limits) -> None:
    global _current
    _current = limits


@contextlib.contextmanager
def configured(limits: Limits) -> Iterator[Limits]:
    """Tests: run a block under other limits."""
    previous = _current
    configure(limits)
    try:
        yield limits
    finally:
        configure(previous)


def exceeded(key: str, found: int | str | None = None, **location: Any) -> Finding:
    """The LIMIT finding for one exceeded key (the message names the ``[limits]`` key to raise)."""
    value = getattr(_current, key)
    seen = f" ({found:,})" if isinstance(found, int) else f" ({found})" if found else ""
    return error("LIMIT", f"El archivo excede el límite de {DESCRIPTIONS[key]}{seen}: el máximo configurado "
                          f"(limits.{key}) es {value:,}. / The file exceeds limits.{key} = {value:,}.",
                 limit=key, **location)


class LimitExceeded(Exception):
    """Raised deep inside a reader; the reader's entry point turns it into its finding."""

    def __init__(self, key: str, found: int | str | None = None, **location: Any) -> None:
        self.finding = exceeded(key, found, **location)
        super().__init__(self.finding.message)


def from_table(table: dict[str, Any]) -> Limits:
    """``[limits]`` → Limits; unknown keys and non-positive values are refused naming the key."""
    from gateway.config import parse_size
    from gateway.errors import ConfigError

    known = {f.name for f in fields(Limits)}
    values: dict[str, int] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"limits.{key}: unknown key (known: {', '.join(sorted(known))})")
        number = parse_size(value, f"limits.{key}") if key in _SIZES else value
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise ConfigError(f"limits.{key}: must be a whole number ≥ 1")
        values[key] = number
    return replace(DEFAULTS, **values)
