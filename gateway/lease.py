"""One active node per shared store: the others wait as standbys and take over when it falls silent.

With a PostgreSQL store several machines can run ``immex-gateway run`` on the same configuration. One of them
holds the lease ``pipeline`` (a row in the store, with an expiry by the database's clock, so clock skew between
nodes does not matter) and runs sources, pipeline, deliveries and answers; the others poll the lease and wait.
The holder renews it every ``lease_ttl / 3`` from a thread of its own; a node that dies (SIGKILL, power,
network) stops renewing, and a standby takes over within ``lease_ttl`` (default 30 s) and carries on from the
store: what the dead node had committed is kept, what it had not is done again (the crash guarantees of one node).

Fencing: a holder that cannot renew in time (the database unreachable past two thirds of the TTL, or the lease
taken by another node after a long pause) stops its process at once (exit 75), so two nodes never run the
pipeline together; its service manager restarts it as a standby. A node is named by ``[gateway] node``
(default: the host name), so a process restarted on the same machine takes its own lease back at once.
An SQLite store is one machine's file: no lease is kept.
"""

from __future__ import annotations

import os
import threading
import time

from gateway import logs
from gateway.runtime import Runtime

log = logs.get("gateway.lease")

NAME = "pipeline"
EXIT_LEASE_LOST = 75


def shared(gw: Runtime) -> bool:
    return not gw.settings.store_url.startswith("sqlite:")


def holder_now(gw: Runtime) -> str:
    """Take the lease if it is free or ours; the holder afterwards (this node when taken)."""
    return gw.store.take_lease(NAME, gw.settings.node, gw.settings.lease_ttl)


def wait_for_lease(gw: Runtime, stop: threading.Event) -> bool:
    """Block as a standby until this node holds the lease (True), or until ``stop`` (False)."""
    if not shared(gw):
        return True
    said = None
    while not stop.is_set():
        holder = holder_now(gw)
        if holder == gw.settings.node:
            log.info("lease taken: this node runs the pipeline", node=gw.settings.node)
            return True
        if holder != said:
            log.info("standby: another node runs the pipeline", node=gw.settings.node, holder=holder)
            said = holder
        stop.wait(min(1.0, gw.settings.lease_ttl / 3))
    return False


class Heartbeat:
    """Renews the lease from its own thread and store connection; stops the process if it cannot."""

    def __init__(self, gw: Runtime) -> None:
        self.gw = gw.fork()
        self.node, self.ttl = gw.settings.node, gw.settings.lease_ttl
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease", daemon=True)

    def start(self) -> Heartbeat:
        if shared(self.gw):
            self._thread.start()
        return self

    def stop(self, release: bool = True) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.ttl)
        if release and shared(self.gw):
            try:
                self.gw.store.release_lease(NAME, self.node)  # a clean stop hands over at once
            except Exception:  # noqa: BLE001 - the lease then expires by itself
                log.warning("lease not released; it expires by itself", node=self.node)
        self.gw.close()

    def _run(self) -> None:
        renewed = time.monotonic()
        while not self._stop.wait(self.ttl / 3):
            try:
                holder = holder_now(self.gw)
            except Exception as exc:  # noqa: BLE001 - the database may be failing over: retried until the deadline
                log.warning("lease not renewed", node=self.node, error=str(exc))
                holder = None
            if holder == self.node:
                renewed = time.monotonic()
                continue
            if holder is not None or time.monotonic() - renewed > self.ttl * 2 / 3:
                log.error("lease lost: stopping so that two nodes never run together", node=self.node,
                          holder=holder)
                os._exit(EXIT_LEASE_LOST)
