"""What the web page and JSON API ask of the store: the filtered queue, its counts, links, users, tokens.

A mixin of ``SqliteStore`` (it uses the store's connection), kept apart so the core store stays small.
Every query of the queue is shaped to use the indexes of migration 0008, so a page of a queue of tens
of thousands of rejected documents costs milliseconds.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from gateway.store.base import Document, now

_DOC_FIELDS = tuple(Document.__dataclass_fields__)
#: the queue's sortable columns (``sort=kind``, ``sort=-received``…); the id breaks ties so pages never overlap
SORTS = {"received": "d.received_at", "kind": "d.kind", "source": "d.source_name", "filename": "d.filename",
         "findings": "d.error_count"}
DEFAULT_SORT = "-received"


def order_by(sort: str | None) -> str:
    """``-received`` → ``d.received_at DESC, d.id DESC``; an unknown column is the default order."""
    sort = sort if sort and sort.lstrip("-") in SORTS else DEFAULT_SORT
    direction = "DESC" if sort.startswith("-") else "ASC"
    return f"{SORTS[sort.lstrip('-')]} {direction}, d.id {direction}"


@dataclass(frozen=True)
class QueueFilter:
    """The filters of the queue page; every field is optional except the state (the queue is ``rejected``)."""

    state: str = "rejected"
    kind: str | None = None
    source: str | None = None
    code: str | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    text: str | None = None
    received_from: str | None = None  # UTC instants the page derives from local days (date_from/date_to are
    received_before: str | None = None  # then UTC days only where these are not given)

    def without_code(self) -> QueueFilter:
        return replace(self, code=None)


@dataclass
class User:
    name: str
    role: str
    password_hash: str
    disabled: bool
    created_at: str
    updated_at: str


def search_term(text: str) -> str:
    """Upper-case; a pedimento number typed with spaces or dashes ("26 47 3459 6000123", "3459-6000123")
    loses them; an amount loses its currency sign and thousands separators ("$1,500.00" → "1500.00"); runs
    of spaces in a name become one."""
    text = " ".join(text.strip().upper().split())
    if re.fullmatch(r"[\d\s-]+", text):
        return re.sub(r"[\s-]", "", text)
    amount = re.fullmatch(r"\$?\s?(\d{1,3}(?:,\d{3})+|\d+)(\.\d*)?", text)
    if amount:
        return amount.group(1).replace(",", "") + (amount.group(2) or "")
    return text


def _where(f: QueueFilter) -> tuple[str, list[Any]]:
    clauses, params = ["d.state = ?"], [f.state]
    if f.kind:
        clauses.append("d.kind = ?")
        params.append(f.kind)
    if f.source:
        clauses.append("d.source_name = ?")
        params.append(f.source)
    if f.code:
        clauses.append("d.id IN (SELECT document_id FROM findings WHERE code = ?)")
        params.append(f.code)
    since = f.received_from or (f.date_from.isoformat() if f.date_from else None)
    if since:
        clauses.append("d.received_at >= ?")
        params.append(since)
    before = f.received_before or ((f.date_to + timedelta(days=1)).isoformat() if f.date_to else None)
    if before:
        clauses.append("d.received_at < ?")
        params.append(before)
    if f.text and f.text.strip():
        raw = f.text.strip()
        term = search_term(raw)
        clauses.append(
            "d.id IN (SELECT document_id FROM search_keys WHERE key >= ? AND key < ? "
            "UNION ALL SELECT id FROM documents WHERE id = ? OR business_key IN (?, ?))")
        params += [term, term + "\U0010ffff", raw, raw, term]  # keys that start with what was typed
    return " AND ".join(clauses), params


def _doc(row: sqlite3.Row) -> Document:
    data = {name: row[name] for name in _DOC_FIELDS}
    if data["record"]:
        data["record"] = json.loads(data["record"])
    return Document(**data)


class WebQueries:
    _db: sqlite3.Connection

    if TYPE_CHECKING:  # the store's: audit rows a dialect deferred, written before the trail is read
        def _flush_audit(self) -> None: ...

    # the queue ---------------------------------------------------------------------------------------------

    def queue_page(self, f: QueueFilter, limit: int, offset: int = 0, sort: str | None = None) -> list[Document]:
        """Newest first (``LIMIT/OFFSET`` over the (state, received_at, id) index), or by ``sort`` (``SORTS``)."""
        where, params = _where(f)
        rows = self._db.execute(
            f"SELECT d.* FROM documents d WHERE {where} ORDER BY {order_by(sort)} LIMIT ? OFFSET ?",
            [*params, limit, offset])
        return [_doc(r) for r in rows]

    # assignments (migration 0046) ----------------------------------------------------------------------------

    def assign(self, document_id: str, user_name: str | None, actor: str) -> None:
        """Assign a document to a colleague (``None``: to no one); audited in the same transaction."""
        with self.transaction():  # type: ignore[attr-defined]
            if user_name:
                self._db.execute(
                    "INSERT INTO document_assignments (document_id, user_name, assigned_by, assigned_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT (document_id) DO UPDATE SET user_name = excluded.user_name, "
                    "assigned_by = excluded.assigned_by, assigned_at = excluded.assigned_at",
                    (document_id, user_name, actor, now()))
            else:
                self._db.execute("DELETE FROM document_assignments WHERE document_id = ?", (document_id,))
            self.audit(document_id, actor, "assign", detail={"to": user_name})  # type: ignore[attr-defined]

    def assignments(self, ids: list[str]) -> dict[str, str]:
        """document id → the user it is assigned to, for the documents of ``ids`` that are assigned."""
        if not ids:
            return {}
        rows = self._db.execute("SELECT document_id, user_name FROM document_assignments WHERE document_id IN "
                                f"({', '.join('?' * len(ids))})", ids)
        return {r[0]: r[1] for r in rows}

    def queue_count(self, f: QueueFilter) -> int:
        where, params = _where(f)
        return self._db.execute(f"SELECT COUNT(*) FROM documents d WHERE {where}", params).fetchone()[0]

    def queue_code_counts(self, f: QueueFilter) -> list[tuple[str, int]]:
        """Documents per finding code (errors and warnings) under the other filters; most frequent first."""
        where, params = _where(f.without_code())
        rows = self._db.execute(
            f"SELECT fi.code, COUNT(DISTINCT fi.document_id) FROM findings fi JOIN documents d "
            f"ON d.id = fi.document_id WHERE {where} AND fi.severity != 'info' GROUP BY fi.code "
            f"ORDER BY 2 DESC, 1", params)
        return [(r[0], r[1]) for r in rows]

    def queue_facets(self, state: str = "rejected") -> dict[str, list[str]]:
        """The kinds and sources present in a state, for the filter menus."""
        kinds = [r[0] for r in self._db.execute(
            "SELECT DISTINCT kind FROM documents WHERE state = ? AND kind IS NOT NULL ORDER BY 1", (state,))]
        sources = [r[0] for r in self._db.execute(
            "SELECT DISTINCT source_name FROM documents WHERE state = ? ORDER BY 1", (state,))]
        return {"kinds": kinds, "sources": sources}

    def change_marker(self) -> int:
        """Grows with every state change (each writes an audit row): aggregates cached under it stay exact."""
        self._flush_audit()
        return self._db.execute("SELECT COALESCE(MAX(id), 0) FROM audit").fetchone()[0]

    def documents_by_ids(self, ids: list[str]) -> list[Document]:
        if not ids:
            return []
        rows = self._db.execute(f"SELECT * FROM documents WHERE id IN ({', '.join('?' * len(ids))})", ids)
        return [_doc(r) for r in rows]

    def linked_documents(self, doc: Document) -> list[tuple[str, Document]]:
        """(role, document) for every document this one is linked with, in both directions."""
        links: list[tuple[str, Document]] = []
        for role, other_id in (("part-of", doc.parent_id), ("replaces", doc.replaces_id),
                               ("duplicate-of", doc.duplicate_of)):
            if other_id:
                other = self.get(other_id)  # type: ignore[attr-defined]
                if other is not None:
                    links.append((role, other))
        for role, column in (("part", "parent_id"), ("replaced-by", "replaces_id"), ("duplicate", "duplicate_of")):
            rows = self._db.execute(
                f"SELECT * FROM documents WHERE {column} = ? ORDER BY received_at, id LIMIT 500", (doc.id,))
            children = [_doc(r) for r in rows]
            links += [("attachment" if role == "part" and child.state == "attached" else role, child)
                      for child in children]
        # links by business key (resend-of, supersedes, same-set) and by correlation (cove, cfdi, declared-in…)
        seen = {(role, other.id) for role, other in links}
        for link in [*self.links(doc.id), *self.correlation_links(doc.id)]:  # type: ignore[attr-defined]
            if (link["role"], link["id"]) not in seen and (other := self.get(link["id"])) is not None:  # type: ignore[attr-defined]
                seen.add((link["role"], link["id"]))
                links.append((link["role"], other))
        return links

    # overview ----------------------------------------------------------------------------------------------

    def overview(self, since: str) -> dict[str, list[tuple[Any, ...]]]:
        """Documents received since ``since`` by UTC hour (``2026-12-03T13``: the page sums them into local
        days) and state, by kind and state, by source and state."""
        def rows(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in self._db.execute(sql, (since,))]

        return {
            "by_day": rows("SELECT substr(received_at, 1, 13), state, COUNT(*) FROM documents "
                           "WHERE received_at >= ? GROUP BY 1, 2 ORDER BY 1 DESC, 2"),
            "by_kind": rows("SELECT COALESCE(kind, ''), state, COUNT(*) FROM documents "
                            "WHERE received_at >= ? GROUP BY 1, 2 ORDER BY 1, 2"),
            "by_source": rows("SELECT source_name, state, COUNT(*) FROM documents "
                              "WHERE received_at >= ? GROUP BY 1, 2 ORDER BY 1, 2"),
        }

    def dead_letter_count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'dead'").fetchone()[0]

    # search keys -------------------------------------------------------------------------------------------

    def unindexed_documents(self, limit: int = 500) -> list[tuple[str, str, str, str | None]]:
        """(id, filename, sha256, business_key) of documents whose search keys have not been read yet."""
        behind = self._db.execute(
            "SELECT (SELECT COUNT(*) FROM documents) - (SELECT COUNT(*) FROM search_indexed)").fetchone()[0]
        if behind <= 0:  # two index counts instead of an anti-join over every document
            return []
        rows = self._db.execute(
            "SELECT d.id, d.filename, d.sha256, d.business_key FROM documents d LEFT JOIN search_indexed s "
            "ON s.document_id = d.id WHERE s.document_id IS NULL LIMIT ?", (limit,))
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def save_search_keys(self, entries: list[tuple[str, list[str]]]) -> None:
        """(document id, its keys) for documents read; each is marked read even when it has no key."""
        with self.transaction():  # type: ignore[attr-defined]
            self._db.executemany("INSERT INTO search_indexed (document_id) VALUES (?) ON CONFLICT DO NOTHING",
                                 [(document_id,) for document_id, _ in entries])
            self._db.executemany("INSERT INTO search_keys (key, document_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                                 [(key, document_id) for document_id, keys in entries for key in keys])

    # users and tokens --------------------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password_hash: str) -> None:
        stamp = now()
        with self.transaction():  # type: ignore[attr-defined]
            self._db.execute("INSERT INTO users (name, role, password_hash, disabled, created_at, updated_at) "
                             "VALUES (?, ?, ?, 0, ?, ?)", (name, role, password_hash, stamp, stamp))

    def update_user(self, name: str, **fields: Any) -> None:
        """A new password or disabling the user ends every session and revokes every token of the user, in the
        same commit (re-enabling the user later revives neither)."""
        allowed = {"role", "password_hash", "disabled"}
        if not fields or set(fields) - allowed:
            raise ValueError(f"not updatable: {sorted(set(fields) - allowed)}")
        fields["updated_at"] = now()
        assignments = ", ".join(f"{k} = ?" for k in fields)
        with self.transaction():  # type: ignore[attr-defined]
            self._db.execute(f"UPDATE users SET {assignments} WHERE name = ?", [*fields.values(), name])
            if "password_hash" in fields or fields.get("disabled"):
                reason = "password" if "password_hash" in fields else "disabled"
                self._db.execute("DELETE FROM web_sessions WHERE user_name = ?", (name,))
                self._db.execute("UPDATE api_tokens SET revoked_at = ?, revoked_reason = ? "
                                 "WHERE user_name = ? AND revoked_at IS NULL", (now(), reason, name))

    def get_user(self, name: str) -> User | None:
        row = self._db.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
        return _user(row) if row else None

    def list_users(self) -> list[User]:
        return [_user(r) for r in self._db.execute("SELECT * FROM users ORDER BY name")]

    def add_session(self, id_sha256: str, user_name: str, expires_at: str) -> None:
        with self.transaction():  # type: ignore[attr-defined]
            self._db.execute("DELETE FROM web_sessions WHERE expires_at < ?", (now(),))
            self._db.execute("INSERT INTO web_sessions (id_sha256, user_name, created_at, expires_at) "
                             "VALUES (?, ?, ?, ?)", (id_sha256, user_name, now(), expires_at))

    def user_for_session(self, id_sha256: str) -> User | None:
        row = self._db.execute(
            "SELECT u.* FROM web_sessions s JOIN users u ON u.name = s.user_name "
            "WHERE s.id_sha256 = ? AND s.expires_at > ?", (id_sha256, now())).fetchone()
        return _user(row) if row else None

    def end_session(self, id_sha256: str) -> None:
        with self.transaction():  # type: ignore[attr-defined]
            self._db.execute("DELETE FROM web_sessions WHERE id_sha256 = ?", (id_sha256,))

    def add_token(self, token_sha256: str, user_name: str, label: str | None, scope: str = "read",
                  expires_at: str | None = None) -> None:
        with self.transaction():  # type: ignore[attr-defined]
            self._db.execute("INSERT INTO api_tokens (token_sha256, user_name, label, created_at, scope, expires_at) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (token_sha256, user_name, label, now(), scope, expires_at))

    def token(self, token_sha256: str) -> tuple[User, ApiToken] | None:
        """The token's user and the token, whatever its state (the caller decides: revoked, expired)."""
        row = self._db.execute("SELECT * FROM api_tokens WHERE token_sha256 = ?", (token_sha256,)).fetchone()
        user = self.get_user(row["user_name"]) if row else None
        return (user, _token(row)) if row and user else None

    def user_for_token(self, token_sha256: str) -> User | None:
        found = self.token(token_sha256)
        return found[0] if found and found[1].active() else None

    def list_tokens(self, user_name: str | None = None) -> list[ApiToken]:
        sql = "SELECT * FROM api_tokens" + (" WHERE user_name = ?" if user_name else "") + \
            " ORDER BY user_name, created_at"
        return [_token(r) for r in self._db.execute(sql, (user_name,) if user_name else ())]

    def revoke_token(self, token_id: str, reason: str = "revoked") -> list[ApiToken]:
        """Revoke the active token(s) whose digest starts with ``token_id`` (at least 8 hex digits)."""
        if len(token_id) < 8 or not re.fullmatch(r"[0-9a-f]+", token_id):
            return []
        with self.transaction():  # type: ignore[attr-defined]
            rows = [_token(r) for r in self._db.execute(
                "SELECT * FROM api_tokens WHERE token_sha256 LIKE ? AND revoked_at IS NULL", (token_id + "%",))]
            if len(rows) == 1:
                self._db.execute("UPDATE api_tokens SET revoked_at = ?, revoked_reason = ? WHERE token_sha256 = ?",
                                 (now(), reason, rows[0].sha256))
        return rows

    def token_count(self, user_name: str) -> int:
        return self._db.execute("SELECT COUNT(*) FROM api_tokens WHERE user_name = ? AND revoked_at IS NULL",
                                (user_name,)).fetchone()[0]


@dataclass(frozen=True)
class ApiToken:
    sha256: str
    user_name: str
    label: str | None
    scope: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    revoked_reason: str | None
    last_used_at: str | None

    @property
    def id(self) -> str:
        """What ``users tokens`` shows and revokes by: the first 12 hex digits of the digest (not the token)."""
        return self.sha256[:12]

    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now())


def _token(row: sqlite3.Row) -> ApiToken:
    return ApiToken(row["token_sha256"], row["user_name"], row["label"], row["scope"], row["created_at"],
                    row["expires_at"], row["revoked_at"], row["revoked_reason"], row["last_used_at"])


def _user(row: sqlite3.Row) -> User:
    return User(row["name"], row["role"], row["password_hash"], bool(row["disabled"]), row["created_at"],
                row["updated_at"])
