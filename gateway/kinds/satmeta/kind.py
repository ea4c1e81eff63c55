"""SAT's CFDI metadata (the bulk download's ``.txt``) and the cancellation notices it gives rise to.

The metadata file lists, per invoice, its parties, amount and SAT status (``Estatus`` 1 vigente, 0 cancelado).
It is a container: each cancelled row becomes a ``cfdi.cancellation`` part, made of SAT's own header line and
that row (a one-row metadata file, so no format of the gateway's own is ever accepted from outside); vigente
rows confirm and change nothing (counted in the container's record). Columns are read by header name, since
SAT has added columns over time; a BOM, CRLF line ends and empty trailing lines are tolerated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from gateway.findings import Finding, error, warning
from gateway.kinds.base import CheckResult, Part, Uncorrelated

_SEPARATOR = "~"
_REQUIRED = ("uuid", "rfcemisor", "rfcreceptor", "estatus")
_UUID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
_STATUS = {"1": "vigente", "0": "cancelado"}
_EFFECTS = {"I": "ingreso", "E": "egreso", "T": "traslado", "N": "nómina", "P": "pago"}


def sniff_metadata(head: bytes) -> bool:
    return head.lstrip(b"\xef\xbb\xbf").lower().startswith(b"uuid~rfcemisor~")


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:  # SAT's older files are Windows-1252
        return data.decode("cp1252", errors="replace")


def _header(line: str) -> list[str]:
    return [name.strip().lower() for name in line.split(_SEPARATOR)]


class SatMetadataKind(Uncorrelated):
    """The container: one file, many rows; a part per cancelled invoice."""

    name = "cfdi.metadata"

    def sniff(self, head: bytes, filename: str) -> bool:
        return sniff_metadata(head)

    def check(self, data: bytes) -> CheckResult:
        result = CheckResult(validated=True)
        lines = _text(data).splitlines()
        header = _header(lines[0]) if lines else []
        missing = [name for name in _REQUIRED if name not in header]
        if missing:
            result.findings.append(error("SAT-METADATA", "Al archivo de metadatos del SAT le faltan las columnas "
                                         f"{', '.join(missing)} en su encabezado.", line=1))
            return result
        status_at = header.index("estatus")
        record: dict[str, Any] = {"format": "sat-metadata", "rows": 0, "vigentes": 0, "cancelados": 0}
        result.record = record

        def parts() -> Iterator[Part]:
            for number, line in enumerate(lines[1:], start=2):
                if not line.strip():
                    continue
                record["rows"] += 1
                fields = line.split(_SEPARATOR)
                status = fields[status_at].strip() if len(fields) > status_at else ""
                if status == "1" and len(fields) == len(header):
                    record["vigentes"] += 1
                    continue
                record["cancelados"] += status == "0"
                uuid = fields[0].strip().upper() if fields else ""
                yield Part("cfdi.cancellation", f"{lines[0]}\r\n{line}\r\n".encode(),
                           f"renglón {number} (UUID {uuid or '?'})")
            if not record["cancelados"] and not any(f.severity.value == "error" for f in result.findings):
                record["nothing_to_split"] = True  # every invoice vigente: confirmed, nothing changes

        result.parts = parts()
        return result


class CancellationKind(Uncorrelated):
    """One cancelled invoice, as SAT's metadata states it: forwarded as a notice when the invoice was."""

    name = "cfdi.cancellation"

    def sniff(self, head: bytes, filename: str) -> bool:
        return False  # only ever a part of a metadata file

    def check(self, data: bytes) -> CheckResult:
        lines = [line for line in _text(data).splitlines() if line.strip()]
        if len(lines) != 2 or not sniff_metadata(lines[0].encode()):
            return CheckResult([error("SAT-METADATA", "Se esperaba el encabezado de metadatos del SAT y un renglón.")])
        header = _header(lines[0])
        fields = [value.strip() for value in lines[1].split(_SEPARATOR)]
        where = {"line": 2}
        findings: list[Finding] = []
        if len(fields) != len(header):
            findings.append(error("SAT-METADATA", f"El renglón tiene {len(fields)} campos separados por '~' y el "
                                  f"encabezado {len(header)}.", **where))
            return CheckResult(findings)
        row = dict(zip(header, fields, strict=True))
        uuid = row["uuid"].upper()
        if not _UUID.match(uuid):
            findings.append(error("SAT-METADATA", f"El UUID '{row['uuid']}' no tiene la forma de un folio fiscal.",
                                  field="Uuid", **where))
        if row["estatus"] not in _STATUS:
            findings.append(error("SAT-METADATA", f"Estatus '{row['estatus']}' no es 1 (vigente) ni 0 (cancelado).",
                                  field="Estatus", **where))
        if findings:
            return CheckResult(findings)
        cancelled_at = row.get("fechacancelacion") or None
        if not cancelled_at:
            findings.append(warning("SAT-METADATA", "El SAT marca la factura como cancelada pero no da la fecha de "
                                    "cancelación.", field="FechaCancelacion", **where))
        record = {
            "uuid": uuid,
            "status": _STATUS[row["estatus"]],
            "cancelled_at": cancelled_at,
            "issuer": {"rfc": row["rfcemisor"].upper(), "name": row.get("nombreemisor") or None},
            "receiver": {"rfc": row["rfcreceptor"].upper(), "name": row.get("nombrereceptor") or None},
            "pac_rfc": row.get("rfcpac") or None,
            "issued_at": row.get("fechaemision") or None,
            "certified_at": row.get("fechacertificacionsat") or None,
            "amount": row.get("monto") or None,
            "effect": _EFFECTS.get((row.get("efectocomprobante") or "").upper(), row.get("efectocomprobante") or None),
        }
        return CheckResult(findings, record, business_key=f"cancel:{uuid}", validated=True)
