"""An ERP export read through its mapping: a container split into chunks of canonical rows.

The export is read as a stream and never held whole: rows are converted one at a time and every
``chunk_rows`` clean rows become one part of kind ``erp.<target>`` (archived and forwarded on its own), so
memory stays flat for 500,000 rows. The mapping's row policy decides what a bad row does:

- ``reject-file``: the export is rejected whole with an ERP-ROW finding per bad row (and nothing forwarded);
- ``queue-rows``: clean rows flow on; bad rows are gathered into parts of their own, rejected into the queue
  with their ERP-ROW findings (row and column), where an operator can see and discard or fix them.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from gateway.findings import error, warning
from gateway.kinds.base import CheckResult, Part, Uncorrelated
from gateway.kinds.erp import chunk
from gateway.kinds.erp.mapping import Mapping, MappingError
from gateway.kinds.erp.readers import SourceProblem
from gateway.kinds.erp.rows import MappedExport, Row

#: row findings kept on a rejected export; the rest are counted in one summary finding
MAX_ROW_FINDINGS = 1000


class ExportKind(Uncorrelated):
    """``erp:<mapping>``: declared by a source (``kind = "erp:sap-materials"``), never sniffed."""

    def __init__(self, name: str, mapping: Mapping | None, problem: MappingError | None = None) -> None:
        self.name = name
        self.mapping = mapping
        self.problem = problem

    def sniff(self, head: bytes, filename: str) -> bool:
        return False

    def check(self, data: bytes) -> CheckResult:
        return self._check(lambda: io.BytesIO(data))

    def check_file(self, path: Path) -> CheckResult:
        """Read the archived file itself, so that a large export is never loaded into memory."""
        return self._check(lambda: open(path, "rb"))

    def _check(self, open_stream: Callable[[], IO[bytes]]) -> CheckResult:
        if self.mapping is None:
            return CheckResult(mapping_findings(self.name, self.problem))
        mapping = self.mapping
        stream = open_stream()
        try:
            export = MappedExport(mapping, stream)
        except SourceProblem as problem:
            stream.close()
            return CheckResult([problem.finding])
        except BaseException:
            stream.close()
            raise
        summary: dict[str, Any] = {"mapping": mapping.name, "target": mapping.target, "on_bad_row": mapping.on_bad_row,
                                   "rows": 0, "forwarded_rows": 0, "queued_rows": 0, "parts": 0}
        result = CheckResult(validated=True, record=summary)
        result.parts = self._parts(export, stream, result, summary)
        return result

    def _parts(self, export: MappedExport, stream: IO[bytes], result: CheckResult,
               summary: dict[str, Any]) -> Iterator[Part]:
        mapping = self.mapping
        assert mapping is not None
        size, target = mapping.chunk_rows, mapping.target
        queue = mapping.on_bad_row == "queue-rows"
        columns = {rule.name: rule.label for rule in mapping.fields}
        good: list[Row] = []
        bad: list[Row] = []
        bad_count = 0

        def part(rows: list[Row], is_bad: bool) -> Part:
            summary["parts"] += 1
            number = summary["parts"]
            first, last = rows[0].number, rows[-1].number
            label = f"filas con errores {first}-{last}" if is_bad else f"{target} filas {first}-{last}"
            return Part(target, chunk.encode(target, mapping.name, number, rows, columns, is_bad), label)

        try:
            for row in export:
                summary["rows"] += 1
                if row.record is not None:
                    good.append(row)
                    if len(good) >= size and (queue or not bad_count):
                        summary["forwarded_rows"] += len(good)
                        yield part(good, False)
                        good = []
                    elif not queue and bad_count:
                        good.clear()  # the file is rejected: nothing more to forward, only errors to report
                    continue
                bad_count += 1
                if queue:
                    bad.append(row)
                    summary["queued_rows"] += 1
                    if len(bad) >= size:
                        yield part(bad, True)
                        bad = []
                elif bad_count <= MAX_ROW_FINDINGS:
                    result.findings += row.errors
            if good and (queue or not bad_count):
                summary["forwarded_rows"] += len(good)
                yield part(good, False)
            if bad:
                yield part(bad, True)
        except SourceProblem as problem:
            result.findings.append(problem.finding)
            return
        finally:
            stream.close()
        if not queue and bad_count > MAX_ROW_FINDINGS:
            result.findings.append(error("ERP-ROW", f"… y {bad_count - MAX_ROW_FINDINGS:,} filas más con errores; "
                                                    f"el archivo tiene {bad_count:,} filas con errores en total."))
        if queue and bad_count:
            result.findings.append(warning(
                "ERP-ROW", f"{bad_count:,} de {summary['rows']:,} filas tienen errores: se separaron en partes "
                           "rechazadas (cola de rechazados) y el resto se envió."))


def mapping_findings(name: str, problem: MappingError | None) -> list:
    if problem is None:
        return [error("ERP-MAPPING", f"No se encontró el mapeo '{name}'.")]
    return [error("ERP-MAPPING", f"Mapeo '{name}': {key + ': ' if key else ''}{message}", key=key or None)
            for key, message in problem.problems]
