"""The queue view as a file an operations team opens in Excel: CSV (UTF-8 with a BOM, so Excel on Windows reads
the accents) and XLSX (openpyxl, write-only: rows are streamed into the workbook, not kept as cells).

Both hold exactly what the page shows for the same filters and sort, on every page of it: local times (a real
date-time cell in XLSX), Spanish (or English) headers and states, the first error as the page words it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import Any

from gateway.web.i18n import label, state_label
from gateway.web.localtime import LocalTime
from gateway.web.wording import for_operator

COLUMNS = ("received_local", "kind", "source", "filename", "first_error", "findings", "state", "assigned_to",
           "document")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def headers(lang: str) -> list[str]:
    return [label(lang, key) for key in COLUMNS]


def _cells(row: dict[str, Any], lang: str, clock: LocalTime) -> list[Any]:
    state: Callable[[str], str] = lambda s: state_label(lang, s)  # noqa: E731
    return [clock.local(row["received_at"]), row.get("kind") or "", row.get("source") or "", row["filename"],
            for_operator(row.get("first_error") or "", lang, state), row.get("finding_count", 0),
            state_label(lang, row["state"]), row.get("assigned_to") or "", row["id"]]


def to_csv(rows: Iterable[dict[str, Any]], lang: str, clock: LocalTime) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers(lang))
    for row in rows:
        cells = _cells(row, lang, clock)
        cells[0] = clock.show(row["received_at"], seconds=True)
        writer.writerow(cells)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: Iterable[dict[str, Any]], lang: str, clock: LocalTime) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(label(lang, "queue")[:31])
    sheet.append(headers(lang))
    for row in rows:
        cells = _cells(row, lang, clock)
        when = WriteOnlyCell(sheet, value=cells[0].replace(tzinfo=None) if cells[0] else None)
        when.number_format = "dd/mm/yyyy hh:mm:ss"
        sheet.append([when, *cells[1:]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
