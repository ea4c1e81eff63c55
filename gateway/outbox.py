"""Delivery of ready documents to every configured sink, with durable retries and dead letters.

Each (document, sink) pair is an outbox row. A failed attempt is recorded with its error
and the time of the next attempt (exponential backoff with jitter, never sooner than the
destination's ``Retry-After``); after the sink's ``max_attempts`` — or at once for a
permanent failure — the row is dead and the document goes to the rejected queue with a
DELIVERY-FAILED finding, where an operator's ``queue retry`` re-delivers it. Sinks are
idempotent by document id, so a crash between delivering and recording repeats a delivery
without duplicating its effect.

An attempt has three steps so that the network part can run on a worker thread
(``gateway.delivery``) while the store is only touched by the thread that owns it:
``prepare`` (read the document) → ``attempt`` (call the sink) → ``record`` (commit the outcome).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from gateway import logs
from gateway.canonical import envelope
from gateway.faults import crash_point
from gateway.findings import error
from gateway.links import links as links_of
from gateway.logs import redact_text
from gateway.ports import Outgoing, Sink, SinkError
from gateway.runtime import Runtime
from gateway.store.base import Delivery, now

if TYPE_CHECKING:
    from gateway.config import SinkConfig

log = logs.get("gateway.outbox")

BACKOFF_BASE = 1.0
BACKOFF_CAP = 300.0
RETRY_AFTER_CAP = 6 * 3600.0  # a destination asking for more than this is treated as asking for this
HOLD = 60.0  # a delivery of a document that is not ready (rejected for another sink) is looked at again after this


def backoff(attempts: int, rng: random.Random | None = None, base: float | None = None,
            cap: float | None = None) -> float:
    """Seconds to wait after the ``attempts``-th failure: jitter over the upper half of an exponential ceiling."""
    base = BACKOFF_BASE if base is None else base
    cap = BACKOFF_CAP if cap is None else cap
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    return (rng or random).uniform(ceiling / 2, ceiling)


@dataclass
class Job:
    """One prepared attempt: what to send, to which sink, and how many attempts came before."""

    delivery: Delivery
    sink: Sink
    config: SinkConfig
    item: Outgoing
    was_forwarded: bool


def deliver_due(gw: Runtime, limit: int = 500) -> int:
    """Attempt every delivery that is due now, one after the other; return how many were attempted."""
    due = gw.store.due_deliveries(now(), limit)
    for delivery in due:
        job = prepare(gw, delivery)
        if job is not None:
            record(gw, job, attempt(job))
    return len(due)


def prepare(gw: Runtime, delivery: Delivery) -> Job | None:
    """Read what an attempt needs from the store; None when there is nothing to send (dead-letters a lost sink)."""
    store = gw.store
    doc = store.get(delivery.document_id)
    if doc is None or doc.state not in ("ready", "forwarded"):
        # e.g. dead-lettered for another sink: held (not attempted) until an operator acts on the document
        held = (datetime.now(UTC) + timedelta(seconds=HOLD)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        store.record_delivery(delivery.document_id, delivery.sink, "pending", delivery.attempts, held,
                              f"on hold: document is {doc.state if doc else 'missing'}", None)
        return None
    sink = gw.sinks.get(delivery.sink)
    config = gw.sink_config(delivery.sink)
    if sink is None or config is None:
        _dead(gw, delivery.document_id, delivery.sink, delivery.attempts,
              f"sink '{delivery.sink}' is no longer configured")
        return None
    container = store.get(doc.parent_id) if doc.parent_id else None
    archive = gw.archive
    links = links_of(store, doc, container=container)
    item = Outgoing(doc.id, doc.kind or "unknown", envelope(doc, store.findings(doc.id), links, container=container),
                    doc.filename, lambda: archive.read(doc.sha256), doc.business_key)
    return Job(delivery, sink, config, item, doc.state == "forwarded")


def attempt(job: Job) -> SinkError | None:
    """Call the sink (any thread). Returns the failure, or None when delivered; never raises."""
    try:
        job.sink.deliver(job.item)
    except SinkError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - a defect in a sink must not stop deliveries to the others
        log.exception("sink failed unexpectedly", document_id=job.item.id, sink=job.delivery.sink)
        return SinkError(f"internal error in sink ({type(exc).__name__})")
    crash_point("outbox.after-deliver")
    return None


def attempt_many(jobs: list[Job]) -> list[SinkError | None]:
    """Several documents for one sink in one request (its batch endpoint); one outcome per document."""
    if len(jobs) == 1:
        return [attempt(jobs[0])]
    sink: Any = jobs[0].sink
    try:
        results = list(sink.deliver_batch([job.item for job in jobs]))
    except SinkError as exc:
        return [exc] * len(jobs)
    except Exception as exc:  # noqa: BLE001 - as in attempt()
        log.exception("sink failed unexpectedly", sink=jobs[0].delivery.sink, documents=len(jobs))
        return [SinkError(f"internal error in sink ({type(exc).__name__})")] * len(jobs)
    if len(results) != len(jobs):
        return [SinkError("batch answer does not match the documents sent")] * len(jobs)
    for result in results:  # counted per document delivered, as one attempt at a time counts it
        if result is None:
            crash_point("outbox.after-deliver")
    return results


def record(gw: Runtime, job: Job, failure: SinkError | None) -> None:
    """Commit the outcome of an attempt: delivered, rescheduled with backoff, or dead letter."""
    store = gw.store
    document_id, sink_name = job.delivery.document_id, job.delivery.sink
    attempts = job.delivery.attempts + 1
    if failure is not None:
        message = redact_text(str(failure))  # stored, shown on the page and logged: a server may quote secrets
        if failure.retryable:  # a refused document is the document's fault, not the sink's
            gw.health.failed("sink", sink_name, message)
        if not failure.retryable or attempts >= job.config.max_attempts:
            _dead(gw, document_id, sink_name, attempts, message)
            return
        delay = backoff(attempts, base=job.config.backoff_base, cap=job.config.backoff_max)
        if failure.retry_after is not None:
            delay = max(delay, min(failure.retry_after, RETRY_AFTER_CAP))
        next_at = (datetime.now(UTC) + timedelta(seconds=delay)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        store.record_delivery(document_id, sink_name, "pending", attempts, next_at, message, None)
        log.warning("delivery failed, will retry", document_id=document_id, sink=sink_name, attempts=attempts,
                    retry_in_s=round(delay, 2), error=message)
        return
    gw.health.ok("sink", sink_name)
    stamp = now()
    with store.transaction():
        store.record_delivery(document_id, sink_name, "delivered", attempts, stamp, None, stamp)
        remaining = [d for d in store.deliveries(document_id) if d.state != "delivered"]
        doc = store.get(document_id)
        if not remaining and doc is not None and doc.state == "ready":
            store.set_state(document_id, "forwarded", gw.actor, "deliver", detail={"sink": sink_name})
        else:
            store.audit(document_id, gw.actor, "deliver", detail={"sink": sink_name})
    log.info("document delivered", document_id=document_id, sink=sink_name, attempts=attempts)


def _dead(gw: Runtime, document_id: str, sink_name: str, attempts: int, message: str) -> None:
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
