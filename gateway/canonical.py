"""The canonical envelope forwarded to sinks (DESIGN §6), versioned with its JSON Schema in docs/."""

from __future__ import annotations

from typing import Any

from gateway.findings import Finding, Severity
from gateway.store.base import Document

MODEL_VERSION = "1.0"


def envelope(doc: Document, findings: list[Finding], links: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": doc.id,
        "kind": doc.kind,
        "model_version": MODEL_VERSION,
        "source": {"name": doc.source_name, "filename": doc.filename, "sha256": doc.sha256,
                   "received_at": doc.received_at},
        "record": doc.record,
        "findings": [f.to_dict() for f in findings if f.severity is not Severity.ERROR],
        "links": links or [],
    }
