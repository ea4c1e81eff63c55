"""Anexo 22 appendices from an operator's file: the gateway's own JSON form, a sheet of SAT's layout, or a CSV.

The JSON form is the one the gateway ships (``gateway/kinds/pedimento/catalogs/*.json``: catalog, title,
appendix, valid_from, source, complete, values, optionally published), so an operator can take an updated
file as it is. A sheet or CSV holds one appendix, named by its sheet (or file) name or by a title row
("Apéndice 2 Claves de pedimento"), with a key column ("Clave") and a description column ("Descripción"); its
header may carry "Fecha de publicación" and "Vigente a partir de" (else the date in the file name), and it is
SAT's whole appendix, so it is imported as complete. Every key is held to its appendix's format; anything
wrong is a ``CatalogFileError`` naming the file, the sheet, the column and the row (the field and key in JSON).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.kinds.satcatalogs.appendix_layouts import APPENDICES, AppendixLayout, appendix_of, normal_key
from gateway.kinds.satcatalogs.layouts import plain
from gateway.kinds.satcatalogs.parse import cell_text, date_in_name, header_value, to_date
from gateway.kinds.satcatalogs.workbook import CatalogFileError, Sheet

_HEADER_SCAN = 20
_TITLE_ROWS = 6  # a title row naming the appendix stands above the column names
_MAX_TEXT = 64 * 1024 * 1024  # a JSON or CSV appendix is a few KiB; anything this big is not one
_PUBLISHED = ("fechadepublicacion", "fechapublicacion", "publicacion", "fechadeactualizacion")
_VALID_FROM = ("vigenteapartirde", "vigentedesde", "fechadeiniciodevigencia", "iniciodevigencia", "entradaenvigor")
KNOWN = ", ".join(f"{layout.appendix} {name}" for name, layout in APPENDICES.items())


@dataclass
class Appendix:
    """One appendix as the pedimento checks read it, with where it came from."""

    name: str
    title: str
    appendix: str
    valid_from: dt.date
    published: dt.date
    version: str
    source: str
    complete: bool
    values: dict[str, str]
    file: str


def layout_of_sheet(sheet: Sheet) -> tuple[AppendixLayout | None, str | None]:
    """The appendix a sheet holds, by its name or a title row above the columns; see ``appendix_of``."""
    found = appendix_of(sheet.name)
    if found != (None, None):
        return found
    for row in sheet.rows[:_TITLE_ROWS]:
        for cell in row:
            if isinstance(cell, str) and plain(cell).startswith(("apendice", "anexo22apendice")):
                layout, number = appendix_of(cell)
                if number is not None:
                    return layout, number
    return None, None


def from_sheet(layout: AppendixLayout, sheet: Sheet, file_name: str, place: str) -> Appendix:
    """The appendix of ``layout`` in ``sheet`` (``place``: "hoja X" for a workbook, "CSV" for a CSV file)."""
    head, key_col, text_col, first = _header(layout, sheet, place)
    published = _header_date(head, _PUBLISHED, place) or date_in_name(file_name)
    if published is None:
        raise CatalogFileError(f"{place}: sin fecha de publicación en el encabezado ('Fecha de publicación') ni en el "
                               "nombre del archivo (AAAAMMDD) / no publication date in the header or the file name")
    valid_from = _header_date(head, _VALID_FROM, place) or published
    version = header_value(head, ("version",))
    values: dict[str, str] = {}
    for number, row in enumerate(sheet.rows[first:], start=first + 1):
        raw = row[key_col] if key_col < len(row) else None
        if raw in (None, ""):
            continue
        key = _key_text(layout, raw)
        if not layout.pattern.fullmatch(key):
            raise CatalogFileError(
                f"{place}, fila {number}, columna {sheet.rows[first - 1][key_col]}: la clave '{key[:40]}' no tiene el "
                f"formato del apéndice {layout.appendix} ({layout.name}) / key does not match {layout.key_format}")
        text = row[text_col] if text_col < len(row) else None
        values.setdefault(normal_key(layout, key), cell_text(text) if text not in (None, "") else "")
    if not values:
        raise CatalogFileError(f"{place}: sin filas / no rows")
    return Appendix(layout.name, layout.title, layout.appendix, valid_from, published,
                    cell_text(version) if version is not None else "", f"{file_name} ({place})", True, values,
                    file_name)


def _header(layout: AppendixLayout, sheet: Sheet, place: str) -> tuple[list[list[Any]], int, int, int]:
    """(rows above the column names, key column, description column, index of the first data row)."""
    keys = [plain(k) for k in layout.keys]
    for index, row in enumerate(sheet.rows[:_HEADER_SCAN]):
        names = [plain(str(v)) if v is not None else "" for v in row]
        key_col = _column(names, keys, "clave")
        if key_col is None:
            continue
        text_col = _column(names, [plain(d) for d in layout.descriptions], "descripcion")
        if text_col is None and names[key_col] not in keys:
            continue  # a title such as "Claves de pedimento", not the row of column names
        if text_col is None:
            raise CatalogFileError(
                f"{place}, fila {index + 1}: falta la columna / missing column '{layout.descriptions[0]}' "
                f"(columnas / columns: {', '.join(str(v) for v in row if v not in (None, ''))})")
        return sheet.rows[:index], key_col, text_col, index + 1
    raise CatalogFileError(f"{place}: no se encontró la fila de columnas con '{layout.keys[0]}' en las primeras "
                           f"{_HEADER_SCAN} filas (apéndice {layout.appendix}, {layout.name}) / header row with "
                           f"'{layout.keys[0]}' not found")


def _column(names: list[str], spellings: list[str], prefix: str) -> int | None:
    """The column spelled as one of ``spellings`` (in their order), else the first whose name starts with
    ``prefix`` ("Clave de pedimento", "Descripción de la unidad")."""
    exact = next((names.index(s) for s in spellings if s in names), None)
    return exact if exact is not None else next((i for i, n in enumerate(names) if n.startswith(prefix)), None)


def _header_date(head: list[list[Any]], labels: tuple[str, ...], place: str) -> dt.date | None:
    value = header_value(head, labels)
    if value in (None, ""):
        return None
    day = to_date(value)
    if day is None:
        raise CatalogFileError(f"{place}: fecha ilegible en el encabezado / unreadable date in the header '{value}'")
    return day


def _key_text(layout: AppendixLayout, value: Any) -> str:  # noqa: ANN401
    """A key cell as text; a number keeps the zeros its appendix's keys have (an aduana typed as 1 is '01')."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).zfill(2) if layout.name == "aduanas" else str(value)
    return str(value).strip()


