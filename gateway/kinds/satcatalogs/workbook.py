"""A spreadsheet's sheets as rows of plain values: SAT's ``.xls`` (BIFF8, through xlrd) or an ``.xlsx`` (openpyxl).

Dates come back as ``datetime.date`` whichever the format (xlrd gives serial numbers, converted with the
workbook's date mode). A damaged or foreign file is a ``CatalogFileError`` naming the file, never a library's
traceback; an .xlsx is held to ``[limits]`` (members, expanded size, ratio) before it is unpacked.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway import zipcheck
from gateway.errors import ReferenceDataError

_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2 compound document (BIFF8 .xls)
_ZIP_MAGIC = b"PK\x03\x04"


class CatalogFileError(ReferenceDataError, ValueError):
    """A catalog file cannot be imported; the message names the file, and the sheet and column when it can."""


@dataclass
class Sheet:
    name: str
    rows: list[list[Any]]


def read(path: Path) -> list[Sheet]:
    """Every sheet of the workbook at ``path``, with its rows (trailing empty cells dropped)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise CatalogFileError(f"{path}: no se puede leer / cannot be read: {exc.strerror or exc}") from None
    if head == _XLS_MAGIC:
        return _read_xls(path)
    if head[:4] == _ZIP_MAGIC:
        return _read_xlsx(path)
    raise CatalogFileError(f"{path}: no es una hoja de cálculo .xls ni .xlsx / not an .xls or .xlsx spreadsheet")


def _read_xls(path: Path) -> list[Sheet]:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except Exception as exc:  # noqa: BLE001 - xlrd raises many types on damaged files; each is the same answer
        raise CatalogFileError(f"{path}: archivo .xls dañado / damaged .xls file: {_first_line(exc)}") from None
    sheets = []
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            rows = []
            for r in range(sheet.nrows):
                row = []
                for cell in sheet.row(r):
                    value: Any = cell.value
                    if cell.ctype == xlrd.XL_CELL_DATE:
                        try:
                            value = xlrd.xldate.xldate_as_datetime(value, book.datemode).date()
                        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                            value = None
                    elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                        value = None
                    row.append(value)
                rows.append(_trim(row))
            sheets.append(Sheet(sheet.name, rows))
            book.unload_sheet(index)
    except Exception as exc:  # noqa: BLE001
        raise CatalogFileError(f"{path}: archivo .xls dañado / damaged .xls file: {_first_line(exc)}") from None
    finally:
        book.release_resources()
    return sheets


def _read_xlsx(path: Path) -> list[Sheet]:
    import openpyxl

    with path.open("rb") as handle:  # a handle, not the name: openpyxl judges a name by its extension
        try:
            with zipfile.ZipFile(handle) as archive:  # [limits] before one byte is unpacked (a ZIP bomb)
                refused = zipcheck.check(archive, "el libro XLSX")
            if refused is not None:
                raise CatalogFileError(f"{path}: {refused.message}")
            handle.seek(0)
            book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except CatalogFileError:
            raise
        except Exception as exc:  # noqa: BLE001 - zipfile, XML and openpyxl errors on damaged files: one answer
            raise CatalogFileError(f"{path}: archivo .xlsx dañado / damaged .xlsx file: {_first_line(exc)}") from None
        try:
            sheets = []
            for sheet in book.worksheets:
                rows = [_trim([_cell(v) for v in row]) for row in sheet.iter_rows(values_only=True)]
                sheets.append(Sheet(sheet.title, rows))
            return sheets
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many types on damaged files
            raise CatalogFileError(f"{path}: archivo .xlsx dañado / damaged .xlsx file: {_first_line(exc)}") from None
        finally:
            book.close()


def _cell(value: Any) -> Any:  # noqa: ANN401
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _trim(row: list[Any]) -> list[Any]:
    while row and (row[-1] is None or row[-1] == ""):
        row.pop()
    return row


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def iter_nonempty(rows: list[list[Any]]) -> Iterator[tuple[int, list[Any]]]:
    """(1-based row number, row) for every row with a value."""
    for number, row in enumerate(rows, start=1):
        if any(v not in (None, "") for v in row):
            yield number, row
