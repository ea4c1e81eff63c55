"""Readers for ERP exports: CSV, XLSX, XML and JSON, each streaming one record at a time.

A reader opens a binary stream, checks that the export fits the mapping (columns, sheet, record element)
and hands out getters: ``getter(ref)`` returns a function that takes a record and returns the raw value of
that column / position / XPath / path. Memory stays flat however long the export is: CSV and JSON Lines are
read line by line, XLSX through openpyxl's read-only mode, XML through a hardened ``iterparse`` that frees
each record once it has been read. Only a JSON document that is not JSON Lines is loaded whole.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import operator
import re
from collections import deque
from collections.abc import Callable, Iterator
from typing import IO, Any

from lxml import etree

from gateway import xmlsafe, zipcheck
from gateway.findings import Finding, error
from gateway.kinds.erp.mapping import Source
from gateway.limits import current, exceeded

Getter = Callable[[Any], Any]


class SourceProblem(Exception):
    """The export cannot be read with this mapping (ERP-MAPPING) or at all (FILE-ENCODING, XML-…)."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


class RowProblem(Exception):
    """One record cannot be read (wrong number of columns, a JSON line that does not parse)."""


class Reader:
    """``records()`` yields (row number, record); getters read values from a record."""

    def getter(self, ref: str | int) -> Getter:
        raise NotImplementedError

    def records(self) -> Iterator[tuple[int, Any]]:
        raise NotImplementedError

    def values_getter(self, refs: list[str | int]) -> Getter | None:
        """One C-level getter of all these values at once, where the format allows it (else None)."""
        return None

    def location(self, row: int, ref: str | int | None) -> dict[str, Any]:
        """Where a value is, in the words of the format: row and column, cell, line and XPath."""
        location: dict[str, Any] = {"row": row}
        if ref is not None:
            location["column"] = ref
        return location

    def close(self) -> None:
        """Release the workbook or parser; the stream is closed by its owner."""


def open_reader(source: Source, stream: IO[bytes]) -> Reader:
    """A reader positioned on the first record; raises SourceProblem if the export does not fit."""
    return {"csv": CsvReader, "xlsx": XlsxReader, "xml": XmlReader, "json": JsonReader}[source.format](source, stream)


def _mapping_problem(message: str, **location: Any) -> SourceProblem:
    return SourceProblem(error("ERP-MAPPING", message, **location))


def _limit_problem(key: str, found: int | None = None, **location: Any) -> SourceProblem:
    return SourceProblem(exceeded(key, found, **location))


def _unreadable(what: str, exc: BaseException, **location: Any) -> SourceProblem:
    """Whatever a parsing library raises on damaged bytes (zlib, zipfile, openpyxl's IndexError…) as a finding."""
    detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return SourceProblem(error("FILE-ENCODING", f"{what} ({detail}).", **location))


class _Columns(Reader):
    """Shared by CSV and XLSX: columns by header name or by position (1 = first)."""

    header: list[str] | None = None

    def _index(self, ref: str | int) -> int:
        if isinstance(ref, int):
            if self.header is not None and ref > len(self.header):
                raise _mapping_problem(f"el mapeo usa la columna {ref}, pero el archivo tiene {len(self.header)}")
            return ref - 1
        assert self.header is not None
        try:
            return self.header.index(ref)
        except ValueError:
            shown = ", ".join(h for h in self.header if h)[:400]
            raise _mapping_problem(f"falta la columna '{ref}' en el encabezado (columnas: {shown})",
                                   column=ref) from None

    def column_name(self, ref: str | int) -> str | int:
        if isinstance(ref, int) and self.header and ref <= len(self.header) and self.header[ref - 1]:
            return self.header[ref - 1]
        return ref

    def getter(self, ref: str | int) -> Getter:
        index = self._index(ref)

        def get(record: Any) -> Any:
            return record[index] if index < len(record) else None

        return get


