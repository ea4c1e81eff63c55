"""Several nodes on one store: each source polled by one node, the timers run by one, the work done by all.

With a PostgreSQL store several machines run ``immex-gateway run`` on the same configuration, all of them
active (the NiFi "primary node lists, every node processes" pattern, without ZooKeeper):

- **a source** is polled by the one node holding the lease ``source:<name>`` (a row in the store whose expiry
  is counted by the database's clock, so clock skew between nodes does not matter); the sources are shared
  out evenly among the live nodes, and a dead node's sources are taken over within ``lease_ttl``;
- **the coordinator** (lease ``coordinator``) resolves the correlation and IMMEX timeouts and sends the answers
  and notifications, so each of those happens once;
- **documents and deliveries** are claimed by whichever node is free (``gateway/store/node_queries.py``); the
  heartbeat renews this node's claims, so a SIGKILLed node's work falls free within ``lease_ttl``.

The heartbeat runs every ``lease_ttl / 3`` from a thread and store connection of its own. A node that cannot
reach the database for two thirds of the TTL drops its sources and the coordinator role at once (another node
may take them any moment) and takes them again when the database answers. A clean stop hands everything over
at once. An SQLite store is one machine's file: one node holds everything and no heartbeat is kept.
"""

from __future__ import annotations

import math
import threading
import time

from gateway import logs
from gateway.runtime import Runtime

log = logs.get("gateway.lease")

COORDINATOR = "coordinator"


def shared(gw: Runtime) -> bool:
    return not gw.settings.store_url.startswith("sqlite:")


def source_lease(name: str) -> str:
    return f"source:{name}"


class Membership:
    """This node among the nodes sharing a store: what it holds now, kept current by its heartbeat."""

    def __init__(self, gw: Runtime) -> None:
        self.node, self.ttl = gw.settings.node, gw.settings.lease_ttl
        self.shared = shared(gw)
        self._sources = [s.name for s in gw.settings.sources]
        self._gw = gw.fork() if self.shared else None
        self._lock = threading.Lock()
        self._held: set[str] = set() if self.shared else set(self._sources)
        self._coordinator = not self.shared
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._said: dict[str, str | None] = {}

    # what the main loop asks -------------------------------------------------------------------------------

    def holds(self, source_name: str) -> bool:
        with self._lock:
            return source_name in self._held

    @property
    def coordinator(self) -> bool:
        with self._lock:
            return self._coordinator

    def held(self) -> list[str]:
        with self._lock:
            return sorted(self._held)

    # life cycle --------------------------------------------------------------------------------------------

    def start(self) -> Membership:
        """The first heartbeat now (what this node holds is known before its first poll), then every TTL/3."""
        if self.shared:
            self.beat()
            self._thread.start()
        return self

    def stop(self) -> None:
        """A clean stop hands the sources, the coordinator role and the claims over at once."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.ttl)
        if self._gw is None:
            return
        store = self._gw.store
        try:
            for name in [*map(source_lease, self.held()), COORDINATOR]:
                store.release_lease(name, self.node)
            store.release_node(self.node)
        except Exception:  # noqa: BLE001 - they expire by themselves within lease_ttl
            log.warning("leases not released; they expire by themselves", node=self.node)
        self._gw.close()

    def beat(self) -> None:
        """Say this node is alive, renew its claims, and take, keep or hand over sources and the coordinator."""
        assert self._gw is not None
        store = self._gw.store
        store.beat(self.node, self.ttl, self.held())
        live = [n for n in store.nodes() if n["seconds_since_heartbeat"] < self.ttl]
        fair = math.ceil(len(self._sources) / max(1, len(live)))
        held: set[str] = set()
        for name in self._sources:
            mine = self.holds(name)
            if mine and len(held) >= fair and len(live) > 1:
                store.release_lease(source_lease(name), self.node)  # a node joined: share the sources out
                self._say(name, None)
                continue
            if not mine and len(held) >= fair:
                continue
            holder = store.take_lease(source_lease(name), self.node, self.ttl)
            self._say(name, holder)
            if holder == self.node:
                held.add(name)
        coordinator = store.take_lease(COORDINATOR, self.node, self.ttl) == self.node
        changed = held != set(self.held())
        with self._lock:
            self._held, self._coordinator = held, coordinator
        if changed:  # the overview shows what this node polls from now on
            store.beat(self.node, self.ttl, sorted(held))

    def _run(self) -> None:
        answered = time.monotonic()
        while not self._stop.wait(self.ttl / 3):
            try:
                self.beat()
                if time.monotonic() - answered > self.ttl * 2 / 3:
                    log.info("store reachable again: sources taken back", node=self.node, sources=self.held())
                answered = time.monotonic()
            except Exception as exc:  # noqa: BLE001 - the database may be failing over: retried each beat
                log.warning("heartbeat failed; retrying", node=self.node, error=str(exc))
                self._reconnect()
                if time.monotonic() - answered > self.ttl * 2 / 3 and (self.held() or self.coordinator):
                    log.error("store unreachable: sources and timers dropped until it answers", node=self.node,
                              sources=self.held())
                    with self._lock:
                        self._held, self._coordinator = set(), False

    def _reconnect(self) -> None:
        assert self._gw is not None
        try:
            self._gw.store.reconnect()
        except Exception as exc:  # noqa: BLE001 - tried again on the next beat
            log.warning("store still unreachable", node=self.node, error=str(exc))

    def _say(self, source: str, holder: str | None) -> None:
        if self._said.get(source, "") == holder:
            return
        self._said[source] = holder
        if holder == self.node:
            log.info("source taken: this node polls it", node=self.node, source=source)
        elif holder is None:
            log.info("source handed over to share the work", node=self.node, source=source)
        else:
            log.info("source polled by another node", node=self.node, source=source, holder=holder)
