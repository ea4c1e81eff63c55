"""One SAT catalog from its sheet(s): the header's version and publication date, then every row, checked.

SAT's sheets start with a few header rows (title, "Versión", "Revisión", "Fecha de publicación"…), then the
row of column names, whose key column is named as the catalog (``c_Moneda``), then the data. The header row is
found by that name; every column the layout needs must be in it, every key must have the catalog's format,
and every validity date must be a date. Anything else is a ``CatalogFileError`` naming the sheet, the row and
the column: SAT changes layouts, and a silently misread catalog would reject (or let through) real invoices.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from gateway.kinds.satcatalogs.layouts import END, LAYOUTS, START, Layout, plain
from gateway.kinds.satcatalogs.workbook import CatalogFileError, Sheet

_HEADER_SCAN = 20  # the column names are within the first rows of every SAT sheet
_FILE_DATE = re.compile(r"(20[0-9]{2})([01][0-9])([0-3][0-9])")
_DAY_FIRST = re.compile(r"^\s*([0-3]?[0-9])[/.-]([01]?[0-9])[/.-]([0-9]{4})\s*$")
_ISO = re.compile(r"^\s*([0-9]{4})-([01][0-9])-([0-3][0-9])")


@dataclass
class Entry:
    start: dt.date | None
    end: dt.date | None
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class ParsedCatalog:
    name: str
    file: str
    version: str
    published: dt.date
    entries: dict[tuple[str, ...], Entry] = field(default_factory=dict)


def parse_catalog(layout: Layout, sheets: list[Sheet], file_name: str) -> ParsedCatalog:
    """The catalog of ``layout`` from its sheets (one, or SAT's ``_Parte_N`` pieces, in order)."""
    version, published = "", None
    entries: dict[tuple[str, ...], Entry] = {}
    for number, sheet in enumerate(sheets):
        head, columns, first = _header(layout, sheet)
        if number == 0:
            version, published = _version(head), _published(head, sheet)
        _rows(layout, sheet, columns, first, entries)
    if published is None:
        match = _FILE_DATE.search(file_name)
        if match is None or not _valid(*match.groups()):
            raise CatalogFileError(
                f"{file_name}, hoja {sheets[0].name}: sin fecha de publicación en el encabezado ni en el nombre del "
                "archivo (catCFDI_V_4_AAAAMMDD.xls) / no publication date in the sheet header or the file name")
        published = dt.date(*map(int, match.groups()))
    if not entries:
        raise CatalogFileError(f"{file_name}, hoja {sheets[0].name}: sin filas / no rows")
    return ParsedCatalog(layout.name, file_name, version, published, entries)


def _header(layout: Layout, sheet: Sheet) -> tuple[list[list[Any]], dict[str, int], int]:
    """(rows above the column names, column name -> index, index of the first data row)."""
    key = plain(layout.keys[0])
    for index, row in enumerate(sheet.rows[:_HEADER_SCAN]):
        names = [plain(str(v)) if v is not None else "" for v in row]
        if key not in names:
            continue
        columns: dict[str, int] = {}
        wanted = [(k, (k,)) for k in layout.keys] + list(layout.values)
        wanted += [("start", START), ("end", END)]
        for name, spellings in wanted:
            found = next((names.index(plain(s)) for s in spellings if plain(s) in names), None)
            if found is not None:
                columns[name] = found
            elif name in layout.keys or (name not in ("start", "end") and name not in layout.optional):
                raise CatalogFileError(
                    f"hoja {sheet.name}, fila {index + 1}: falta la columna / missing column '{spellings[0]}' "
                    f"(columnas / columns: {', '.join(str(v) for v in row if v is not None)})")
        return sheet.rows[:index], columns, index + 1
    raise CatalogFileError(f"hoja {sheet.name}: no se encontró la fila de columnas con '{layout.keys[0]}' en las "
                           f"primeras {_HEADER_SCAN} filas / header row with '{layout.keys[0]}' not found")


def _labelled(head: list[list[Any]], labels: tuple[str, ...]) -> Any:  # noqa: ANN401
    """The value of a header cell whose text starts with one of ``labels``: the cell under it when the labels
    stand in a row of their own (the cell to the right is another label), else the one to its right."""
    for r, row in enumerate(head):
        for c, cell in enumerate(row):
            if not isinstance(cell, str) or not any(plain(cell).startswith(label) for label in labels):
                continue
            right = next((v for v in row[c + 1:] if v not in (None, "")), None)
            below = head[r + 1][c] if r + 1 < len(head) and c < len(head[r + 1]) else None
            if below not in (None, "") and (right is None or _label_like(right)):
                return below
            if right is not None:
                return right
    return None


def _label_like(value: Any) -> bool:  # noqa: ANN401
    """A header word ('Revisión'), not a value ('4.0', a date)."""
    return isinstance(value, str) and not any(ch.isdigit() for ch in value)


def _version(head: list[list[Any]]) -> str:
    version = _labelled(head, ("version",))
    revision = _labelled(head, ("revision",))
    text = _text(version) if version is not None else ""
    if revision is not None:
        text = f"{text} rev. {_text(revision)}".strip()
    return text


def _published(head: list[list[Any]], sheet: Sheet) -> dt.date | None:
    value = _labelled(head, ("fechadepublicacion", "fechapublicacion", "fechadeactualizacion", "publicacion"))
    if value is None:
        return None
    day = _date(value)
    if day is None:
        raise CatalogFileError(f"hoja {sheet.name}: fecha de publicación ilegible / unreadable publication date "
                               f"'{value}'")
    return day


def _rows(layout: Layout, sheet: Sheet, columns: dict[str, int], first: int,
          entries: dict[tuple[str, ...], Entry]) -> None:
    patterns = [layout.key_pattern(i) for i in range(len(layout.keys))]
    for number, row in enumerate(sheet.rows[first:], start=first + 1):
        raw_key = _at(row, columns[layout.keys[0]])
        if raw_key in (None, ""):
            continue  # a blank row, or the second line of a two-row header
        key = []
        for i, name in enumerate(layout.keys):
            value = _key_text(_at(row, columns[name]), layout.width(i))
            if not patterns[i].fullmatch(value):
                raise CatalogFileError(f"hoja {sheet.name}, fila {number}, columna {name}: la clave '{value[:40]}' no "
                                       f"tiene el formato del catálogo / key does not match {layout.formats[i]}")
            key.append(value)
        start = _cell_date(row, columns.get("start"), sheet, number, START[0])
        end = _cell_date(row, columns.get("end"), sheet, number, END[0])
        values = {name: _key_text(_at(row, columns[name]), _value_width(name))
                  for name, _ in layout.values if name in columns}
        entries.setdefault(tuple(key), Entry(start, end, values))


def _value_width(column: str) -> int | None:
    """A column holding another catalog's key (c_Municipio in c_CodigoPostal) gets that key's zeros back too."""
    other = LAYOUTS.get(column)
    return other.width(0) if other is not None else None


def _cell_date(row: list[Any], index: int | None, sheet: Sheet, number: int, column: str) -> dt.date | None:
    if index is None:
        return None
    value = _at(row, index)
    if value in (None, ""):
        return None
    day = _date(value)
    if day is None:
        raise CatalogFileError(f"hoja {sheet.name}, fila {number}, columna {column}: fecha ilegible / unreadable "
                               f"date '{str(value)[:40]}'")
    return day


def _at(row: list[Any], index: int) -> Any:  # noqa: ANN401
    return row[index] if index < len(row) else None


def _key_text(value: Any, width: int | None) -> str:  # noqa: ANN401
    """A key as text: a whole number stored as such (the cell '01' typed as 1) gets its zeros back."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).zfill(width or 0)
    return str(value).strip()


def _text(value: Any) -> str:  # noqa: ANN401
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _date(value: Any) -> dt.date | None:  # noqa: ANN401
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        match = _DAY_FIRST.match(value)
        if match and _valid(match.group(3), match.group(2), match.group(1)):
            return dt.date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        match = _ISO.match(value)
        if match and _valid(*match.groups()):
            return dt.date(*map(int, match.groups()))
    return None


def _valid(year: str, month: str, day: str) -> bool:
    try:
        dt.date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


# shared with ``appendices``: Anexo 22 sheets carry the same kind of header ------------------------------------

def header_value(head: list[list[Any]], labels: tuple[str, ...]) -> Any:  # noqa: ANN401
    """The value labelled by one of ``labels`` (plain spelling prefixes) in a sheet's header rows, or None."""
    return _labelled(head, labels)


def to_date(value: Any) -> dt.date | None:  # noqa: ANN401
    """A cell as a date (a date, "15/01/2026" or "2026-01-15"), else None."""
    return _date(value)


def cell_text(value: Any) -> str:  # noqa: ANN401
    return _text(value)


def date_in_name(file_name: str) -> dt.date | None:
    """The AAAAMMDD date in a file name (catCFDI_V_4_20260115.xls), if any."""
    match = _FILE_DATE.search(file_name)
    return dt.date(*map(int, match.groups())) if match and _valid(*match.groups()) else None
