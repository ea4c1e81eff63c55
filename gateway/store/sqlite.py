"""SQLite store (WAL): the embedded default. One connection per Store; use one Store per thread."""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Iterator

from gateway.findings import Finding, Severity
from gateway.store.base import AuditEntry, Delivery, Document, dumps, now
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


class SqliteStore(WebQueries):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), isolation_level=None, timeout=30, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a committed state change survives power loss
        self._db.execute("PRAGMA foreign_keys=ON")
        self._depth = 0
        self._migrate()

    @classmethod
    def from_url(cls, url: str) -> SqliteStore:
        return cls(url[len("sqlite:///"):])

    def close(self) -> None:
        self._db.close()

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

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Nested calls join the outer transaction; the outermost commits (durably) or rolls back."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._db.execute("ROLLBACK")
            raise
        self._depth = 0
        self._db.execute("COMMIT")

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
        sql, params = "SELECT * FROM documents", []
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
                  detail: dict[str, Any] | None = None, **fields: Any) -> None:
        with self.transaction():
            row = self._db.execute("SELECT state FROM documents WHERE id = ?", (document_id,)).fetchone()
            if row is None:
                raise KeyError(document_id)
            self.update_fields(document_id, state=to_state, **fields)
            self._audit(document_id, actor, action, row[0], to_state, reason, detail)

    def update_fields(self, document_id: str, **fields: Any) -> None:
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
        self._db.execute(
            "INSERT INTO audit (document_id, at, actor, action, from_state, to_state, reason, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (document_id, now(), actor, action, from_state, to_state, reason, dumps(detail) if detail else None),
        )

    # findings and history ------------------------------------------------------------------------------

    def replace_findings(self, document_id: str, findings: list[Finding]) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM findings WHERE document_id = ?", (document_id,))
            self.add_findings(document_id, findings)

    def add_findings(self, document_id: str, findings: list[Finding]) -> None:
        at = now()
        with self.transaction():
            self._db.executemany(
                "INSERT INTO findings (document_id, code, severity, message, location, sat_code, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(document_id, f.code, f.severity.value, f.message, dumps(f.location), f.sat_code, at)
                 for f in findings],
            )
            errors = self._db.execute(
                "SELECT COUNT(*), (SELECT message FROM findings WHERE document_id = ? AND severity = 'error' "
                "ORDER BY id LIMIT 1) FROM findings WHERE document_id = ? AND severity = 'error'",
                (document_id, document_id),
            ).fetchone()
            self.update_fields(document_id, error_count=errors[0], first_error=errors[1])

    def findings(self, document_id: str) -> list[Finding]:
        rows = self._db.execute("SELECT * FROM findings WHERE document_id = ? ORDER BY id", (document_id,))
        return [
            Finding(r["code"], Severity(r["severity"]), r["message"], json.loads(r["location"]), r["sat_code"])
            for r in rows
        ]

    def audit_trail(self, document_id: str) -> list[AuditEntry]:
        rows = self._db.execute("SELECT * FROM audit WHERE document_id = ? ORDER BY id", (document_id,))
        return [
            AuditEntry(r["id"], r["document_id"], r["at"], r["actor"], r["action"], r["from_state"], r["to_state"],
                       r["reason"], json.loads(r["detail"]) if r["detail"] else None)
            for r in rows
        ]

    # outbox ----------------------------------------------------------------------------------------------

    def enqueue(self, document_id: str, sinks: Iterable[str], at: str) -> None:
        with self.transaction():
            self._db.executemany(
                "INSERT INTO outbox (document_id, sink, state, attempts, next_attempt_at) "
                "VALUES (?, ?, 'pending', 0, ?) "
                "ON CONFLICT (document_id, sink) DO UPDATE SET state = 'pending', attempts = 0, "
                "next_attempt_at = excluded.next_attempt_at, last_error = NULL "
                "WHERE outbox.state != 'delivered'",
                [(document_id, sink, at) for sink in sinks],
            )

    def due_deliveries(self, at: str, limit: int = 100) -> list[Delivery]:
        rows = self._db.execute(
            "SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at, document_id LIMIT ?",
            (at, limit),
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
                "UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, delivered_at = ? "
                "WHERE document_id = ? AND sink = ?",
                (state, attempts, next_attempt_at, last_error, delivered_at, document_id, sink),
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
                "last_ok_at = COALESCE(excluded.last_ok_at, last_ok_at), "
                "last_failure_at = COALESCE(excluded.last_failure_at, last_failure_at), "
                "last_error = COALESCE(excluded.last_error, last_error), updated_at = excluded.updated_at",
                (component, name, int(healthy), consecutive_failures, None if error else stamp,
                 stamp if error else None, error, stamp),
            )

    def health(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT * FROM component_health ORDER BY component, name")
        return [dict(r) | {"healthy": bool(r["healthy"])} for r in rows]


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
