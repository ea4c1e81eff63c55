"""Apply a mapping to an export, one record at a time: canonical rows, or the row's problems with their place."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from gateway.findings import Finding, error, warning
from gateway.kinds.erp.catalogs import TariffCheck
from gateway.kinds.erp.convert import ValueProblem, _text, compile_rule
from gateway.kinds.erp.duplicates import Mark, mark_finding
from gateway.kinds.erp.mapping import FieldRule, Mapping
from gateway.kinds.erp.readers import Reader, RowProblem, open_reader
from gateway.kinds.erp.targets import TARGETS
from gateway.kinds.erp.transforms import TransformProblem, chain


@dataclass(slots=True)
class Row:
    """One record of the export: its canonical form when clean, else its errors (and always its warnings)."""

    number: int
    record: dict[str, Any] | None
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    #: the values as read, kept for a bad row so that it can be corrected from the queue
    raw: dict[str, Any] | None = None
    #: the record as the reader gave it (for the master check, which may turn a clean row into a bad one)
    source: Any = None


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
        """(row, key, digest of the values as read) of each row with a key: the first pass of ``duplicates.scan``.

        The key is the value as read, trimmed and transformed (what makes ``000123`` and ``123`` one part); the
        other checks are left to the second pass, which reports them. Kept cheap: it reads the whole export."""
        assert self.mapping.key is not None
        rules = {rule.name: rule for rule in self.mapping.fields}
        by_name = {name: get for name, get, _convert, _ref in self._plan}
        key_plan = [(by_name[name], chain(rules[name].transforms), rules[name].trim)
                    for name in self.mapping.key.fields]
        digest = self.reader.values_getter([ref for rule in self.mapping.fields for ref in rule.sources])
        if digest is None:
            getters = [get for _name, get, _convert, _ref in self._plan]

            def digest(record: Any) -> tuple[Any, ...]:
                return tuple(_plain(get(record)) for get in getters)

        try:
            for number, record in self.reader.records():
                if record.__class__ is RowProblem:
                    continue
                parts = []
                for get, step, trim in key_plan:
                    value = get(record)
                    text = "" if value is None else value if value.__class__ is str else _text(value)
                    if trim:
                        text = text.strip()
                    if step is not None:
                        try:
                            text = step(text)
                        except TransformProblem:
                            text = ""
                    if not text:
                        break
                    parts.append(text)
                else:
                    yield number, "\x1f".join(parts), hash(digest(record))
        finally:
            self.reader.close()

    def __iter__(self) -> Iterator[Row]:
        if self._master is None:
            return self._rows(False)
        return self._checked_against_master()

    def _checked_against_master(self) -> Iterator[Row]:
        batch: list[Row] = []
        for row in self._rows(True):
            batch.append(row)
            if len(batch) >= 500:
                yield from self._against_master(batch)
                batch = []
        yield from self._against_master(batch)

    def _against_master(self, batch: list[Row]) -> Iterator[Row]:
        assert self._master is not None
        marks = self._master([row.record for row in batch if row.record is not None])
        for row in batch:
            record, row.source = row.source, None
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

    def _rows(self, keep_source: bool) -> Iterator[Row]:
        plan, template, reader, tariff, refs = self._plan, self._template, self.reader, self._tariff, self._refs
        marks, key_ref = self._marks, self._key_ref
        try:
            for number, record in reader.records():
                if isinstance(record, RowProblem):
                    yield Row(number, None, [error("ERP-ROW", str(record), **reader.location(number, None))])
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
                if tariff is not None and not errors and canonical["fraccion"] is not None:
                    for name, message in tariff(canonical["fraccion"], canonical["nico"]):
                        errors.append(error("ERP-CATALOG", message, **reader.location(number, refs.get(name))))
                if marks and number in marks:
                    mark = marks[number]
                    (errors if mark.severity == "error" else warnings).append(
                        mark_finding(mark, reader.location(number, key_ref)))
                if errors:
                    raw = {name: _plain(get(record)) for name, get, _convert, _ref in plan}
                    yield Row(number, None, errors, warnings, raw)
                else:
                    yield Row(number, canonical, [], warnings, None, record if keep_source else None)
        finally:
            reader.close()


def _plain(value: Any) -> Any:
    """A raw value kept on a bad row, as JSON can carry it (a lone surrogate becomes U+FFFD)."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8") if _SURROGATE.search(value) else value
    if value is None or isinstance(value, (int, float, bool)):
        return value
    return str(value)[:1000]


_SURROGATE = re.compile("[\ud800-\udfff]")