def read_csv(path: Path) -> Sheet:
    """A CSV file as one sheet named after the file (UTF-8, or Windows-1252 as SAT's tools write it; the
    delimiter is guessed among , ; | and tab)."""
    raw = _bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;|\t")
    except csv.Error:
        dialect = csv.excel
    rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text), dialect)]
    for row in rows:
        while row and row[-1] == "":
            row.pop()
    return Sheet(path.stem, rows)


def from_json(path: Path) -> Appendix:
    """An appendix in the gateway's own JSON form, every field and key checked."""
    try:
        raw = json.loads(_bytes(path).decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogFileError(f"{path}: no es JSON válido / not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise CatalogFileError(f"{path}: se esperaba un objeto JSON con 'catalog' y 'values' / expected an object")
    name = raw.get("catalog")
    layout = APPENDICES.get(name) if isinstance(name, str) else None
    if layout is None:
        raise CatalogFileError(f"{path.name}: apéndice desconocido / unknown appendix 'catalog': {name!r} "
                               f"(conocidos / known: {KNOWN})")
    fields: dict[str, str] = {}
    for field in ("title", "appendix", "valid_from", "source"):
        value = raw.get(field)
        if not isinstance(value, str) or not value.strip():
            raise CatalogFileError(f"{path.name}, campo / field '{field}': falta o no es texto / missing or not text")
        fields[field] = value
    if fields["appendix"] != layout.appendix:
        raise CatalogFileError(f"{path.name}, campo / field 'appendix': '{fields['appendix']}', pero {name} es el "
                               f"apéndice {layout.appendix} / {name} is appendix {layout.appendix}")
    valid_from = _iso(path, "valid_from", raw["valid_from"])
    published = _iso(path, "published", raw["published"]) if raw.get("published") is not None else valid_from
    if not isinstance(raw.get("complete"), bool):
        raise CatalogFileError(f"{path.name}, campo / field 'complete': debe ser true o false / must be a boolean")
    values = raw.get("values")
    if not isinstance(values, dict) or not values:
        raise CatalogFileError(f"{path.name}, campo / field 'values': se esperaba un objeto clave -> descripción no "
                               "vacío / expected a non-empty object of key -> description")
    checked: dict[str, str] = {}
    for key, text in values.items():
        if not layout.pattern.fullmatch(key) or not isinstance(text, str):
            raise CatalogFileError(f"{path.name}, campo / field 'values', clave '{key[:40]}': no tiene el formato "
                                   f"del apéndice {layout.appendix} ({layout.name}) o su descripción no es texto / "
                                   f"key does not match {layout.key_format} or its description is not text")
        checked.setdefault(normal_key(layout, key), text)
    version = raw.get("version")
    return Appendix(layout.name, fields["title"], layout.appendix, valid_from, published,
                    version if isinstance(version, str) else "", fields["source"], raw["complete"], checked, path.name)


def _iso(path: Path, field: str, value: Any) -> dt.date:  # noqa: ANN401
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else _bad_date(path, field, value)
    except ValueError:
        return _bad_date(path, field, value)


def _bad_date(path: Path, field: str, value: Any) -> dt.date:  # noqa: ANN401
    raise CatalogFileError(f"{path.name}, campo / field '{field}': fecha ilegible (AAAA-MM-DD) / unreadable date "
                           f"{str(value)[:40]!r}")


def _bytes(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_TEXT + 1)
    except OSError as exc:
        raise CatalogFileError(f"{path}: no se puede leer / cannot be read: {exc.strerror or exc}") from None
    if len(data) > _MAX_TEXT:
        raise CatalogFileError(f"{path}: demasiado grande para ser un apéndice / too large for an appendix")
    return data
