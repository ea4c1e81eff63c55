"""The canonical envelope forwarded to sinks (DESIGN §6), versioned with its JSON Schema in docs/."""

from __future__ import annotations

from typing import Any

from gateway.findings import Finding, Severity
from gateway.store.base import Document

MODEL_VERSION = "1.0"


def envelope(doc: Document, findings: list[Finding], links: list[dict[str, Any]] | None = None,
             container: Document | None = None) -> dict[str, Any]:
    """A part of a container file names the file it came from as its source (DESIGN §2).

    ``links`` are the document's outward links as ``gateway.links.links`` assembles them (part-of first).
    """
    origin = container or doc
    source: dict[str, Any] = {"name": origin.source_name, "filename": origin.filename, "sha256": origin.sha256,
                              "received_at": origin.received_at}
    if container is not None:
        source["part"] = {"filename": doc.filename, "sha256": doc.sha256}
    return {
        "id": doc.id,
        "kind": doc.kind,
        "model_version": MODEL_VERSION,
        "source": source,
        "record": doc.record,
        "findings": [f.to_dict() for f in findings if f.severity is not Severity.ERROR],
        "links": list(links or []),
    }