class CsvReader(_Columns):
    def __init__(self, source: Source, stream: IO[bytes]) -> None:
        quoting = csv.QUOTE_NONE if source.quoting == "none" else csv.QUOTE_MINIMAL
        self._lines = _Lines(stream, source.encoding)
        self._reader = csv.reader(self._lines, delimiter=source.delimiter, quotechar=source.quotechar,
                                  quoting=quoting, strict=False)
        self.header = None
        try:
            for _ in range(source.skip_rows):
                next(self._reader, None)
            if source.header:
                first = next(self._reader, None)
                if first is None:
                    raise SourceProblem(error("FILE-EMPTY", "El archivo no tiene encabezado ni filas."))
                self.header = [h.strip() for h in first]
        except UnicodeDecodeError as exc:
            raise _encoding_problem(source, exc, self._lines.number) from None
        except csv.Error as exc:
            raise _mapping_problem(f"no se puede leer el encabezado como CSV: {exc}") from None
        self._source = source

    def getter(self, ref: str | int) -> Getter:
        if self.header is not None:  # rows are checked to be as wide as the header: no bounds check per value
            return operator.itemgetter(self._index(ref))
        return super().getter(ref)

    def values_getter(self, refs: list[str | int]) -> Getter | None:
        indices = sorted({self._index(ref) for ref in refs})
        if not indices or self.header is None:
            return None  # without a header rows may be shorter than an index: the per-value getters handle that
        return operator.itemgetter(*indices)

    def records(self) -> Iterator[tuple[int, Any]]:
        """(first line, values) of each row: a record is numbered by the line it starts on (a quoted field may span
        lines); blank lines and lines of only separators (``;;;;``) are skipped; a report footer ends the data.
        One loop, no generator stacked on another: it runs once per row of a 500,000-row export."""
        width = len(self.header) if self.header else None
        reader, stop, keep = self._reader, self._source.stop_pattern, self._source.skip_footer
        held: deque[tuple[int, Any]] = deque()
        most = current().max_rows
        while True:
            first = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise _encoding_problem(self._source, exc, self._lines.number) from None
            except csv.Error as exc:
                raise SourceProblem(error("ERP-ROW", f"la fila no es CSV válido: {exc}", row=first)) from None
            if reader.line_num > most:
                raise _limit_problem("max_rows", reader.line_num, row=reader.line_num)
            if not row or not (row[0].strip() or any(v.strip() for v in row)):
                continue  # a blank line, or one of only separators (;;;;)
            if stop is not None and stop.search(row[0] if row[0].strip() else next(v for v in row if v.strip())):
                return
            record: Any = row
            if width is not None and len(row) != width:
                if len(row) > width and not any(v.strip() for v in row[width:]):
                    record = row[:width]  # trailing separators, common in SAP downloads
                else:
                    record = RowProblem(f"la fila tiene {len(row)} columnas; el encabezado tiene {width}")
            if keep:
                held.append((first, record))
                if len(held) <= keep:
                    continue
                first, record = held.popleft()
            yield first, record

    def location(self, row: int, ref: str | int | None) -> dict[str, Any]:
        location: dict[str, Any] = {"row": row}
        if ref is not None:
            location["column"] = self.column_name(ref)
        return location


def _until_footer(rows: Iterator[tuple[int, Any]], source: Source) -> Iterator[tuple[int, Any]]:
    """The rows before a report footer: up to the first row matching ``stop_pattern`` (searched in its first
    non-blank cell), without the last ``skip_footer`` rows."""
    stop, keep = source.stop_pattern, source.skip_footer
    if stop is not None:
        rows = _before_stop(rows, stop)
    if not keep:
        yield from rows
        return
    held: deque[tuple[int, Any]] = deque()
    for item in rows:
        held.append(item)
        if len(held) > keep:
            yield held.popleft()


def _before_stop(rows: Iterator[tuple[int, Any]], stop: re.Pattern[str]) -> Iterator[tuple[int, Any]]:
    for number, values in rows:
        first = next((v for v in values if v is not None and str(v).strip()), None)
        if first is not None and stop.search(str(first)):
            return
        yield number, values


