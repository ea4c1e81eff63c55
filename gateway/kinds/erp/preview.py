"""What the command line shows for ERP mappings: ``mappings check FILE`` and ``validate --kind erp:NAME FILE``.

The preview reads the whole export (streamed) to list every row error, but keeps only the first rows'
canonical output, so it answers the IT person's question — "does my mapping read this file right?" — fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.findings import Finding, Severity
from gateway.kinds.erp import export_kind
from gateway.kinds.erp.export import mapping_findings
from gateway.kinds.erp.mapping import MappingError, load
from gateway.kinds.erp.readers import SourceProblem


def check_mapping(path: Path) -> dict[str, Any]:
    """``{"file", "valid", "name", "target", "format", "fields", "problems": [{"key", "message"}]}``."""
    try:
        mapping = load(path)
    except MappingError as problem:
        return {"file": str(path), "valid": False,
                "problems": [{"key": key, "message": message} for key, message in problem.problems]}
    return {"file": str(path), "valid": True, "name": mapping.name, "target": mapping.target,
            "format": mapping.source.format, "on_bad_row": mapping.on_bad_row, "chunk_rows": mapping.chunk_rows,
            "fields": {rule.name: rule.label for rule in mapping.fields}, "problems": []}


#: findings listed by a preview; bad rows beyond are counted in ``bad_rows``
MAX_FINDINGS = 1000


def preview(kind_name: str, path: Path, directories: list[Path], rows: int = 10) -> dict[str, Any]:
    """The first ``rows`` canonical rows of ``path`` read through mapping ``erp:NAME``, and every finding."""
    kind = export_kind(kind_name, directories)
    out: dict[str, Any] = {"filename": str(path), "kind": kind_name, "target": None, "rows": 0, "bad_rows": 0,
                           "preview": [], "findings": []}
    findings: list[Finding] = []
    if kind.mapping is None:
        findings = mapping_findings(kind_name, kind.problem)
    else:
        out["target"] = kind.mapping.target
        try:
            early, export = kind.open_export(lambda: open(path, "rb"))  # the XSD and repeated keys, as in a run
            findings += early
            if export is not None:
                with export.stream:
                    for row in export:
                        out["rows"] += 1
                        if len(findings) < MAX_FINDINGS:  # every bad row is counted, the first ones are shown
                            findings += row.errors + row.warnings
                        if row.errors:
                            out["bad_rows"] += 1
                        elif len(out["preview"]) < rows:
                            out["preview"].append(row.record)
        except SourceProblem as problem:
            findings.append(problem.finding)
        except OSError as exc:
            findings.append(Finding("FILE-UNREADABLE", Severity.ERROR, f"No se pudo leer: {exc.strerror}"))
        except Exception as exc:  # noqa: BLE001 - the last resort: a finding, never a traceback
            findings.append(Finding("INTERNAL", Severity.ERROR, f"Error interno al leer la exportación "
                                                                f"({type(exc).__name__})."))
    out["findings"] = [f.to_dict() for f in findings]
    out["valid"] = not any(f.severity is Severity.ERROR for f in findings)
    return out
