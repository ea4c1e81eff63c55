"""Read-only views of the canonical records the XDOC checks compare.

The pedimento record is the pedimento kind's (docs/schema/pedimento.schema.json); only this module
reads its field names, so the checks stay readable and a change of that record is a change here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.kinds.pedimento.keys import document_type, invoice_number, pedimento_id


@dataclass(frozen=True)
class Invoice:
    """One 505 record: the invoice (COVE or CFDI) the pedimento declares."""

    index: int
    number: str | None
    document_type: str  # cove | cfdi | other
    date: str | None
    incoterm: str | None
    currency: str | None
    value_currency: Decimal | None
    value_usd: Decimal | None
    supplier_tax_id: str | None
    supplier_name: str | None


@dataclass(frozen=True)
class Partida:
    number: str
    fraccion: str | None
    tariff_code: str | None  # fracción + NICO
    value_usd: Decimal | None
    umt: str | None
    umt_quantity: Decimal | None


@dataclass(frozen=True)
class Pedimento:
    key: str
    label: str
    operation_type: str | None  # 1 importación, 2 exportación
    clave: str | None
    rfc: str | None
    patente: str | None
    exchange_rate: Decimal | None
    invoices: tuple[Invoice, ...]
    partidas: tuple[Partida, ...]


def pedimento(record: dict[str, Any]) -> Pedimento:
    key = record.get("key") or {}
    ident = pedimento_id(record)
    label = record.get("printed_number") or ident
    invoices = []
    for index, inv in enumerate(record.get("invoices") or [], start=1):
        supplier = inv.get("supplier") or {}
        number = invoice_number(inv)
        invoices.append(Invoice(
            index, number, document_type(inv, number), inv.get("date"), inv.get("incoterm"), inv.get("currency"),
            number_or_none(inv.get("value_currency")), number_or_none(inv.get("value_usd")),
            supplier.get("tax_id"), supplier.get("name")))
    partidas = []
    for p in record.get("partidas") or []:
        fraccion = p.get("fraccion")
        tariff = p.get("tariff_code") or (f"{fraccion}{p.get('nico') or ''}" if fraccion else None)
        partidas.append(Partida(str(p.get("number")), fraccion, tariff, number_or_none(p.get("value_usd")),
                                p.get("umt"), number_or_none(p.get("umt_quantity"))))
    importer = record.get("importer_exporter") or {}
    return Pedimento(
        key=str(ident), label=str(label), operation_type=_code(record.get("operation_type")), clave=record.get("clave"),
        rfc=(importer.get("rfc") or "").upper() or None, patente=key.get("patente"),
        exchange_rate=number_or_none(record.get("exchange_rate")), invoices=tuple(invoices), partidas=tuple(partidas))


def _code(value: Any) -> str | None:
    return None if value is None else str(value).lstrip("0") or "0"


def number_or_none(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def same_name(a: str | None, b: str | None) -> bool:
    """Names compared as an auditor reads them: case, accents, punctuation and blanks do not matter."""
    return _name(a) == _name(b)


def _name(value: str | None) -> str:
    text = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode().upper()
    return " ".join(re.sub(r"[^A-Z0-9&]+", " ", text).split())


def same_tax_id(a: str | None, b: str | None) -> bool:
    return _tax_id(a) == _tax_id(b)


def _tax_id(value: str | None) -> str:
    return re.sub(r"[^A-Z0-9&Ñ]", "", (value or "").upper())


def unit_code(value: str | None) -> str | None:
    """UMT keys compared as numbers: the pedimento writes 6, Comercio Exterior writes 06."""
    if value is None:
        return None
    return value.lstrip("0") or "0" if value.isdigit() else value
