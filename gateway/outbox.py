"""Delivery of ready documents to every configured sink, with durable retries and dead letters.

Each (document, sink) pair is an outbox row. A failed attempt is recorded with its error
and the time of the next attempt (exponential backoff with full jitter); after the
sink's ``max_attempts`` — or at once for a permanent failure — the row is dead and the
document goes to the rejected queue with a DELIVERY-FAILED finding, where an operator's
``queue retry`` re-delivers it. Sinks are idempotent by document id, so a crash between
delivering and recording repeats a delivery without duplicating its effect.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from adapters.sinks.base import Outgoing, SinkError
from gateway import correlate, logs
from gateway.app import Gateway
from gateway.canonical import envelope
from gateway.faults import crash_point
from gateway.findings import error
from gateway.store.base import now

log = logs.get("gateway.outbox")

BACKOFF_BASE = 1.0
BACKOFF_CAP = 300.0


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after the ``attempts``-th failure: full jitter over an exponential ceiling."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempts - 1)))
    return (rng or random).uniform(ceiling / 2, ceiling)


def deliver_due(gw: Gateway, limit: int = 500) -> int:
    """Attempt every delivery that is due now; return how many were attempted."""
    due = gw.store.due_deliveries(now(), limit)
    for delivery in due:
        _attempt(gw, delivery.document_id, delivery.sink, delivery.attempts)
    return len(due)


def _attempt(gw: Gateway, document_id: str, sink_name: str, attempts: int) -> None:
    store = gw.store
    doc = store.get(document_id)
    sink = gw.sinks.get(sink_name)
    config = gw.sink_config(sink_name)
    if doc is None or doc.state not in ("ready", "forwarded"):
        return
    if sink is None or config is None:
        _dead(gw, document_id, sink_name, attempts, f"sink '{sink_name}' is no longer configured")
        return
    container = store.get(doc.parent_id) if doc.parent_id else None
    links = store.links(doc.id) + correlate.links(store, doc.id)
    item = Outgoing(doc.id, doc.kind or "unknown", envelope(doc, store.findings(doc.id), links, container=container),
                    doc.filename, lambda: gw.archive.read(doc.sha256))
    attempts += 1
    try:
        sink.deliver(item)
        crash_point("outbox.after-deliver")
    except SinkError as exc:
        if exc.retryable:  # a refused document is the document's fault, not the sink's
            gw.health.failed("sink", sink_name, str(exc))
        if not exc.retryable or attempts >= config.max_attempts:
            _dead(gw, document_id, sink_name, attempts, str(exc))
            return
        delay = backoff(attempts)
        next_at = (datetime.now(UTC) + timedelta(seconds=delay)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        store.record_delivery(document_id, sink_name, "pending", attempts, next_at, str(exc), None)
        log.warning("delivery failed, will retry", document_id=document_id, sink=sink_name, attempts=attempts,
                    retry_in_s=round(delay, 1), error=str(exc))
        return
    gw.health.ok("sink", sink_name)
    stamp = now()
    with store.transaction():
        store.record_delivery(document_id, sink_name, "delivered", attempts, stamp, None, stamp)
        remaining = [d for d in store.deliveries(document_id) if d.state != "delivered"]
        if not remaining and doc.state != "forwarded":
            store.set_state(document_id, "forwarded", gw.actor, "deliver", detail={"sink": sink_name})
        else:
            store.audit(document_id, gw.actor, "deliver", detail={"sink": sink_name})
    log.info("document delivered", document_id=document_id, sink=sink_name, attempts=attempts)


def _dead(gw: Gateway, document_id: str, sink_name: str, attempts: int, message: str) -> None:
    store = gw.store
    stamp = now()
    with store.transaction():
        store.record_delivery(document_id, sink_name, "dead", attempts, stamp, message, None)
        store.add_findings(document_id, [error(
            "DELIVERY-FAILED",
            f"No se pudo entregar al destino '{sink_name}' después de {attempts} intento(s): {message}",
            sink=sink_name)])
        store.set_state(document_id, "rejected", gw.actor, "dead-letter", reason=message,
                        detail={"sink": sink_name, "attempts": attempts})
    log.error("delivery dead-lettered", document_id=document_id, sink=sink_name, attempts=attempts, error=message)
