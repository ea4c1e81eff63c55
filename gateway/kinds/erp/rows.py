"""Apply a mapping to an export, one record at a time: canonical rows, or the row's problems with their place."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from gateway.findings import Finding, error, warning
from gateway.kinds.erp.catalogs import TariffCheck
from gateway.kinds.erp.convert import ValueProblem, compile_rule
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

    def __init__(self, mapping: Mapping, stream: IO[bytes], tigie: dict[str, Any] | None = None) -> None:
        """``tigie``: the configured TIGIE table with validity dates (``SatData.fracciones``), if any."""
        self.mapping = mapping
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

    def __iter__(self) -> Iterator[Row]:
        plan, template, reader, tariff, refs = self._plan, self._template, self.reader, self._tariff, self._refs
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
                if tariff is not None and not errors:
                    for name, message in tariff(canonical["fraccion"], canonical["nico"]):
                        errors.append(error("ERP-CATALOG", message, **reader.location(number, refs.get(name))))
                if errors:
                    raw = {name: _plain(get(record)) for name, get, _convert, _ref in plan}
                    yield Row(number, None, errors, warnings, raw)
                else:
                    yield Row(number, canonical, warnings=warnings)
        finally:
            reader.close()


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
