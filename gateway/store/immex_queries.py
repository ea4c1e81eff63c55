"""What the IMMEX clock and discharge bookkeeping asks of the store (migration 0028; ``gateway/immex.py``).

A mixin of ``SqliteStore`` (it uses the store's connection). Rows belong to one document and are rewritten
whole when that document is processed again, so a retry never adds a second copy. Readers join the
documents table and keep only the live ones: a rejected, replaced or discarded document counts for nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

#: states in which a document's imports and discharges count (the pipeline's own "live" states)
LIVE = ("normalised", "pending", "ready", "forwarded")
_LIVE_SQL = ", ".join(f"'{s}'" for s in LIVE)

IMPORT_COLUMNS = ("partida", "pedimento_key", "corrects_key", "printed", "clave", "fraccion", "description", "umt",
                  "quantity", "start_date", "deadline", "basis")
DISCHARGE_COLUMNS = ("line", "discharge_key", "corrects_key", "original_key", "fraccion", "unit", "quantity",
                     "discharged_on")


class ImmexQueries:
    _db: sqlite3.Connection

    def put_immex_imports(self, document_id: str, rows: Iterable[dict[str, Any]]) -> None:
        self._put("immex_imports", IMPORT_COLUMNS, document_id, rows)

    def put_immex_discharges(self, document_id: str, rows: Iterable[dict[str, Any]]) -> None:
        self._put("immex_discharges", DISCHARGE_COLUMNS, document_id, rows)

    def _put(self, table: str, columns: tuple[str, ...], document_id: str, rows: Iterable[dict[str, Any]]) -> None:
        with self.transaction():  # type: ignore[attr-defined]
            self._db.execute(f"DELETE FROM {table} WHERE document_id = ?", (document_id,))
            self._db.executemany(
                f"INSERT INTO {table} (document_id, {', '.join(columns)}) VALUES (?{', ?' * len(columns)})",
                [(document_id, *(row.get(c) for c in columns)) for row in rows])

    def immex_imports(self, *, keys: Iterable[str] | None = None, due_by: str | None = None) -> list[dict[str, Any]]:
        """Live import rows naming ``keys`` (as their own key or the key they correct), or due by a date."""
        where, params = [f"d.state IN ({_LIVE_SQL})"], []
        if keys is not None:
            keys = sorted(set(keys))
            if not keys:
                return []
            marks = ", ".join("?" * len(keys))
            where.append(f"(i.pedimento_key IN ({marks}) OR i.corrects_key IN ({marks}))")
            params += keys + keys
        if due_by is not None:
            where.append("i.deadline IS NOT NULL AND i.deadline <= ?")
            params.append(due_by)
        return self._rows("immex_imports", where, params)

    def immex_discharges(self, *, original_keys: Iterable[str] | None = None, document_id: str | None = None,
                         corrects_keys: Iterable[str] | None = None, live: bool = True) -> list[dict[str, Any]]:
        """Discharge lines naming ``original_keys``, of one document, or of rectifications of ``corrects_keys``."""
        where: list[str] = [f"d.state IN ({_LIVE_SQL})"] if live else []
        params: list[Any] = []
        if corrects_keys is not None:
            corrected = sorted(set(corrects_keys))
            if not corrected:
                return []
            where.append(f"i.corrects_key IN ({', '.join('?' * len(corrected))})")
            params += corrected
        if original_keys is not None:
            keys = sorted(set(original_keys))
            if not keys:
                return []
            where.append(f"i.original_key IN ({', '.join('?' * len(keys))})")
            params += keys
        if document_id is not None:
            where.append("i.document_id = ?")
            params.append(document_id)
        return self._rows("immex_discharges", where, params)

    def _rows(self, table: str, where: list[str], params: list[Any]) -> list[dict[str, Any]]:
        sql = (f"SELECT i.*, d.state AS state, d.received_at AS received_at, d.kind AS kind FROM {table} i "
               f"JOIN documents d ON d.id = i.document_id")
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [dict(r) for r in self._db.execute(sql + " ORDER BY d.received_at, i.document_id", params)]

    def set_immex_wait(self, document_id: str, since: str) -> None:
        with self.transaction():  # type: ignore[attr-defined]
            self._db.execute("INSERT INTO immex_waits (document_id, since) VALUES (?, ?) ON CONFLICT (document_id) "
                             "DO UPDATE SET since = excluded.since", (document_id, since))

    def clear_immex_wait(self, document_id: str) -> None:
        with self.transaction():  # type: ignore[attr-defined]
            self._db.execute("DELETE FROM immex_waits WHERE document_id = ?", (document_id,))

    def immex_waiting(self, before: str | None = None, document_id: str | None = None) -> list[str]:
        """Discharges still pending for their originals (since before ``before``, when given), oldest first."""
        sql = ("SELECT w.document_id FROM immex_waits w JOIN documents d ON d.id = w.document_id "
               "WHERE d.state = 'pending'")
        params: list[Any] = []
        if document_id is not None:
            sql += " AND w.document_id = ?"
            params.append(document_id)
        if before is not None:
            sql += " AND w.since <= ?"
            params.append(before)
        return [r[0] for r in self._db.execute(sql + " ORDER BY w.since, w.document_id", params)]
