"""Health of sources and sinks: what ``/healthz`` and the overview page show.

A component is unhealthy after ``UNHEALTHY_AFTER`` consecutive failures (one refused
connection is weather, three are an outage). Only changes are written to the store, so a
healthy source polled every second costs no write.
"""

from __future__ import annotations

from typing import Any

from gateway import logs
from gateway.store.base import CoreStore as Store

log = logs.get("gateway.health")

UNHEALTHY_AFTER = 3


class HealthMonitor:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._failures: dict[tuple[str, str], int] = {}

    def ok(self, component: str, name: str) -> None:
        key = (component, name)
        if self._failures.get(key) == 0:
            return
        if self._failures.get(key, 0) >= UNHEALTHY_AFTER:
            log.info("component recovered", component=component, name=name)
        self._failures[key] = 0
        self._store.record_health(component, name, True, 0)

    def failed(self, component: str, name: str, error: str) -> None:
        key = (component, name)
        count = self._failures.get(key, 0) + 1
        self._failures[key] = count
        healthy = count < UNHEALTHY_AFTER
        if count == UNHEALTHY_AFTER:
            log.error("component unhealthy", component=component, name=name, failures=count, error=error)
        self._store.record_health(component, name, healthy, count, error)


def snapshot(store: Store, node: str | None = None, lease_ttl: float = 30.0) -> dict[str, Any]:
    """``{"status", "node", "components", "nodes", "leases"}`` for ``/healthz``.

    ``node`` is the node answering; ``nodes`` every node of a shared store with the seconds since its heartbeat
    and the sources it polls; ``leases`` who holds each source and the coordinator role, and the seconds left.
    A node silent for longer than ``lease_ttl`` (dead, or cut off from the database) makes the status degraded
    until it beats again or another node has taken its work over and it is removed (a clean stop removes it)."""
    components = store.health()
    nodes = store.nodes()
    for entry in nodes:
        entry["alive"] = entry["seconds_since_heartbeat"] < lease_ttl
    status = "ok" if all(c["healthy"] for c in components) and all(n["alive"] for n in nodes) else "degraded"
    return {"status": status, "node": node, "components": components, "nodes": nodes, "leases": store.leases()}
