"""SQLite store (WAL): the embedded default. One connection per Store; use one Store per thread."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from contextlib import AbstractContextManager, contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Iterator

from gateway.errors import TransitionRefused
from gateway.findings import Finding, Severity
from gateway.store.base import AuditEntry, Delivery, Document, dumps, now
from gateway.store.immex_queries import ImmexQueries
from gateway.store.node_queries import NodeQueries
from gateway.store.states import check_transition
from gateway.store.web_queries import WebQueries

_DOC_COLUMNS = (
    "id", "kind", "declared_kind", "state", "source_name", "filename", "sha256", "size", "received_at",
    "updated_at", "source_acked_at", "parent_id", "duplicate_of", "replaces_id", "business_key", "record",
    "error_count", "first_error",
)
_UPDATABLE = set(_DOC_COLUMNS) - {"id", "received_at"}


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every file in gateway/store/migrations, in order."""
    folder = resources.files("gateway.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


class SqliteStore(WebQueries, ImmexQueries, NodeQueries):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not self.path.exists():  # owner-only from the first byte; SQLite gives its -wal and -shm the same mode
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        self._db = sqlite3.connect(str(self.path), isolation_level=None, timeout=30, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a committed state change survives power loss
        self._db.execute("PRAGMA foreign_keys=ON")
        self._depth = 0
        self._writer = _writer_lock(self.path)
        self.node: str | None = None  # the node named in the audit rows this connection writes (gateway.runtime)
        self._migrate()

    @classmethod
    def from_url(cls, url: str) -> SqliteStore:
        return cls(url[len("sqlite:///"):])

    def close(self) -> None:
        self._db.close()

    def reconnect(self) -> None:
        """A file needs no reconnection (the server stores replace their connection here)."""

    def _migrate(self) -> None:
        with self.transaction():
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "applied_at TEXT NOT NULL)"
            )
            applied = {row[0] for row in self._db.execute("SELECT version FROM schema_migrations")}
            for version, name, sql in migrations():
                if version in applied:
                    continue
                for statement in _statements(sql):
                    self._db.execute(statement)
                self._db.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, now()))

    def schema_version(self) -> int:
        row = self._db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    #: SQLite takes its write lock with BEGIN IMMEDIATE; another dialect opens a plain BEGIN and takes its own
    _IMMEDIATE = True

    def _take_write_lock(self, keys: list[str] | None) -> None:
        """Inside a new outermost transaction, before its first statement: one writer at a time (see BEGIN).
        ``keys``: what the transaction touches, for a dialect that can let writers on other keys in."""

    def lock_keys(self, keys: Iterable[str]) -> None:
        """Inside a keyed transaction, more keys met on the way (a correlation group's); SQLite holds them all."""

    def _queue(self, keys: Iterable[str] | None) -> AbstractContextManager[object]:
        """Where this process's threads wait for their turn to write: SQLite has one writer, so always here."""
        return self._writer

    def _before_commit(self) -> None:
        """The last writes of an outermost transaction (a dialect that defers some, e.g. audit rows)."""

    def _after_end(self) -> None:
        """The outermost transaction ended (committed or rolled back)."""

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextmanager
    def transaction(self, keys: Iterable[str] | None = None) -> Iterator[None]:
        """Nested calls join the outer transaction; the outermost commits (durably) or rolls back.

        ``keys`` names what the transaction reads and writes (``doc:<id>``, ``key:<business key>`` …): on a
        dialect with finer locks (PostgreSQL) writers on different keys run side by side; without keys a
        transaction has the store to itself, as SQLite's single writer always has."""
        if self._depth:
            self._depth += 1
            try:
                if keys is not None:
                    self.lock_keys(keys)
                yield
            finally:
                self._depth -= 1
            return
        with self._queue(keys):  # threads of this process queue here instead of in SQLite's sleeping busy handler
            self._db.execute("BEGIN IMMEDIATE" if self._IMMEDIATE else "BEGIN")
            self._depth = 1
            try:
                self._take_write_lock(None if keys is None else list(keys))
                yield
                self._before_commit()
            except BaseException:
                self._depth = 0
                try:
                    self._db.execute("ROLLBACK")
                finally:
                    self._after_end()
                raise
            self._depth = 0
            try:
                self._db.execute("COMMIT")
            finally:
                self._after_end()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A transaction inside the current one that can fail alone: its writes are undone, the outer
        transaction's kept (one document of a batch committed together). Outside a transaction: ``transaction``."""
        if not self._depth:
            with self.transaction():
                yield
            return
        name = f"sp{self._depth}"
        self._db.execute(f"SAVEPOINT {name}")
        mark = self._savepoint_mark()
        self._depth += 1
        try:
            yield
        except BaseException:
            self._depth -= 1
            self._db.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self._db.execute(f"RELEASE SAVEPOINT {name}")
            self._rolled_back_to(mark)
            raise
        self._depth -= 1
        self._db.execute(f"RELEASE SAVEPOINT {name}")

    def _flush_audit(self) -> None:
        """Write the audit rows a dialect deferred (before a read of the trail inside the same transaction)."""

    def _savepoint_mark(self) -> Any:
        return None

    def _rolled_back_to(self, mark: Any) -> None:
        """Undo what a dialect deferred since ``mark`` (the savepoint's writes are gone)."""

    # documents -----------------------------------------------------------------------------------------

    def insert_document(self, doc: Document, actor: str, action: str, reason: str | None = None) -> None:
        values = [_to_column(name, getattr(doc, name)) for name in _DOC_COLUMNS]
        with self.transaction():
            self._db.execute(
                f"INSERT INTO documents ({', '.join(_DOC_COLUMNS)}) VALUES ({', '.join('?' * len(_DOC_COLUMNS))})",
                values,
            )
            self._audit(doc.id, actor, action, None, doc.state, reason, None)

    def get(self, document_id: str) -> Document | None:
        row = self._db.execute("SELECT * FROM documents WHERE id = ?", (document_id,)).fetchone()
        return _document(row) if row else None

    def find_by_sha256(self, sha256: str) -> list[Document]:
        rows = self._db.execute("SELECT * FROM documents WHERE sha256 = ? ORDER BY received_at, id", (sha256,))
        return [_document(r) for r in rows]

    def list_documents(self, states: Iterable[str] | None = None, limit: int | None = None,
                       offset: int = 0) -> list[Document]:
        sql, params = "SELECT * FROM documents", list[Any]()
        if states is not None:
            states = list(states)
            sql += f" WHERE state IN ({', '.join('?' * len(states))})"
            params.extend(states)
        sql += " ORDER BY received_at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params.extend([limit, offset])
        return [_document(r) for r in self._db.execute(sql, params)]

    def ids_in_states(self, states: Iterable[str]) -> list[str]:
        states = list(states)
        rows = self._db.execute(
            f"SELECT id FROM documents WHERE state IN ({', '.join('?' * len(states))}) ORDER BY received_at, id",
            states,
        )
        return [r[0] for r in rows]

    def set_state(self, document_id: str, to_state: str, actor: str, action: str, reason: str | None = None,
                  detail: dict[str, Any] | None = None, *, from_state: str | None = None, **fields: Any) -> None:
        """``from_state``: the state the caller read in this same transaction (not asked again)."""
        with self.transaction():
            if from_state is None:
                row = self._db.execute("SELECT state FROM documents WHERE id = ?", (document_id,)).fetchone()
                if row is None:
                    raise KeyError(document_id)
                from_state = row[0]
            to_state = check_transition(document_id, from_state, to_state).value
            self._write(document_id, state=to_state, **fields)
            self._audit(document_id, actor, action, from_state, to_state, reason, detail)

    def update_fields(self, document_id: str, **fields: Any) -> None:
        if "state" in fields:  # the one method that changes state is set_state: checked and audited
            raise TransitionRefused(f"document {document_id}: a state changes only through set_state")
        self._write(document_id, **fields)

    def _write(self, document_id: str, **fields: Any) -> None:
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        fields["updated_at"] = now()
        assignments = ", ".join(f"{name} = ?" for name in fields)
        values = [_to_column(name, value) for name, value in fields.items()]
        self._db.execute(f"UPDATE documents SET {assignments} WHERE id = ?", [*values, document_id])

    def audit(self, document_id: str, actor: str, action: str, reason: str | None = None,
              detail: dict[str, Any] | None = None) -> None:
        with self.transaction():
            state = self._db.execute("SELECT state FROM documents WHERE id = ?", (document_id,)).fetchone()[0]
            self._audit(document_id, actor, action, state, state, reason, detail)

    def _audit(self, document_id: str, actor: str, action: str, from_state: str | None, to_state: str | None,
               reason: str | None, detail: dict[str, Any] | None) -> None:
        self._insert_audit([(document_id, now(), actor, action, from_state, to_state, reason,
                             dumps(detail) if detail else None, self.node)])

    _AUDIT_INSERT = ("INSERT INTO audit (document_id, at, actor, action, from_state, to_state, reason, detail, node) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")

    def _insert_audit(self, rows: list[tuple[Any, ...]]) -> None:
        """Audit rows get their ids in commit order (readers follow the trail by id): written at once here, where
        one writer holds the store; a dialect with concurrent writers defers them to its commit."""
        self._db.executemany(self._AUDIT_INSERT, rows)

    # findings and history ------------------------------------------------------------------------------

    def replace_findings(self, document_id: str, findings: list[Finding]) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM findings WHERE document_id = ?", (document_id,))
            self._insert_findings(document_id, findings)
            errors = [f.message for f in findings if f.severity is Severity.ERROR]  # the whole set: no need to ask
            self.update_fields(document_id, error_count=len(errors), first_error=errors[0] if errors else None)

    def add_findings(self, document_id: str, findings: list[Finding]) -> None:
        with self.transaction():
            self._insert_findings(document_id, findings)
            errors = self._db.execute(
                "SELECT COUNT(*), (SELECT message FROM findings WHERE document_id = ? AND severity = 'error' "
                "ORDER BY id LIMIT 1) FROM findings WHERE document_id = ? AND severity = 'error'",
                (document_id, document_id),
            ).fetchone()
            self.update_fields(document_id, error_count=errors[0], first_error=errors[1])

    def _insert_findings(self, document_id: str, findings: list[Finding]) -> None:
        at = now()
        self._db.executemany(
            "INSERT INTO findings (document_id, code, severity, message, location, sat_code, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(document_id, f.code, f.severity.value, f.message, dumps(f.location), f.sat_code, at) for f in findings],
        )

    def findings(self, document_id: str) -> list[Finding]:
        rows = self._db.execute("SELECT * FROM findings WHERE document_id = ? ORDER BY id", (document_id,))
        return [
            Finding(r["code"], Severity(r["severity"]), r["message"], json.loads(r["location"]), r["sat_code"])
            for r in rows
        ]

    def audit_trail(self, document_id: str) -> list[AuditEntry]:
        self._flush_audit()
        rows = self._db.execute("SELECT * FROM audit WHERE document_id = ? ORDER BY id", (document_id,))
        return [
            AuditEntry(r["id"], r["document_id"], r["at"], r["actor"], r["action"], r["from_state"], r["to_state"],
                       r["reason"], json.loads(r["detail"]) if r["detail"] else None, r["node"])
            for r in rows
        ]

    # outbox ----------------------------------------------------------------------------------------------

    def enqueue(self, document_id: str, sinks: Iterable[str], at: str) -> None:
        with self.transaction():
            # group_key: one business group (a pedimento, a UUID) or, failing that, the file a part came from;
            # seq keeps the order of enqueueing and survives an operator's re-enqueue (see due_deliveries)
            self._db.executemany(
                "INSERT INTO outbox (document_id, sink, state, attempts, next_attempt_at, group_key, seq) "
                "VALUES (?, ?, 'pending', 0, ?, "
                "(SELECT COALESCE(business_key, parent_id) FROM documents WHERE id = ?), "
                "(SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox)) "
                "ON CONFLICT (document_id, sink) DO UPDATE SET state = 'pending', attempts = 0, "
                "next_attempt_at = excluded.next_attempt_at, last_error = NULL "
                "WHERE outbox.state != 'delivered'",
                [(document_id, sink, at, document_id) for sink in sinks],
            )

    def due_deliveries(self, at: str, limit: int = 100, node: str | None = None) -> list[Delivery]:
        """Due deliveries, oldest first; a delivery waits while an earlier one of its group is still pending for
        the same sink (order kept). With ``node`` (several nodes), those another live node has claimed are left
        out: otherwise every node would keep reading the same head of the queue that one node holds."""
        others = ""
        params: list[Any] = [at]
        if node is not None:
            others = ("AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.key = 'out:' || o.document_id || ':' || o.sink "
                      f"AND c.node != ? AND c.expires_at > {self._epoch_now()}) ")
            params.append(node)
        rows = self._db.execute(
            "SELECT * FROM outbox o WHERE o.state = 'pending' AND o.next_attempt_at <= ? "
            "AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.sink = o.sink AND p.group_key = o.group_key "
            f"AND p.state = 'pending' AND p.seq < o.seq) {others}"
            "ORDER BY o.next_attempt_at, o.seq LIMIT ?",
            [*params, limit],
        )
        return [_delivery(r) for r in rows]

    def deliveries(self, document_id: str) -> list[Delivery]:
        rows = self._db.execute("SELECT * FROM outbox WHERE document_id = ? ORDER BY sink", (document_id,))
        return [_delivery(r) for r in rows]

    def pending_delivery_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[0]

    def next_delivery_at(self) -> str | None:
        return self._db.execute("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'").fetchone()[0]

    def record_delivery(self, document_id: str, sink: str, state: str, attempts: int, next_attempt_at: str,
                        last_error: str | None, delivered_at: str | None) -> None:
        with self.transaction():
            self._db.execute(
                "UPDATE outbox SET total_attempts = total_attempts + CASE WHEN ? > attempts THEN ? - attempts ELSE 0 "
                "END, dead_letters = dead_letters + CASE WHEN ? = 'dead' AND state != 'dead' THEN 1 ELSE 0 END, "
                "state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, delivered_at = ? "
                "WHERE document_id = ? AND sink = ?",
                (attempts, attempts, state, state, attempts, next_attempt_at, last_error, delivered_at, document_id,
                 sink),
            )

    def counts_by_state(self) -> dict[str, int]:
        rows = self._db.execute("SELECT state, COUNT(*) FROM documents GROUP BY state")
        return {r[0]: r[1] for r in rows}

    def counts_by_kind_and_state(self) -> list[tuple[str | None, str, int]]:
        rows = self._db.execute("SELECT kind, state, COUNT(*) FROM documents GROUP BY kind, state ORDER BY 1, 2")
        return [(r[0], r[1], r[2]) for r in rows]

    def delivery_counts(self) -> list[tuple[str, str, int, int]]:
        """(sink, state, rows, attempts) over the outbox."""
        rows = self._db.execute(
            "SELECT sink, state, COUNT(*), COALESCE(SUM(attempts), 0) FROM outbox GROUP BY sink, state ORDER BY 1, 2")
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    # health ----------------------------------------------------------------------------------------------

    def record_health(self, component: str, name: str, healthy: bool, consecutive_failures: int,
                      error: str | None = None) -> None:
        stamp = now()
        with self.transaction():
            self._db.execute(
                "INSERT INTO component_health (component, name, healthy, consecutive_failures, last_ok_at, "
                "last_failure_at, last_error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (component, name) DO UPDATE SET healthy = excluded.healthy, "
                "consecutive_failures = excluded.consecutive_failures, "
                "last_ok_at = COALESCE(excluded.last_ok_at, component_health.last_ok_at), "
                "last_failure_at = COALESCE(excluded.last_failure_at, component_health.last_failure_at), "
                "last_error = COALESCE(excluded.last_error, component_health.last_error), "
                "updated_at = excluded.updated_at",
                (component, name, int(healthy), consecutive_failures, None if error else stamp,
                 stamp if error else None, error, stamp),
            )

    def health(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM component_health ORDER BY component, name")
        return [dict(r) | {"healthy": bool(r["healthy"])} for r in rows]

    # SAT catalog sets (migration 0063) --------------------------------------------------------------------

    def publish_catalog_set(self, sha256: str, data: bytes, node: str) -> int:
        """The new set in force for every node; older sets are dropped in the same transaction."""
        with self.transaction():
            cursor = self._db.execute("INSERT INTO sat_catalog_sets (sha256, size, data, published_at, node) "
                                      "VALUES (?, ?, ?, ?, ?) RETURNING id", (sha256, len(data), data, now(), node))
            set_id = int(cursor.fetchone()[0])
            self._db.execute("DELETE FROM sat_catalog_sets WHERE id < ?", (set_id,))
        return set_id

    def latest_catalog_set(self) -> tuple[int, str] | None:
        row = self._db.execute("SELECT id, sha256 FROM sat_catalog_sets ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def catalog_set_data(self, set_id: int) -> bytes | None:
        row = self._db.execute("SELECT data FROM sat_catalog_sets WHERE id = ?", (set_id,)).fetchone()
        return None if row is None else bytes(row[0])

    # answers to senders (migration 0027) -----------------------------------------------------------------

    def changed_documents(self, after_audit_id: int, limit: int = 5000) -> tuple[list[str], int]:
        """Documents with an audit row after ``after_audit_id`` (oldest first), and the last audit id read."""
        self._flush_audit()
        rows = self._db.execute("SELECT id, document_id FROM audit WHERE id > ? ORDER BY id LIMIT ?",
                                (after_audit_id, limit)).fetchall()
        if not rows:
            return [], after_audit_id
        return list(dict.fromkeys(r[1] for r in rows)), rows[-1][0]

    def cursor(self, name: str) -> tuple[int, str | None]:
        """(audit id, when it was set) of a reader of the audit trail; (0, None) before its first pass."""
        row = self._db.execute("SELECT audit_id, updated_at FROM cursors WHERE name = ?", (name,)).fetchone()
        return (row[0], row[1]) if row else (0, None)

    def set_cursor(self, name: str, audit_id: int) -> None:
        with self.transaction():
            self._db.execute("INSERT INTO cursors (name, audit_id, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) "
                             "DO UPDATE SET audit_id = excluded.audit_id, updated_at = excluded.updated_at",
                             (name, audit_id, now()))

    def rejections_since(self, after_audit_id: int, limit: int = 10000) -> list[dict[str, Any]]:
        """Documents that became ``rejected`` after ``after_audit_id`` (dead letters included), oldest first."""
        self._flush_audit()
        rows = self._db.execute(
            "SELECT a.id AS audit_id, a.action, a.at, d.id, d.source_name, d.filename, d.kind FROM audit a "
            "JOIN documents d ON d.id = a.document_id WHERE a.id > ? AND a.to_state = 'rejected' "
            "AND (a.from_state IS NULL OR a.from_state != 'rejected') ORDER BY a.id LIMIT ?", (after_audit_id, limit))
        return [dict(r) for r in rows]

    def last_audit_id(self) -> int:
        self._flush_audit()
        return self._db.execute("SELECT COALESCE(MAX(id), 0) FROM audit").fetchone()[0]

    def family(self, root_id: str) -> list[Document]:
        """A received file and everything that came of it: its parts (at any depth) and their replacements."""
        rows = self._db.execute(
            "WITH RECURSIVE fam(id) AS (SELECT CAST(? AS TEXT) UNION SELECT d.id FROM documents d JOIN fam "
            "ON d.parent_id = fam.id OR d.replaces_id = fam.id) "
            "SELECT d.* FROM documents d JOIN fam ON d.id = fam.id ORDER BY d.received_at, d.id", (root_id,))
        return [_document(r) for r in rows]

    def last_answer(self, document_id: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM answers WHERE document_id = ? ORDER BY seq DESC LIMIT 1",
                               (document_id,)).fetchone()
        return dict(row) if row else None

    def add_answer(self, answer: dict[str, Any]) -> None:
        with self.transaction():
            columns = ", ".join(answer)
            self._db.execute(f"INSERT INTO answers ({columns}) VALUES ({', '.join('?' * len(answer))})",
                             list(answer.values()))

    def due_answers(self, at: str, limit: int = 100) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM answers WHERE state = 'pending' AND next_attempt_at <= ? "
                                "ORDER BY created_at, document_id, seq LIMIT ?", (at, limit))
        return [dict(r) for r in rows]

    def update_answer(self, document_id: str, seq: int, **fields: Any) -> None:
        with self.transaction():
            sets = ", ".join(f"{k} = ?" for k in fields)
            self._db.execute(f"UPDATE answers SET {sets} WHERE document_id = ? AND seq = ?",
                             [*fields.values(), document_id, seq])

    def answers_by_source(self) -> list[dict[str, Any]]:
        """Per source: answers written, waiting, the last written and the last error (the overview)."""
        rows = self._db.execute(
            "SELECT source_name, SUM(CASE WHEN state = 'written' THEN 1 ELSE 0 END) AS written, "
            "SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) AS waiting, "
            "MAX(written_at) AS last_written_at, MAX(CASE WHEN state = 'pending' THEN last_error END) AS last_error "
            "FROM answers GROUP BY source_name ORDER BY source_name")
        return [dict(r) for r in rows]

    # ERP material master (erp.materials chunks) -------------------------------------------------------

    def upsert_materials(self, document_id: str, materials: list[tuple[str, Any, Any, Any, Any]]) -> None:
        """(part_number, material_type, fraccion, nico, umt) from a clean erp.materials chunk; newest wins."""
        stamp = now()
        with self.transaction():
            self._db.executemany(
                "INSERT INTO erp_materials (part_number, material_type, fraccion, nico, umt, document_id, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (part_number) DO UPDATE SET "
                "material_type = excluded.material_type, fraccion = excluded.fraccion, nico = excluded.nico, "
                "umt = excluded.umt, document_id = excluded.document_id, updated_at = excluded.updated_at",
                [(*m, document_id, stamp) for m in materials],
            )

    def known_parts(self, part_numbers: Iterable[str]) -> set[str]:
        """The part numbers among these that the material master holds."""
        parts, known = list(part_numbers), set[str]()
        for start in range(0, len(parts), 500):
            batch = parts[start:start + 500]
            rows = self._db.execute(
                f"SELECT part_number FROM erp_materials WHERE part_number IN ({', '.join('?' * len(batch))})", batch)
            known.update(r[0] for r in rows)
        return known

    def material_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM erp_materials").fetchone()[0]

    def materials(self, part_numbers: Iterable[str]) -> dict[str, tuple[Any, Any, Any, Any, str]]:
        """part number -> (material_type, fraccion, nico, umt, document_id) for those the master holds."""
        parts = list(part_numbers)
        found: dict[str, tuple[Any, Any, Any, Any, str]] = {}
        for start in range(0, len(parts), 500):
            batch = parts[start:start + 500]
            rows = self._db.execute(
                "SELECT part_number, material_type, fraccion, nico, umt, document_id FROM erp_materials "
                f"WHERE part_number IN ({', '.join('?' * len(batch))})", batch)
            found.update((r[0], (r[1], r[2], r[3], r[4], r[5])) for r in rows)
        return found

    # links by business key (resends, rectifications) ----------------------------------------------------

    def find_by_business_key(self, business_key: str, kind: str | None = None) -> list[Document]:
        sql, params = "SELECT * FROM documents WHERE business_key = ?", [business_key]
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        return [_document(r) for r in self._db.execute(sql + " ORDER BY received_at, id", params)]

    def add_link(self, document_id: str, target_id: str, role: str) -> None:
        with self.transaction():
            self._db.execute("INSERT INTO document_links (document_id, target_id, role, created_at) "
                             "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", (document_id, target_id, role, now()))

    def attachments(self, container_id: str) -> list[Document]:
        """The attachments (PDF, images, acuses) a container file carried, in the order of the file."""
        rows = self._db.execute("SELECT * FROM documents WHERE parent_id = ? AND state = 'attached' "
                                "ORDER BY received_at, id", (container_id,))
        return [_document(r) for r in rows]

    def referring_documents(self, document_id: str) -> list[tuple[str, Document]]:
        """(role, document) of the documents that point at this one: its parts, its replacement, its duplicates."""
        found: list[tuple[str, Document]] = []
        for role, column in (("part", "parent_id"), ("replaced-by", "replaces_id"), ("duplicate", "duplicate_of")):
            rows = self._db.execute(
                f"SELECT * FROM documents WHERE {column} = ? ORDER BY received_at, id LIMIT 500", (document_id,))
            found += [(role, _document(r)) for r in rows]
        return found

    def links(self, document_id: str) -> list[dict[str, Any]]:
        """``[{kind, id, role}]`` of the documents this one points to (for the canonical envelope)."""
        rows = self._db.execute("SELECT d.kind, l.target_id, l.role FROM document_links l JOIN documents d ON "
                                "d.id = l.target_id WHERE l.document_id = ? ORDER BY l.created_at, l.target_id",
                                (document_id,))
        return [{"kind": r[0], "id": r[1], "role": r[2]} for r in rows]


    # correlation (pedimento ⇄ COVE ⇄ CFDI) -----------------------------------------------------------------

    def put_correlation_keys(self, document_id: str, provides: Iterable[tuple[str, str]],
                             needs: Iterable[tuple[str, str]]) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM correlation_keys WHERE document_id = ?", (document_id,))
            self._db.executemany(
                "INSERT INTO correlation_keys (document_id, role, key_type, key_value) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [(document_id, "provides", t, v) for t, v in provides]
                + [(document_id, "needs", t, v) for t, v in needs])

    def correlation_keys(self, document_id: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
        """(provides, needs) of one document."""
        provides: set[tuple[str, str]] = set()
        needs: set[tuple[str, str]] = set()
        for row in self._db.execute("SELECT role, key_type, key_value FROM correlation_keys WHERE document_id = ?",
                                    (document_id,)):
            (provides if row[0] == "provides" else needs).add((row[1], row[2]))
        return provides, needs

    def documents_with_key(self, key_type: str, key_value: str) -> list[str]:
        rows = self._db.execute(
            "SELECT DISTINCT document_id FROM correlation_keys WHERE key_type = ? AND key_value = ?",
            (key_type, key_value))
        return [r[0] for r in rows]

    def set_correlation_member(self, document_id: str, status: str, since: str | None = None) -> None:
        """``since`` starts (or restarts) the wait; without it the wait keeps its start."""
        with self.transaction():
            stamp = now()
            self._db.execute(
                "INSERT INTO correlation_members (document_id, status, since, settled_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (document_id) DO UPDATE SET status = excluded.status, "
                "since = CASE WHEN CAST(? AS TEXT) IS NULL THEN correlation_members.since ELSE excluded.since END, "
                "settled_at = excluded.settled_at",
                (document_id, status, since or stamp, None if status == "waiting" else stamp, since))

    def correlation_member(self, document_id: str) -> tuple[str, str] | None:
        row = self._db.execute("SELECT status, since FROM correlation_members WHERE document_id = ?",
                               (document_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def waiting_since(self, before: str) -> list[str]:
        """Documents waiting for counterparts since before ``before`` (the correlation timeout's candidates)."""
        rows = self._db.execute("SELECT m.document_id FROM correlation_members m JOIN documents d ON d.id = "
                                "m.document_id WHERE m.status = 'waiting' AND d.state = 'pending' AND m.since <= ? "
                                "ORDER BY m.since, m.document_id", (before,))
        return [r[0] for r in rows]

    def replace_correlation_links(self, document_id: str, links: Iterable[tuple[str, str, str, str]]) -> None:
        """(other_id, other_kind, role, key_value) of one document, as its group's last verdict found them."""
        with self.transaction():
            self._db.execute("DELETE FROM correlation_links WHERE document_id = ?", (document_id,))
            self._db.executemany(
                "INSERT INTO correlation_links (document_id, other_id, other_kind, role, key_value) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", [(document_id, *link) for link in links])

    def correlation_links(self, document_id: str) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT other_id, other_kind, role, key_value FROM correlation_links "
                                "WHERE document_id = ? ORDER BY role, key_value, other_id", (document_id,))
        return [{"kind": r[1], "id": r[0], "role": r[2], "key": r[3]} for r in rows]

    # delivery figures (migration 0007) ---------------------------------------------------------------------

    def delivery_totals(self) -> list[tuple[str, int, int, int]]:
        """(sink, attempts, retries, dead letters) over every delivery ever made, operator retries included.

        Every failed attempt is followed by a retry or a dead letter, so retries = failures − dead letters.
        """
        rows = self._db.execute(
            "SELECT sink, COALESCE(SUM(total_attempts), 0), "
            f"COALESCE(SUM(CASE WHEN {_RETRIES} > 0 THEN {_RETRIES} ELSE 0 END), 0), "
            "COALESCE(SUM(dead_letters), 0) "
            "FROM outbox GROUP BY sink ORDER BY sink")
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    # leases (migration 0021): one node runs the pipeline of a shared store ---------------------------------

    def take_lease(self, name: str, holder: str, ttl: float) -> str:
        """Take or renew ``name`` for ``holder`` unless another holder's lease is still running (database clock).

        Returns the holder after the call: ``holder`` itself when taken or renewed."""
        clock = self._epoch_now()
        with self.transaction():
            row = self._db.execute(f"SELECT holder, expires_at, {clock} FROM leases WHERE name = ?",
                                   (name,)).fetchone()
            if row is not None and row[0] != holder and row[1] > row[2]:
                return str(row[0])
            self._db.execute(
                f"INSERT INTO leases (name, holder, expires_at, acquired_at) VALUES (?, ?, {clock} + ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, "
                "acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at "
                "ELSE excluded.acquired_at END", (name, holder, ttl, now()))
            return holder

    def release_lease(self, name: str, holder: str) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

    def leases(self) -> list[dict[str, Any]]:
        """Every lease with the seconds it has left (negative: expired), by the database's clock."""
        rows = self._db.execute(f"SELECT name, holder, acquired_at, expires_at - {self._epoch_now()} AS left "
                                "FROM leases ORDER BY name")
        return [{"name": r[0], "holder": r[1], "acquired_at": r[2], "seconds_left": float(r[3])} for r in rows]

    @staticmethod
    def _epoch_now() -> str:
        """SQL for the database's clock in seconds since the epoch."""
        return "((julianday('now') - 2440587.5) * 86400.0)"

    @staticmethod
    def _seconds_between(start: str, end: str) -> str:
        """SQL for the seconds from ``start`` to ``end`` (ISO-8601 text columns); each dialect has its own."""
        return f"((julianday({end}) - julianday({start})) * 86400.0)"

    def delivery_latency(self, buckets: Iterable[float]) -> list[tuple[str, list[int], float, int]]:
        """Per sink, seconds from received to delivered: (sink, cumulative count per bucket, sum, count)."""
        buckets = list(buckets)
        latency = self._seconds_between("COALESCE(c.received_at, d.received_at)", "o.delivered_at")
        cases = ", ".join(f"SUM(CASE WHEN {latency} <= ? THEN 1 ELSE 0 END)" for _ in buckets)
        rows = self._db.execute(
            f"SELECT o.sink, {cases}{', ' if cases else ''} COALESCE(SUM({latency}), 0), COUNT(*) "
            "FROM outbox o JOIN documents d ON d.id = o.document_id "
            "LEFT JOIN documents c ON c.id = d.parent_id "
            "WHERE o.state = 'delivered' AND o.delivered_at IS NOT NULL GROUP BY o.sink ORDER BY o.sink",
            buckets,
        )
        n = len(buckets)
        return [(r[0], [int(v or 0) for v in r[1:n + 1]], float(r[n + 1]), int(r[n + 2])) for r in rows]


#: failed attempts that were retried: every attempt but the delivered one, less the dead letters
_RETRIES = "(total_attempts - (CASE WHEN state = 'delivered' THEN 1 ELSE 0 END) - dead_letters)"
_WRITERS: dict[str, threading.Lock] = {}
_WRITERS_GUARD = threading.Lock()


def _writer_lock(path: Path) -> threading.Lock:
    """One lock per database file and process: the pipeline and the delivery thread write through two
    connections, and SQLite's busy handler would make the loser sleep up to 100 ms per collision."""
    with _WRITERS_GUARD:
        return _WRITERS.setdefault(str(path.resolve()), threading.Lock())


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _to_column(name: str, value: Any) -> Any:
    if name == "record" and value is not None:
        return dumps(value)
    return value


def _document(row: sqlite3.Row) -> Document:
    data = {name: row[name] for name in _DOC_COLUMNS}
    if data["record"]:
        data["record"] = json.loads(data["record"])
    return Document(**data)


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(row["document_id"], row["sink"], row["state"], row["attempts"], row["next_attempt_at"],
                    row["last_error"], row["delivered_at"])
