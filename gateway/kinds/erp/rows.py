"""Apply a mapping to an export, one record at a time: canonical rows, or the row's problems with their place."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from gateway.findings import Finding, error, warning
from gateway.kinds.erp.catalogs import TariffCheck
from gateway.kinds.erp.convert import ValueProblem, compile_rule
from gateway.kinds.erp.duplicates import Mark, mark_finding
from gateway.kinds.erp.mapping import FieldRule, Mapping
from gateway.kinds.erp.readers import Reader, RowProblem, open_reader
from gateway.kinds.erp.targets import TARGETS


@dataclass(slots=True)
class Row:
    """One record of the export: its canonical form when clean, else its errors (and always its warnings)."""

    number: int
    record: dict[str, Any] | None
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    #: the values as read, kept for a bad row so that it can be corrected from the queue
    raw: dict[str, Any] | None = None


class MappedExport:
    """Open with ``MappedExport(mapping, stream)`` (raises SourceProblem if the export does not fit), iterate rows."""

    def __init__(self, mapping: Mapping, stream: IO[bytes], tigie: dict[str, Any] | None = None,
                 marks: dict[int, Mark] | None = None,
                 master: Callable[[list[dict[str, Any]]], dict[int, Mark]] | None = None) -> None:
        """``tigie``: the configured TIGIE table with validity dates (``SatData.fracciones``), if any; ``marks``:
        the rows whose key repeats (``duplicates.scan``); ``master``: compares clean rows with the stored master."""
        self.mapping = mapping
        self.stream = stream  # closed by its owner
        self.reader: Reader = open_reader(mapping.source, stream)
        try:
            self._plan = [self._compile(rule) for rule in mapping.fields]
        except BaseException:
            self.reader.close()
            raise
        #: every canonical row has every field of its kind, in the order of the published schema
        self._template: dict[str, Any] = {"row": 0, **{f.name: None for f in TARGETS[mapping.target]}}
        refs = {name: ref for name, _get, _convert, ref in self._plan}
        #: fracción and NICO are checked together against the tariff once the row is converted
        self._tariff = TariffCheck(tigie) if "fraccion" in refs else None
        self._refs = refs
        self._marks = marks or {}
        self._master = master
        key = mapping.key
        self._key_ref = refs.get(key.fields[0]) if key else None

    def _compile(self, rule: FieldRule) -> tuple[str, Callable[[Any], Any], Any, str | int | None]:
        """(field, read the raw value from a record, convert it, the source to name in findings)."""
        convert = compile_rule(rule, self.mapping.source)
        if rule.how == "value":
            constant = rule.value
            return rule.name, lambda record: constant, convert, None
        getters = [self.reader.getter(ref) for ref in rule.sources]
        if not rule.concat:
            return rule.name, getters[0], convert, rule.sources[0]
        separator = rule.separator

        def joined(record: Any) -> str:
            parts = []
            for get in getters:
                value = get(record)
                if value is not None and str(value).strip() != "":
                    parts.append(str(value).strip())
            return separator.join(parts)

        return rule.name, joined, convert, rule.sources[0]

    def keys(self) -> Iterator[tuple[int, str, int]]:
        """(row, key, digest of the values as read) of each row whose key converts: the first pass of
        ``duplicates.scan``. Rows whose key is blank or bad are left to the second pass to report."""
        assert self.mapping.key is not None
        by_name = {name: (get, convert) for name, get, convert, _ref in self._plan}
        key_plan = [by_name[name] for name in self.mapping.key.fields]
        getters = [get for _name, get, _convert, _ref in self._plan]
        scratch: list[tuple[str, str]] = []
        try:
            for number, record in self.reader.records():
                if isinstance(record, RowProblem):
                    continue
                try:
                    parts = [convert(get(record), scratch) for get, convert in key_plan]
                except ValueProblem:
                    continue
                if None in parts:
                    continue
                yield number, "\x1f".join(parts), hash(tuple(_plain(get(record)) for get in getters))
        finally:
            self.reader.close()

    def __iter__(self) -> Iterator[Row]:
        rows = self._rows()
        if self._master is None:
            for row, _record in rows:
                yield row
            return
        batch: list[tuple[Row, Any]] = []
        for item in rows:
            batch.append(item)
            if len(batch) >= 500:
                yield from self._against_master(batch)
                batch = []
        yield from self._against_master(batch)

    def _against_master(self, batch: list[tuple[Row, Any]]) -> Iterator[Row]:
        assert self._master is not None
        marks = self._master([row.record for row, _ in batch if row.record is not None])
        for row, record in batch:
            mark = marks.get(row.number)
            if mark is not None:
                found = mark_finding(mark, self.reader.location(row.number, self._key_ref))
                if mark.severity == "error":
                    row.errors.append(found)
                    row.raw = {name: _plain(get(record)) for name, get, _convert, _ref in self._plan}
                    row.record = None
                else:
                    row.warnings.append(found)
            yield row

    def _rows(self) -> Iterator[tuple[Row, Any]]:
        plan, template, reader, tariff, refs = self._plan, self._template, self.reader, self._tariff, self._refs
        marks, key_ref = self._marks, self._key_ref
        try:
            for number, record in reader.records():
                if isinstance(record, RowProblem):
                    yield Row(number, None, [error("ERP-ROW", str(record), **reader.location(number, None))]), record
                    continue
                canonical = template.copy()
                canonical["row"] = number
                errors: list[Finding] = []
                found: list[tuple[str, str]] = []
                warnings: list[Finding] = []
                for name, get, convert, ref in plan:
                    try:
                        canonical[name] = convert(get(record), found)
                    except ValueProblem as problem:
                        errors.append(error(problem.code, str(problem), **reader.location(number, ref)))
                    if found:
                        warnings += [warning(code, message, **reader.location(number, ref)) for code, message in found]
                        found = []
                if tariff is not None and not errors:
                    for name, message in tariff(canonical["fraccion"], canonical["nico"]):
                        errors.append(error("ERP-CATALOG", message, **reader.location(number, refs.get(name))))
                if marks and number in marks:
                    mark = marks[number]
                    (errors if mark.severity == "error" else warnings).append(
                        mark_finding(mark, reader.location(number, key_ref)))
                if errors:
                    raw = {name: _plain(get(record)) for name, get, _convert, _ref in plan}
                    yield Row(number, None, errors, warnings, raw), record
                else:
                    yield Row(number, canonical, warnings=warnings), record
        finally:
            reader.close()


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