class _Lines:
    """Decode line by line, so that an undecodable byte is reported on its own line (the row users look for).

    Lines are read with a bounded ``readline``: one longer than limits.max_line_length stops the reading."""

    def __init__(self, stream: IO[bytes], encoding: str) -> None:
        self.number = 0
        name = codecs.lookup(encoding).name
        self._text = name.startswith(("utf-16", "utf-32"))  # not ASCII-compatible: no byte-wise lines
        self._stream: Any = io.TextIOWrapper(stream, encoding=encoding, newline="") if self._text else stream
        self._longest = current().max_line_length
        self._encoding = name
        self._first = "utf-8-sig" if name == "utf-8" else name  # a byte order mark only starts the file

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self._stream.readline(self._longest + 1)
        if not line:
            raise StopIteration
        self.number += 1
        if len(line) > self._longest and not line.endswith("\n" if self._text else b"\n"):
            raise _limit_problem("max_line_length", row=self.number)
        if self._text:
            return line
        return line.decode(self._first if self.number == 1 else self._encoding)


def _encoding_problem(source: Source, exc: UnicodeDecodeError, row: int) -> SourceProblem:
    return SourceProblem(error(
        "FILE-ENCODING",
        f"El archivo no se puede leer como {source.encoding}: byte 0x{exc.object[exc.start]:02X} inválido "
        "(revise source.encoding en el mapeo: cp1252 o latin-1 para exportaciones de Windows).",
        row=row))


class XlsxReader(_Columns):
    def __init__(self, source: Source, stream: IO[bytes]) -> None:

        from openpyxl import load_workbook

        _check_workbook(stream)
        try:
            self._book = load_workbook(stream, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises anything on damaged parts (KeyError, IndexError…)
            raise _unreadable("El archivo no es un libro XLSX legible", exc) from None
        try:
            self._open(source)
        except SourceProblem:
            self._book.close()
            raise
        except Exception as exc:  # noqa: BLE001
            self._book.close()
            raise _unreadable("El libro XLSX está dañado", exc) from None

    def _open(self, source: Source) -> None:
        names = self._book.sheetnames
        if source.sheet is not None and source.sheet not in names:
            self._book.close()
            raise _mapping_problem(f"no existe la hoja '{source.sheet}' (hojas: {', '.join(names)})",
                                   sheet=source.sheet)
        if not names:
            raise SourceProblem(error("FILE-EMPTY", "El libro XLSX no tiene hojas."))
        self.sheet = source.sheet or names[0]
        sheet = self._book[self.sheet]
        sheet.reset_dimensions()  # the declared <dimension> may claim A1:XFD1048576: rows are read as they are
        self._rows = sheet.iter_rows(min_row=source.header_row, values_only=True)
        self._header_row = source.header_row
        first = next(self._rows, None)
        if first is None:
            raise SourceProblem(error("FILE-EMPTY", f"La hoja '{self.sheet}' está vacía.", sheet=self.sheet))
        self._check_width(first, source.header_row)
        self.header = ["" if v is None else str(v).strip() for v in first]
        self._source = source

    def _check_width(self, values: tuple[Any, ...], row: int) -> None:
        if len(values) > current().max_sheet_columns:
            raise _limit_problem("max_sheet_columns", len(values), sheet=self.sheet, row=row)

    def records(self) -> Iterator[tuple[int, Any]]:
        yield from _until_footer(self._filled(), self._source)

    def _filled(self) -> Iterator[tuple[int, Any]]:
        most = current().max_rows
        number = self._header_row
        rows = iter(self._rows)
        while True:
            try:
                values = next(rows, None)
            except Exception as exc:  # noqa: BLE001 - a damaged sheet (bad shared-string index, deflate error)
                raise _unreadable("La hoja del libro XLSX está dañada", exc, sheet=self.sheet, row=number + 1) from None
            if values is None:
                return
            number += 1
            if number > most:
                raise _limit_problem("max_rows", number, sheet=self.sheet, row=number)
            self._check_width(values, number)
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            yield number, values

    def location(self, row: int, ref: str | int | None) -> dict[str, Any]:
        from openpyxl.utils import get_column_letter

        location: dict[str, Any] = {"sheet": self.sheet, "row": row}
        if ref is not None:
            location["column"] = self.column_name(ref)
            try:
                location["cell"] = f"{get_column_letter(self._index(ref) + 1)}{row}"
            except SourceProblem:
                pass
        return location

    def close(self) -> None:
        self._book.close()


_SHARED_STRINGS = "xl/sharedStrings.xml"
_SI = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}si"


