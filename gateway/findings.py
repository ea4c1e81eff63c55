"""Findings: validation results as data, never as strings or exceptions.

Every check in the gateway returns findings. A finding names a stable code (see
``CODES``), a severity, a message in the words customs and tax people use, and a
location as precise as the format allows. Any ``error`` rejects the document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Iterable


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


#: Stable finding codes and what they mean. Never reuse a code for another meaning.
CODES: dict[str, str] = {
    "FILE-EMPTY": "the file is empty",
    "FILE-TOO-LARGE": "the file is larger than the configured limit",
    "FILE-ENCODING": "the file cannot be decoded",
    "FILE-UNKNOWN-KIND": "the document kind cannot be recognised",
    "FILE-UNREADABLE": "the file cannot be read (missing, permissions); `validate` and `erp preview` report it",
    "XML-MALFORMED": "not well-formed XML",
    "XML-FORBIDDEN": "DTD, entity declaration or external reference (security)",
    "XML-SCHEMALOCATION": "xmlns:schemaLocation quirk of SAT bulk downloads, repaired",
    "XSD": "schema violation",
    "XSD-UNKNOWN-COMPLEMENT": "a complement of a namespace SAT publishes no schema for: named, not validated",
    "CFDI-VERSION": "CFDI version not supported",
    "CFDI-CATALOG-VIGENCIA": "a catalog key not in force on the invoice's Fecha (imported catalog's validity dates)",
    "CFDI-TFD-MISSING": "CFDI not stamped: it must carry exactly one TimbreFiscalDigital",
    "CFDI-TOTALS": "totals do not add up",
    "CFDI-CCE-MISSING": "export invoice without the Comercio Exterior complement",
    "CFDI-CCE-USD": "Comercio Exterior TotalUSD differs from the sum of ValorDolares",
    "CCE-NOIDENTIFICACION": "a Comercio Exterior mercancía matches no concepto",
    "CFDI-SEAL": "a seal or its certificate does not verify",
    "CFDI-SAT-CERT-UNKNOWN": "the SAT stamping certificate is not in the local store",
    "RFC-INVALID": "an RFC is malformed (error) or its check digit is wrong (warning: SAT issued some such RFCs)",
    "INTERNAL": "the gateway failed on this document; it is kept in the queue to retry once fixed",
    "FILE-ARCHIVE": "an archive (Data Stage ZIP, XLSX) has an encrypted member or cannot be unpacked",
    "LIMIT": "the file exceeds a configured [limits] key (expanded size, line length, rows, nesting, digits...)",
    "FILE-INTERNAL-FORMAT": "the file has the shape of a part the gateway makes itself; parts are never taken "
                            "from outside",
    "DELIVERY-FAILED": "delivery to a sink failed permanently (dead letter)",
    "ERP-MAPPING": "an ERP mapping is wrong or does not fit the export (missing column, wrong sheet, record path)",
    "ERP-ROW": "a row of an ERP export has a missing, malformed or out-of-range value (row and column given)",
    "ERP-UNKNOWN-PART": "a BOM, receipt or shipment names a part number not in the latest material master",
    "ERP-CATALOG": "a coded value of an ERP row (unit, UMT, country, fracción, NICO) is not in its catalog",
    "ERP-DUPLICATE": "a master or BOM row repeats the key of another row (error with other values, else warning)",
    "PED-LAYOUT": "a pedimento record has the wrong number of fields, or a field the wrong type or length",
    "PED-SEQUENCE": "pedimento records missing, out of order or not nested as the layout requires",
    "PED-NUMBER": "pedimento number malformed (patente, aduana, year digit, consecutive)",
    "PED-CATALOG": "a code not in its Anexo 22 catalog",
    "PED-FRACCION": "fracción arancelaria or NICO malformed",
    "PED-TOTALS": "pedimento values do not add up (partidas vs invoices, contributions, value vs price × quantity)",
    "PED-IMMEX": "IMMEX clave without the program identifier, or program/RFC not the configured company's",
    "IMMEX-CLOCK": "a temporary import's return deadline cannot be computed (no valid start date; activo fijo without "
                   "[immex] program_valid_until)",
    "IMMEX-ORIGINAL-MISSING": "the temporary import a discharge (512) names is not in the gateway after "
                              "correlation_timeout",
    "IMMEX-DISCHARGE-FRACCION": "a discharge (512) names a fracción the original temporary import does not have",
    "IMMEX-DISCHARGE-LATE": "a discharge (512) is dated after the original temporary import's return deadline",
    "IMMEX-OVER-DISCHARGE": "the discharges seen for an original's fracción add up to more than it imported (UMT)",
    "DOC-RESEND": "the same business document (same key) was received before with other bytes; linked as resend-of",
    "COVE-ID": "COVE e-document (COVE + 9) or adenda (ADEN + 9 digits) identifier malformed",
    "COVE-TOTALS": "COVE line quantity × unit value ≠ total, or a line's USD value off the invoice's USD factor",
    "COVE-VUCEM-ERROR": "VUCEM answered with errors: no COVE issued for the invoice, or the query failed",
    "XDOC-COVE-MISSING": "a declared COVE (or the other half of a RecibirCove pair) did not arrive in time",
    "XDOC-CFDI-MISSING": "a CFDI the pedimento declares by UUID did not arrive within correlation_timeout",
    "XDOC-COVE-VALUE": "pedimento ⇄ COVE: invoice value (505.7/505.8) or Σ partida USD vs Σ COVE values disagree",
    "XDOC-COVE-INVOICE": "pedimento ⇄ COVE: invoice date disagrees",
    "XDOC-COVE-PARTY": "pedimento ⇄ COVE: importer/exporter RFC or supplier/buyer tax id or name disagree",
    "XDOC-COVE-OPERATION": "pedimento ⇄ COVE: operation type (501.5) vs TOCE.IMP/TOCE.EXP disagree",
    "XDOC-COVE-PATENTE": "pedimento ⇄ COVE: the pedimento's patente is not among the COVE's patentes",
    "XDOC-COVE-CURRENCY": "pedimento ⇄ COVE: invoice currency (505.6) vs COVE tipoMoneda disagree",
    "XDOC-CFDI-VALUE": "export pedimento ⇄ CFDI: USD value (505.7 vs TotalUSD) or currency disagree",
    "XDOC-CFDI-FRACCION": "export pedimento ⇄ CFDI: a Comercio Exterior fracción is in no partida",
    "XDOC-CFDI-QTY": "export pedimento ⇄ CFDI: UMT quantity or unit per fracción disagree",
    "XDOC-CFDI-PARTY": "export pedimento ⇄ CFDI: exporter RFC (501.9) vs CFDI Emisor RFC disagree",
    "XDOC-CFDI-INCOTERM": "export pedimento ⇄ CFDI: INCOTERM (505.5) vs Comercio Exterior Incoterm disagree",
    "XDOC-FX": "export pedimento ⇄ CFDI: exchange rate differs beyond the configured tolerance",
    "XDOC-UNCLAIMED": "a COVE or export CFDI no pedimento declared within correlation_timeout; forwarded unchecked",
    "XDOC-GROUP": "rejected with its correlation group because another member disagrees",
    "CFDI-FIELD": "a CFDI field is missing, present where SAT forbids it, or malformed (SAT's CFDI 4.0 matrix)",
    "CFDI-CATALOG": "a CFDI value is not in its SAT catalog or disagrees with the catalog's columns",
    "CFDI-DECIMALS": "a CFDI amount has more decimals than its currency (c_Moneda) or its Importe allows",
    "CFDI-AMOUNT": "a CFDI amount is outside the limits SAT computes from its factors, or not above zero",
    "CFDI-TAXES": "the taxes of a concepto or of the comprobante are inconsistent",
    "CFDI-PEDIMENTO": "a NumeroPedimento is invalid or not allowed (warning: another year's digit)",
    "CCE-FIELD": "a Comercio Exterior 2.0 field is missing, forbidden or malformed (SAT's CCE 2.0 matrix)",
    "CCE-CATALOG": "a Comercio Exterior value disagrees with SAT's catalogs (address, fracción, UMT)",
    "CCE-AMOUNT": "a Comercio Exterior ValorDolares does not match the amounts it is computed from",
    "CCE-FIX": "Comercio Exterior TipoCambioUSD differs from Banxico's FIX rate in the configured table",
    "SAT-LIST": "an RFC, name, address or régimen disagrees with SAT's lists configured locally (l_RFC, LCO)",
    "SAT-DATA-UNCHECKED": "rules needing SAT-side lists were not run because the list is not configured",
    "ARCHIVE-UNSAFE": "a ZIP entry (or the whole ZIP) refused: bomb, limit, encryption, traversal or link name",
    "SAT-METADATA": "a row of SAT's CFDI metadata (bulk download .txt) is malformed",
    "XDOC-CFDI-CANCELLED": "a document (an export pedimento's 505.4) declares a CFDI that SAT reports cancelled",
    "CFDI-CANCELLED": "SAT reports the invoice cancelled (metadata Estatus 0): not forwarded, or reversed by notice",
    "ARCHIVE-CORRUPT": "a ZIP whose central directory cannot be read: the container is rejected whole",
}


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    message: str
    location: dict[str, Any] = field(default_factory=dict)
    sat_code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "location": dict(self.location),
        }
        if self.sat_code:
            data["sat_code"] = self.sat_code
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            code=data["code"],
            severity=Severity(data["severity"]),
            message=data["message"],
            location=dict(data.get("location") or {}),
            sat_code=data.get("sat_code"),
        )


def error(code: str, message: str, sat_code: str | None = None, **location: Any) -> Finding:
    return Finding(code, Severity.ERROR, message, _clean(location), sat_code)


def warning(code: str, message: str, sat_code: str | None = None, **location: Any) -> Finding:
    return Finding(code, Severity.WARNING, message, _clean(location), sat_code)


def info(code: str, message: str, sat_code: str | None = None, **location: Any) -> Finding:
    return Finding(code, Severity.INFO, message, _clean(location), sat_code)


def _clean(location: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in location.items() if v is not None}


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def by_severity(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then warnings, then info; stable otherwise."""
    return sorted(findings, key=lambda f: _ORDER[f.severity])
