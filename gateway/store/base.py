"""The store interface: what the pipeline, the CLI and the web page need from persistence.

SQLite is the embedded default; a PostgreSQL implementation follows the same interface.
Every method that changes state runs inside ``transaction()``; the caller decides the
boundaries so that a document's state, findings, audit row and outbox rows commit together.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Iterable, Protocol

from gateway.findings import Finding
from gateway.store.states import IN_PROGRESS, STATES, State  # noqa: F401 - the store's vocabulary


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class Document:
    id: str
    kind: str | None
    declared_kind: str
    state: str
    source_name: str
    filename: str
    sha256: str
    size: int
    received_at: str
    updated_at: str
    source_acked_at: str | None = None
    parent_id: str | None = None
    duplicate_of: str | None = None
    replaces_id: str | None = None
    business_key: str | None = None
    record: dict[str, Any] | None = None
    error_count: int = 0
    first_error: str | None = None

    def summary(self) -> dict[str, Any]:
        """The stable keys of ``--json`` listings (DESIGN §4)."""
        return {
            "id": self.id, "kind": self.kind, "state": self.state, "source": self.source_name,
            "filename": self.filename, "sha256": self.sha256, "size": self.size,
            "received_at": self.received_at, "updated_at": self.updated_at,
            "duplicate_of": self.duplicate_of, "replaces_id": self.replaces_id,
            "business_key": self.business_key, "error_count": self.error_count, "first_error": self.first_error,
        }


@dataclass
class AuditEntry:
    id: int
    document_id: str
    at: str
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    detail: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "actor": self.actor, "action": self.action, "from_state": self.from_state,
                "to_state": self.to_state, "reason": self.reason, "detail": self.detail}


@dataclass
class Delivery:
    document_id: str
    sink: str
    state: str  # pending | delivered | dead
    attempts: int
    next_attempt_at: str
    last_error: str | None
    delivered_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"sink": self.sink, "state": self.state, "attempts": self.attempts,
                "next_attempt_at": self.next_attempt_at, "last_error": self.last_error,
                "delivered_at": self.delivered_at}


class Store(Protocol):
    def transaction(self) -> AbstractContextManager[None]: ...
    def close(self) -> None: ...

    # documents
    def insert_document(self, doc: Document, actor: str, action: str, reason: str | None = None) -> None: ...
    def get(self, document_id: str) -> Document | None: ...
    def find_by_sha256(self, sha256: str) -> list[Document]: ...
    def list_documents(self, states: Iterable[str] | None = None, limit: int | None = None,
                       offset: int = 0) -> list[Document]: ...
    def ids_in_states(self, states: Iterable[str]) -> list[str]: ...
    def set_state(self, document_id: str, to_state: str, actor: str, action: str, reason: str | None = None,
                  detail: dict[str, Any] | None = None, **fields: Any) -> None: ...
    def update_fields(self, document_id: str, **fields: Any) -> None: ...
    def audit(self, document_id: str, actor: str, action: str, reason: str | None = None,
              detail: dict[str, Any] | None = None) -> None: ...

    # findings and history
    def replace_findings(self, document_id: str, findings: list[Finding]) -> None: ...
    def add_findings(self, document_id: str, findings: list[Finding]) -> None: ...
    def findings(self, document_id: str) -> list[Finding]: ...
    def audit_trail(self, document_id: str) -> list[AuditEntry]: ...

    # outbox
    def enqueue(self, document_id: str, sinks: Iterable[str], at: str) -> None: ...
    def due_deliveries(self, at: str, limit: int = 100) -> list[Delivery]: ...
    def deliveries(self, document_id: str) -> list[Delivery]: ...
    def record_delivery(self, document_id: str, sink: str, state: str, attempts: int, next_attempt_at: str,
                        last_error: str | None, delivered_at: str | None) -> None: ...

    def counts_by_state(self) -> dict[str, int]: ...
    def counts_by_kind_and_state(self) -> list[tuple[str | None, str, int]]: ...
    def delivery_counts(self) -> list[tuple[str, str, int, int]]: ...

    # health of sources and sinks (shared by every process on the store)
    def record_health(self, component: str, name: str, healthy: bool, consecutive_failures: int,
                      error: str | None = None) -> None: ...
    def health(self) -> list[dict[str, Any]]: ...

    # ERP material master (gateway/kinds/erp): part numbers of clean erp.materials chunks
    def upsert_materials(self, document_id: str, materials: list[tuple[str, Any, Any, Any, Any]]) -> None: ...
    def known_parts(self, part_numbers: Iterable[str]) -> set[str]: ...
    def material_count(self) -> int: ...
    # links found by business key (resend-of, supersedes)
    def find_by_business_key(self, business_key: str, kind: str | None = None) -> list[Document]: ...
    def add_link(self, document_id: str, target_id: str, role: str) -> None: ...
    # attachments of a container (a ZIP's PDF and images): documents in state ``attached``
    def attachments(self, container_id: str) -> list[Document]: ...
    def links(self, document_id: str) -> list[dict[str, Any]]: ...
    # correlation (gateway/correlation/correlate.py)
    def put_correlation_keys(self, document_id: str, provides: Iterable[tuple[str, str]],
                             needs: Iterable[tuple[str, str]]) -> None: ...
    def correlation_keys(self, document_id: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]: ...
    def documents_with_key(self, key_type: str, key_value: str) -> list[str]: ...
    def set_correlation_member(self, document_id: str, status: str, since: str | None = None) -> None: ...
    def correlation_member(self, document_id: str) -> tuple[str, str] | None: ...
    def waiting_since(self, before: str) -> list[str]: ...
    def replace_correlation_links(self, document_id: str, links: Iterable[tuple[str, str, str, str]]) -> None: ...
    def correlation_links(self, document_id: str) -> list[dict[str, Any]]: ...
    # delivery figures for /metrics (outbox columns of migration 0007)
    def pending_delivery_count(self) -> int: ...
    def next_delivery_at(self) -> str | None: ...
    def delivery_totals(self) -> list[tuple[str, int, int, int]]: ...
    def delivery_latency(self, buckets: Iterable[float]) -> list[tuple[str, list[int], float, int]]: ...
    # IMMEX clocks and discharges (gateway/immex.py, gateway/store/immex_queries.py, migration 0028)
    def put_immex_imports(self, document_id: str, rows: Iterable[dict[str, Any]]) -> None: ...
    def put_immex_discharges(self, document_id: str, rows: Iterable[dict[str, Any]]) -> None: ...
    def immex_imports(self, *, keys: Iterable[str] | None = None,
                      due_by: str | None = None) -> list[dict[str, Any]]: ...
    def immex_discharges(self, *, original_keys: Iterable[str] | None = None, document_id: str | None = None,
                         corrects_keys: Iterable[str] | None = None, live: bool = True) -> list[dict[str, Any]]: ...
    def set_immex_wait(self, document_id: str, since: str) -> None: ...
    def clear_immex_wait(self, document_id: str) -> None: ...
    def immex_waiting(self, before: str | None = None, document_id: str | None = None) -> list[str]: ...


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