def _check_workbook(stream: IO[bytes]) -> None:
    """Before openpyxl loads anything: the ZIP's limits, then the shared strings counted while streaming (openpyxl
    keeps every one of them in memory)."""
    import zipfile

    try:
        with zipfile.ZipFile(stream) as archive:
            problem = zipcheck.check(archive, "El libro XLSX")
            if problem is not None:
                raise SourceProblem(problem)
            for name in archive.namelist():
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    _count_rows(archive, name)
            if _SHARED_STRINGS in archive.namelist():
                most, count = current().max_shared_strings, 0
                with archive.open(_SHARED_STRINGS) as member:
                    for _, element in xmlsafe.iterparse(member, events=("end",)):
                        if element.tag != _SI:
                            continue
                        count += 1
                        if count > most:
                            raise _limit_problem("max_shared_strings", count)
                        _free(element)
    except SourceProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged ZIP or XML part
        raise _unreadable("El archivo no es un libro XLSX legible", exc) from None
    finally:
        stream.seek(0)


def _count_rows(archive: Any, name: str) -> None:
    """``<row`` elements of a sheet counted on its bytes as they unpack (C speed): a sheet of millions of rows is
    refused in a second instead of being read for minutes."""
    most, count, tail = current().max_sheet_rows, 0, b""
    with archive.open(name) as member:
        while chunk := member.read(1 << 20):
            block = tail + chunk
            count += block.count(b"<row") - tail.count(b"<row")
            if count > most:
                raise _limit_problem("max_sheet_rows", count, sheet=name.rsplit("/", 1)[-1])
            tail = block[-3:]


class XmlReader(Reader):
    """Records are the elements at ``source.records`` (a path of tags from the root); fields are XPaths in them."""

    def __init__(self, source: Source, stream: IO[bytes]) -> None:
        self._ns = source.namespaces or None
        self._path = [_clark(step, source.namespaces) for step in source.records.strip("/").split("/")]
        self._records_text = source.records.strip("/")
        self._events = xmlsafe.iterparse(stream, events=("start", "end"))

    def getter(self, ref: str | int) -> Getter:
        compiled = etree.XPath(str(ref), namespaces=self._ns, smart_strings=False)

        def get(record: Any) -> Any:
            found = compiled(record)
            if isinstance(found, list):
                if not found:
                    return None
                found = found[0]
            if isinstance(found, etree._Element):
                return "".join(found.itertext())
            if isinstance(found, float) and found.is_integer():
                return str(int(found))
            return found if isinstance(found, str) else str(found)

        return get

    def records(self) -> Iterator[tuple[int, Any]]:
        stack: list[str] = []
        depth = len(self._path)
        count = 0
        try:
            for event, element in self._events:
                if event == "start":
                    stack.append(element.tag)
                    if len(stack) == 1 and stack[0] != self._path[0]:
                        raise _mapping_problem(
                            f"el elemento raíz es <{etree.QName(element).localname}>; el mapeo espera "
                            f"'{self._records_text}' (source.records)", line=element.sourceline)
                    continue
                level = len(stack)
                if level == depth and stack == self._path:
                    count += 1
                    yield count, element
                    _free(element)
                elif 1 < level < depth and stack == self._path[:level]:
                    _free(element)  # a group of records (a shipment and its lines) is done
                stack.pop()
        except etree.XMLSyntaxError as exc:
            last = exc.error_log.last_error  # iterparse's own message is generic
            message = last.message if last else str(exc.msg or exc).split(" (<string>")[0]
            line, column = (last.line, last.column) if last else (exc.lineno, None)
            raise SourceProblem(error("XML-MALFORMED", f"El XML no está bien formado: {message}",
                                      line=line, column=column)) from None
        except xmlsafe.Forbidden as exc:
            raise SourceProblem(exc.finding) from None

    def location(self, row: int, ref: str | int | None) -> dict[str, Any]:
        location: dict[str, Any] = {"row": row}
        location["xpath"] = f"/{self._records_text}[{row}]" + (f"/{ref}" if ref is not None else "")
        return location


def _free(element: etree._Element) -> None:
    """Drop an element that has been read and the siblings of its tag before it; the rest stays for ``../``."""
    element.clear(keep_tail=False)
    previous = element.getprevious()
    while previous is not None and previous.tag == element.tag:
        earlier = previous.getprevious()
        previous.getparent().remove(previous)
        previous = earlier


