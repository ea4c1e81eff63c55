"""SAT's cancellations meet the invoices the gateway took, in whichever order they arrive.

Called by the pipeline inside the transaction that normalises a document, so a crash repeats a decision and
never halves it:

- a ``cfdi.cancellation`` (a row of SAT's metadata with ``Estatus`` 0) whose invoice was already handed on
  (``ready`` or ``forwarded``) is itself routed to the sinks as a notice; the invoice's history records it
  (``sat-cancelled``) and both are linked (``cancels`` / ``cancelled-by``);
- an invoice still on its way (received, pending its correlation group, rejected) is rejected with
  ``CFDI-CANCELLED``; the notice then has nothing to tell the inventory and ends ``recorded``;
- the same UUID cancelled again (another metadata file, a resend) is linked to the first notice and ends
  ``recorded``: one notice per UUID, ever;
- an invoice arriving after its cancellation is rejected with ``CFDI-CANCELLED`` before it can be routed.
"""

from __future__ import annotations

from typing import Any

from gateway import logs
from gateway.findings import error, warning
from gateway.kinds.keys import CFDI
from gateway.runtime import Runtime
from gateway.store.base import Document

log = logs.get("gateway.cancellation")

NOTICE_KIND = "cfdi.cancellation"
_HANDED_ON = ("ready", "forwarded")
_ON_ITS_WAY = ("received", "validated", "normalised", "pending", "rejected")
_NOTICES = ("recorded", "ready", "forwarded")


def route(gw: Runtime, document_id: str, kind: str | None, record: dict[str, Any] | None) -> str | None:
    """None: route the document as usual; else the state it was given here."""
    if not record:
        return None
    if kind == NOTICE_KIND:
        return _notice(gw, document_id, record)
    if kind == "cfdi" and record.get("uuid"):
        return _invoice(gw, document_id, str(record["uuid"]).upper())
    _declaring(gw, document_id, kind, record)
    return None


def _declaring(gw: Runtime, document_id: str, kind: str | None, record: dict[str, Any]) -> None:
    """A document that declares CFDIs (an export pedimento's 505.4) is told which of them SAT cancelled."""
    known = gw.kinds.get(kind) if kind else None
    if known is None:
        return
    for key_type, uuid in sorted(known.correlation_keys(record).needs):
        if key_type != CFDI:
            continue
        notices = [d for d in gw.store.find_by_business_key(f"cancel:{uuid.upper()}", NOTICE_KIND)
                   if d.state in _NOTICES]
        if notices:
            _warn_declaring(gw, document_id, notices[0].record or {}, notices[0].id, audit=False)


def _warn_declaring(gw: Runtime, document_id: str, record: dict[str, Any], notice_id: str, audit: bool) -> None:
    message = (f"El documento declara el CFDI {record.get('uuid')} y {_said(record)[0].lower()}{_said(record)[1:]}; "
               "revise la operación (rectificación del pedimento o nueva factura).")
    gw.store.add_findings(document_id, [warning("XDOC-CFDI-CANCELLED", message, uuid=record.get("uuid"))])
    gw.store.add_link(document_id, notice_id, "cfdi-cancelled")
    if audit:
        gw.store.audit(document_id, gw.actor, "cfdi-cancelled", reason=_said(record), detail={"notice": notice_id})


def _notice(gw: Runtime, document_id: str, record: dict[str, Any]) -> str | None:
    store, uuid = gw.store, record["uuid"]
    earlier = [d for d in store.find_by_business_key(f"cancel:{uuid}", NOTICE_KIND)
               if d.id != document_id and d.state in _NOTICES]
    if earlier:
        store.add_link(document_id, earlier[0].id, "resend-of")
        store.set_state(document_id, "recorded", gw.actor, "cancel", reason=f"UUID {uuid} ya cancelado antes "
                        f"(aviso {earlier[0].id})")
        return "recorded"
    for declaring in gw.store.documents_with_key(CFDI, uuid):  # pedimentos whose 505.4 names this CFDI
        _, needs = gw.store.correlation_keys(declaring)
        if (CFDI, uuid) in needs:
            _warn_declaring(gw, declaring, record, document_id, audit=True)
    handed_on = False
    for invoice in store.find_by_business_key(uuid, "cfdi"):
        store.add_link(document_id, invoice.id, "cancels")
        store.add_link(invoice.id, document_id, "cancelled-by")
        if invoice.state in _HANDED_ON:
            handed_on = True
            store.audit(invoice.id, gw.actor, "sat-cancelled", reason=_said(record),
                        detail={"notice": document_id, "cancelled_at": record.get("cancelled_at")})
        elif invoice.state in _ON_ITS_WAY:
            _reject(gw, invoice, record, document_id)
    if handed_on:
        log.info("cancellation notice routed", uuid=uuid)
        return None
    store.set_state(document_id, "recorded", gw.actor, "cancel",
                    reason=f"UUID {uuid}: ninguna factura entregada que revertir")
    return "recorded"


def _invoice(gw: Runtime, document_id: str, uuid: str) -> str | None:
    store = gw.store
    notices = [d for d in store.find_by_business_key(f"cancel:{uuid}", NOTICE_KIND) if d.state in _NOTICES]
    if not notices:
        return None
    invoice = store.get(document_id)
    store.add_link(document_id, notices[0].id, "cancelled-by")
    _reject(gw, invoice, notices[0].record or {}, notices[0].id)
    return "rejected"


def _reject(gw: Runtime, invoice: Document, record: dict[str, Any], notice_id: str) -> None:
    store = gw.store
    store.add_findings(invoice.id, [error("CFDI-CANCELLED", f"{_said(record)}; la factura no se entrega al "
                                          "inventario.", uuid=record.get("uuid"))])
    if invoice.state == "rejected":
        store.audit(invoice.id, gw.actor, "sat-cancelled", reason=_said(record), detail={"notice": notice_id})
    else:
        store.set_state(invoice.id, "rejected", gw.actor, "sat-cancelled", reason="CFDI-CANCELLED",
                        detail={"notice": notice_id})
    log.info("invoice rejected: cancelled at SAT", document_id=invoice.id, uuid=record.get("uuid"))


def _said(record: dict[str, Any]) -> str:
    when = f" el {record['cancelled_at']}" if record.get("cancelled_at") else ""
    return f"El SAT reporta el CFDI {record.get('uuid')} como cancelado{when} (metadatos, Estatus 0)"
