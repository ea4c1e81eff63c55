"""Chunks of canonical ERP rows: the parts an ERP export is split into, and the kinds that check them.

A chunk is JSON Lines: a header line ``{"erp_chunk": "1.0", "target": …, "mapping": …}``, then one line per
row: ``{"record": {…}}`` for a clean row, ``{"row": n, "errors": […], "values": {…}}`` for a bad one (queued
with its ERP-ROW findings). Each chunk is archived and flows as its own document of kind ``erp.<target>``;
its check re-validates the rows cheaply (fields, required values, enumerations) so that a chunk is never
forwarded on trust, and warns about part numbers missing from the material master (ERP-UNKNOWN-PART).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from gateway.findings import Finding, Severity, error, warning
from gateway.kinds.base import CheckResult, Uncorrelated
from gateway.kinds.erp.rows import Row
from gateway.kinds.erp.targets import FIELDS, TARGETS, part_fields

VERSION = "1.0"
_MAGIC = b'{"erp_chunk"'
_MAX_UNKNOWN = 200  # distinct unknown part numbers reported per chunk, then one summary


def encode(target: str, mapping: str, number: int, rows: list[Row], columns: dict[str, str], bad: bool) -> bytes:
    """The bytes of one chunk (archived as a part of the export)."""
    header = {"erp_chunk": VERSION, "target": target, "mapping": mapping, "chunk": number, "rows": len(rows),
              "bad_rows": bad, "columns": columns}
    lines = [json.dumps(header, ensure_ascii=False, separators=(",", ":"))]
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for row in rows:
        if row.record is not None and not row.warnings:
            lines.append('{"record":' + dumps(row.record) + "}")  # the common case, without a wrapper dict
            continue
        item: dict[str, Any]
        if row.record is not None:
            item = {"record": row.record}
        else:
            item = {"row": row.number, "errors": [f.to_dict() for f in row.errors], "values": row.raw}
        if row.warnings:
            item["warnings"] = [f.to_dict() for f in row.warnings]
        lines.append(dumps(item))
    return ("\n".join(lines) + "\n").encode("utf-8")


class ChunkKind(Uncorrelated):
    """``erp.materials``, ``erp.bom``, ``erp.receipts`` or ``erp.shipments``: one chunk of an export."""

    def __init__(self, target: str, store: Any = None) -> None:
        self.name = target
        self._store = store  # the material master lives there; None when validating standalone
        self._fields = FIELDS[target]
        self._order = ["row", *self._fields]
        self._required = [f.name for f in TARGETS[target] if f.required]
        self._enums = {f.name: f.enum for f in TARGETS[target] if f.enum}
        self._parts = part_fields(target)

    def sniff(self, head: bytes, filename: str) -> bool:
        first = head.split(b"\n", 1)[0]
        return first.startswith(_MAGIC) and f'"target":"{self.name}"'.encode() in first

    def check(self, data: bytes) -> CheckResult:
        lines = data.decode("utf-8", errors="replace").splitlines()
        try:
            header = json.loads(lines[0]) if lines else None
        except json.JSONDecodeError:
            header = None
        if not isinstance(header, dict) or header.get("target") != self.name or header.get("erp_chunk") != VERSION:
            return CheckResult([error("FILE-UNKNOWN-KIND", f"No es un fragmento de exportación ERP {self.name}.")])
        columns: dict[str, str] = header.get("columns") or {}
        findings: list[Finding] = []
        rows: list[dict[str, Any]] = []
        for number, line in enumerate(lines[1:], start=2):
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                findings.append(error("FILE-ENCODING", "Línea dañada en el fragmento.", line=number))
                continue
            for found in item.get("warnings", ()):
                findings.append(Finding.from_dict(found))
            if "errors" in item:
                findings += [Finding.from_dict(found) for found in item["errors"]]
                continue
            record = item.get("record")
            problem = self._problem(record)
            if problem:
                findings.append(error("ERP-ROW", problem, line=number))
                continue
            rows.append(record)
        if len(rows) + sum(1 for f in findings if f.severity is Severity.ERROR) == 0:
            findings.append(error("FILE-EMPTY", "El fragmento no contiene filas."))
        if rows and self._parts and self._store is not None:
            findings += self._unknown_parts(rows, columns)
        record = {"mapping": header.get("mapping"), "chunk": header.get("chunk"), "rows": rows}
        first, last = (rows[0]["row"], rows[-1]["row"]) if rows else (None, None)
        key = f"{header.get('mapping')}:{first}-{last}" if rows else None
        return CheckResult(findings, record=record, business_key=key, validated=True)

    def _problem(self, record: Any) -> str | None:
        """A cheap structural re-check: the chunk was written by the gateway, but is never trusted blindly."""
        if not isinstance(record, dict) or list(record) != self._order:
            return f"el registro no tiene los campos de {self.name}"
        if not isinstance(record["row"], int):
            return "el registro no indica su fila"
        for name, value in record.items():
            if name != "row" and value is not None and not isinstance(value, str):
                return f"{name}: se esperaba texto"
        for name in self._required:
            if record[name] is None:
                return f"fila {record['row']}: falta {self._fields[name].label or name}"
        for name, allowed in self._enums.items():
            if record[name] is not None and record[name] not in allowed:
                return f"fila {record['row']}: {name} '{record[name]}' no es válido"
        return None

    def _unknown_parts(self, rows: list[dict[str, Any]], columns: dict[str, str]) -> list[Finding]:
        """ERP-UNKNOWN-PART: one warning per part number missing from the latest material master."""
        first_seen: dict[tuple[str, str], tuple[int, int]] = {}
        for row in rows:
            for name in self._parts:
                part = row[name]
                if part is not None:
                    row_no, count = first_seen.get((name, part), (row["row"], 0))
                    first_seen[(name, part)] = (row_no, count + 1)
        if not self._store.material_count():
            return [warning("ERP-UNKNOWN-PART", "Aún no se ha recibido ningún maestro de materiales (erp.materials); "
                                                "no se pudo comprobar ningún número de parte.")]
        known = self._store.known_parts({part for _, part in first_seen})
        unknown = [(key, seen) for key, seen in first_seen.items() if key[1] not in known]
        findings = []
        for (name, part), (row_no, count) in unknown[:_MAX_UNKNOWN]:
            label = self._fields[name].label or name
            times = f" ({count} filas)" if count > 1 else ""
            findings.append(warning("ERP-UNKNOWN-PART",
                                    f"El {label} '{part}' no está en el maestro de materiales{times}.",
                                    row=row_no, column=columns.get(name, name)))
        if len(unknown) > _MAX_UNKNOWN:
            findings.append(warning("ERP-UNKNOWN-PART", f"… y {len(unknown) - _MAX_UNKNOWN} números de parte más "
                                                        "que no están en el maestro de materiales."))
        return findings

    def on_ready(self, store: Any, document_id: str, record: dict[str, Any] | None) -> None:
        """A clean chunk of the material master updates the part numbers BOMs, receipts and shipments are checked
        against, in the transaction that makes it ready."""
        if self.name == "erp.materials" and record:
            store.upsert_materials(document_id, _materials(record["rows"]))


def _materials(rows: Iterable[dict[str, Any]]) -> list[tuple[str, str | None, str | None, str | None, str | None]]:
    return [(r["part_number"], r["material_type"], r["fraccion"], r["nico"], r["umt"]) for r in rows]
