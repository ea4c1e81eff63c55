"""Claims and heartbeats: how several nodes share one store's work without doing any of it twice.

A claim is a row ``(key, node, expires_at)``: a document to validate (``doc:<id>``) or a delivery to attempt
(``out:<id>:<sink>``) belongs to the node that claimed it until the claim expires. A node renews all its
claims with its heartbeat, so a live node keeps its work however long it takes and a SIGKILLed node's work
falls free within ``lease_ttl``. Expiry is counted by the database's clock (``_epoch_now``), never a node's,
so clock skew between machines does not matter. Claiming runs in a write transaction that excludes every other
claimer (SQLite's BEGIN IMMEDIATE; on PostgreSQL the keys ``claims:doc`` and ``claims:out``), so two nodes never
hold one key, while the other nodes' verdicts and deliveries commit meanwhile.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from gateway.store.base import now


class NodeQueries:
    """Mixed into the SQL stores; uses their connection, transaction and clock."""

    _db: Any

    if TYPE_CHECKING:  # provided by the store this is mixed into
        def transaction(self, keys: Iterable[str] | None = None) -> AbstractContextManager[None]: ...

        @staticmethod
        def _epoch_now() -> str: ...

    def claim_documents(self, states: Iterable[str], node: str, ttl: float, limit: int,
                        skip: Iterable[str] = ()) -> list[str]:
        """Up to ``limit`` documents in ``states`` that no other live node holds, oldest first, claimed at once."""
        states, skip = list(states), set(skip)
        clock = self._epoch_now()
        with self.transaction(keys=["claims:doc"]):  # claimers of documents one at a time, the rest side by side
            rows = self._db.execute(
                f"SELECT d.id FROM documents d WHERE d.state IN ({', '.join('?' * len(states))}) "
                "AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.key = 'doc:' || d.id AND c.node != ? "
                f"AND c.expires_at > {clock}) ORDER BY d.received_at, d.id LIMIT ?",
                [*states, node, limit + len(skip)])
            ids = [row[0] for row in rows if row[0] not in skip][:limit]
            self._hold([f"doc:{i}" for i in ids], node, ttl)
        return ids

    def claim_deliveries(self, rows: Iterable[tuple[str, str, int]], node: str, ttl: float) -> list[str]:
        """Claim the deliveries ``(document id, sink, attempts)`` read a moment ago that are still as read:
        pending, with no outcome recorded since (the same attempts) and no other live node on them. A list read
        before another node recorded its delivery is thus never attempted a second time."""
        rows = list(rows)
        if not rows:
            return []
        with self.transaction(keys=["claims:out"]):
            keys = [f"out:{document_id}:{sink}" for document_id, sink, _ in rows]
            held = self._held_by_others(keys, node)
            mine = []
            for key, (document_id, sink, attempts) in zip(keys, rows, strict=True):
                if key in held:
                    continue
                row = self._db.execute("SELECT state, attempts FROM outbox WHERE document_id = ? AND sink = ?",
                                       (document_id, sink)).fetchone()
                if row is not None and row[0] == "pending" and row[1] == attempts:
                    mine.append(key)
            self._hold(mine, node, ttl)
        return mine

    def release_claims(self, keys: Iterable[str], node: str) -> None:
        keys = list(keys)
        if keys:
            with self.transaction(keys=[]):  # only this node's own rows
                self._db.executemany("DELETE FROM claims WHERE key = ? AND node = ?", [(k, node) for k in keys])

    def beat(self, node: str, ttl: float, sources: Iterable[str]) -> int:
        """The node's heartbeat: its row refreshed and every claim it holds renewed; returns the claims held."""
        clock = self._epoch_now()
        with self.transaction(keys=[]):  # this node's own rows: never waits for another node's batch
            self._db.execute(
                f"INSERT INTO nodes (node, pid, started_at, heartbeat_at, sources) VALUES (?, ?, ?, {clock}, ?) "
                "ON CONFLICT (node) DO UPDATE SET pid = excluded.pid, heartbeat_at = excluded.heartbeat_at, "
                "sources = excluded.sources, started_at = CASE WHEN nodes.pid = excluded.pid "
                "THEN nodes.started_at ELSE excluded.started_at END",
                (node, os.getpid(), now(), ",".join(sorted(sources))))
            cursor = self._db.execute(f"UPDATE claims SET expires_at = {clock} + ? WHERE node = ?", (ttl, node))
            return int(cursor.rowcount or 0)

    def release_node(self, node: str) -> None:
        """A clean stop: the node's row and claims go at once (its work is free for the others)."""
        with self.transaction():
            self._db.execute("DELETE FROM claims WHERE node = ?", (node,))
            self._db.execute("DELETE FROM nodes WHERE node = ?", (node,))

    def nodes(self) -> list[dict[str, Any]]:
        """Every node that ever beat, with the seconds since its last heartbeat (database clock) and its sources."""
        rows = self._db.execute(
            f"SELECT n.node, n.pid, n.started_at, {self._epoch_now()} - n.heartbeat_at, n.sources, "
            "(SELECT COUNT(*) FROM claims c WHERE c.node = n.node) FROM nodes n ORDER BY n.node")
        return [{"node": r[0], "pid": r[1], "started_at": r[2], "seconds_since_heartbeat": float(r[3]),
                 "sources": [s for s in (r[4] or "").split(",") if s], "claims": int(r[5])} for r in rows]

    def _hold(self, keys: list[str], node: str, ttl: float) -> None:
        """Take or renew ``keys`` for ``node`` until ``ttl`` seconds from now (database clock); inside the caller's
        write transaction, after it has checked no other live node holds them."""
        self._db.executemany(
            f"INSERT INTO claims (key, node, expires_at) VALUES (?, ?, {self._epoch_now()} + ?) "
            "ON CONFLICT (key) DO UPDATE SET node = excluded.node, expires_at = excluded.expires_at",
            [(key, node, ttl) for key in keys])

    def _held_by_others(self, keys: list[str], node: str) -> set[str]:
        held: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows = self._db.execute(
                f"SELECT key FROM claims WHERE key IN ({', '.join('?' * len(chunk))}) AND node != ? "
                f"AND expires_at > {self._epoch_now()}", [*chunk, node])
            held.update(row[0] for row in rows)
        return held