def _clark(step: str, namespaces: dict[str, str]) -> str:
    if ":" in step:
        prefix, local = step.split(":", 1)
        if prefix not in namespaces:
            raise _mapping_problem(f"el prefijo '{prefix}' de source.records no está en source.namespaces")
        return f"{{{namespaces[prefix]}}}{local}"
    return step


class JsonReader(Reader):
    """A JSON array of objects (at ``source.records``, a dotted path) or JSON Lines (``source.lines``)."""

    def __init__(self, source: Source, stream: IO[bytes]) -> None:
        self._lines = source.lines
        self._stream = stream
        self._items: list[Any] | None = None
        if not source.lines:
            try:
                document = _json(stream.read())
            except SourceProblem:
                raise
            except (ValueError, UnicodeDecodeError) as exc:
                raise SourceProblem(error("FILE-ENCODING", f"El archivo no es JSON válido: {exc}")) from None
            node = document
            for step in [s for s in source.records.split(".") if s]:
                node = node.get(step) if isinstance(node, dict) else None
            if not isinstance(node, list):
                raise _mapping_problem(f"no hay una lista de registros en '{source.records or '(raíz)'}' "
                                       "(source.records)")
            self._items = node

    def getter(self, ref: str | int) -> Getter:
        steps = [int(s) if s.isdigit() else s for s in str(ref).split(".")]

        def get(record: Any) -> Any:
            node = record
            for step in steps:
                if isinstance(step, int) and isinstance(node, list):
                    node = node[step] if step < len(node) else None
                elif isinstance(node, dict):
                    node = node.get(step)
                else:
                    return None
            return node

        return get

    def records(self) -> Iterator[tuple[int, Any]]:
        if self._items is not None:
            for number, item in enumerate(self._items, start=1):
                yield number, item if isinstance(item, dict) else RowProblem("el registro no es un objeto JSON")
            return
        limits = current()
        number = 0
        while line := self._stream.readline(limits.max_line_length + 1):
            number += 1
            if len(line) > limits.max_line_length and not line.endswith(b"\n"):
                raise _limit_problem("max_line_length", row=number)
            if number > limits.max_rows:
                raise _limit_problem("max_rows", number, row=number)
            if not line.strip():
                continue
            try:
                item = _json(line)
            except SourceProblem as problem:
                yield number, RowProblem(problem.finding.message)
                continue
            except (ValueError, UnicodeDecodeError) as exc:
                yield number, RowProblem(f"la línea no es JSON válido: {exc}")
                continue
            yield number, item if isinstance(item, dict) else RowProblem("el registro no es un objeto JSON")

    def location(self, row: int, ref: str | int | None) -> dict[str, Any]:
        location: dict[str, Any] = {"row": row}
        if ref is not None:
            location["field"] = ref
        return location


def _json(text: bytes) -> Any:
    """JSON with its numbers kept exact (Decimal, so 0.1 stays 0.1), NaN and Infinity left for the field's check
    to refuse, numbers of more than limits.max_number_digits digits and nesting deeper than
    limits.max_nesting_depth refused (a 5,000-digit integer or 100,000 nested arrays are not an export)."""
    from decimal import Decimal

    limits = current()

    def number(token: str) -> Decimal:
        if sum(c.isdigit() for c in token) > limits.max_number_digits:
            raise _limit_problem("max_number_digits", len(token))
        return Decimal(token)

    _check_depth(text, limits.max_nesting_depth)
    try:
        return json.loads(text, parse_float=number, parse_int=number, parse_constant=Decimal)
    except RecursionError:
        raise _limit_problem("max_nesting_depth") from None


def _check_depth(text: bytes, most: int) -> None:
    """Nesting counted on the bytes before parsing (the parser recurses): strings cut out in C, then brackets."""
    if text.count(b"[") + text.count(b"{") <= most:
        return
    depth = 0
    for byte in _STRINGS.sub(b"", text).translate(None, _NOT_BRACKETS):
        if byte in _OPEN:
            depth += 1
            if depth > most:
                raise _limit_problem("max_nesting_depth", depth)
        else:
            depth -= 1


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPEN = frozenset(b"[{")
