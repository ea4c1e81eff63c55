"""The correlation keys of a pedimento record: its own key, and every COVE and CFDI its invoices (505.4) declare."""

from __future__ import annotations

import re
from typing import Any

from gateway.kinds.keys import CFDI, COVE, PEDIMENTO, Keys

_COVE_ID = re.compile(r"^(COVE[0-9A-Z]{9}|ADEN\d{9})$")
_UUID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


def pedimento_id(record: dict[str, Any]) -> str:
    """The pedimento's number (``24  240  3456  6000001``), or its key parts joined when the record has none."""
    key = record.get("key") or {}
    parts = [str(key.get(k) or "") for k in ("year", "aduana_seccion", "patente", "pedimento")]
    return str(record.get("number") or "-".join(parts))


def invoice_number(inv: dict[str, Any]) -> str | None:
    return (inv.get("number") or "").strip().upper() or None


def document_type(inv: dict[str, Any], number: str | None) -> str:
    """What a 505 record declares: ``cove``, ``cfdi`` or ``other`` (as written, else by the number's shape)."""
    declared = inv.get("document_type")
    if declared in ("cove", "cfdi", "other"):
        return declared
    if number and _COVE_ID.match(number):
        return "cove"
    if number and _UUID.match(number):
        return "cfdi"
    return "other"


def correlation_keys(record: dict[str, Any]) -> Keys:
    """A pedimento provides its key and needs every COVE and CFDI its invoices (505.4) declare."""
    needs = set()
    for inv in record.get("invoices") or []:
        number = invoice_number(inv)
        declared = document_type(inv, number)
        if number and declared == "cove":
            needs.add((COVE, number))
        elif number and declared == "cfdi":
            needs.add((CFDI, number))
    return Keys(frozenset({(PEDIMENTO, pedimento_id(record))}), frozenset(needs))
