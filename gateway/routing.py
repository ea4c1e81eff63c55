"""After normalisation: cancelled at SAT, into correlation (pending for counterparts), or straight to the outbox.

Shared by the pipeline and by the steps that let a waiting document go on later (an IMMEX discharge whose
original arrived or timed out), so both reach the outbox the same way, inside the caller's transaction.
"""

from __future__ import annotations

from typing import Any

from gateway import cancellation, logs
from gateway.correlation import correlate
from gateway.runtime import Runtime
from gateway.store.base import now

log = logs.get("gateway.pipeline")


def route(gw: Runtime, document_id: str, kind_name: str | None, record: dict[str, Any] | None) -> str:
    """Inside the caller's transaction; returns the document's new state."""
    store = gw.store
    routed = cancellation.route(gw, document_id, kind_name, record)  # cancelled at SAT?
    if routed is not None:
        return routed
    routed = correlate.route(gw, document_id, kind_name, record)  # pending for counterparts?
    if routed is not None:
        log.info("document correlated", kind=kind_name, state=routed)
        return routed
    sinks = [c.name for c in gw.settings.sinks]
    store.set_state(document_id, "ready", gw.actor, "route", detail={"sinks": sinks})
    store.enqueue(document_id, sinks, now())
    log.info("document ready", kind=kind_name)
    return "ready"
