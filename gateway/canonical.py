"""The canonical envelope forwarded to sinks (DESIGN §6), versioned with its JSON Schema in docs/."""

from __future__ import annotations

import re
from typing import Any

from gateway.findings import Finding, Severity
from gateway.store.base import Document

MODEL_VERSION = "1.0"


def envelope(doc: Document, findings: list[Finding], links: list[dict[str, Any]] | None = None,
             container: Document | None = None) -> dict[str, Any]:
    """A part of a container file names the file it came from as its source (DESIGN §2) and links to it."""
    origin = container or doc
    source: dict[str, Any] = {"name": origin.source_name, "filename": origin.filename, "sha256": origin.sha256,
                              "received_at": origin.received_at}
    links = list(links or [])
    if container is not None:
        source["part"] = {"filename": doc.filename, "sha256": doc.sha256}
        links.insert(0, {"kind": container.kind, "id": container.id, "role": "part-of"})
    if doc.replaces_id:
        links.append({"kind": doc.kind, "id": doc.replaces_id, "role": "replaces"})
    return {
        "id": doc.id,
        "kind": doc.kind,
        "model_version": MODEL_VERSION,
        "source": source,
        "record": doc.record,
        "findings": [f.to_dict() for f in findings if f.severity is not Severity.ERROR],
        "links": links,
    }


_NAMED_PEDIMENTO = re.compile(r" ?\(pedimento (\d{4})-(\d{7})\)$")


def attachment_links(store: Any, doc: Document) -> list[dict[str, Any]]:
    """The originals that came with a document in the same ZIP (or the ZIP around its container): the printed
    pedimento, acuses, images. The inventory system fetches them by id; ``pedimento`` is set when the file's
    name says which pedimento it belongs to."""
    links: list[dict[str, Any]] = []
    parent_id, depth = doc.parent_id, 0
    while parent_id and depth < 8:
        for attachment in store.attachments(parent_id):
            name = _NAMED_PEDIMENTO.sub("", attachment.filename.split("#", 1)[-1].split(" ", 1)[-1]).rstrip()
            link = {"kind": "attachment", "id": attachment.id, "role": "attachment", "filename": name,
                    "sha256": attachment.sha256, "size": attachment.size}
            if named := _NAMED_PEDIMENTO.search(attachment.filename):
                link["pedimento"] = f"{named[1]}-{named[2]}"
            links.append(link)
        parent = store.get(parent_id)
        parent_id, depth = (parent.parent_id if parent else None), depth + 1
    return links
