"""A document's links, assembled in one place for the canonical envelope, ``queue show`` and the web page.

Outward links (this document points at the other) are what the canonical envelope carries, in this order: the
container a part came from (``part-of``), links by business key (``resend-of``, ``supersedes``, ``same-set``),
correlation links (``cove``, ``cfdi``, ``declared-in``… with their ``key``), the attachments that came with it in
a ZIP, and the rejected document it replaces. The operator's views (``both_ways``) add ``duplicate-of`` and the
documents that point at this one: a container's parts (``part``, or ``attachment`` for a PDF or image it
carried), the replacement of a replaced document (``replaced-by``) and the duplicates of an original.
"""

from __future__ import annotations

import re
from typing import Any

from gateway.store.base import CoreStore, Document

_NAMED_PEDIMENTO = re.compile(r" ?\(pedimento (\d{4})-(\d{7})\)$")


def links(store: CoreStore, doc: Document, *, container: Document | None = None,
          both_ways: bool = False) -> list[dict[str, Any]]:
    """``[{kind, id, role, …}]``; ``container`` saves a read when the caller has the part's container already."""
    found: list[dict[str, Any]] = []
    if doc.parent_id:
        parent = container if container is not None else store.get(doc.parent_id)
        if parent is not None:
            found.append({"kind": parent.kind, "id": parent.id, "role": "part-of"})
    found += store.links(doc.id)
    found += store.correlation_links(doc.id)
    found += attachment_links(store, doc)
    if doc.replaces_id:
        found.append({"kind": doc.kind, "id": doc.replaces_id, "role": "replaces"})
    if not both_ways:
        return found
    if doc.duplicate_of:
        original = store.get(doc.duplicate_of)
        found.append({"kind": original.kind if original else None, "id": doc.duplicate_of, "role": "duplicate-of"})
    for role, other in store.referring_documents(doc.id):
        role = "attachment" if role == "part" and other.state == "attached" else role
        found.append({"kind": other.kind, "id": other.id, "role": role, "filename": other.filename,
                      "state": other.state})
    seen: set[tuple[str, str]] = set()
    unique = []
    for link in found:
        if (link["role"], link["id"]) not in seen:
            seen.add((link["role"], link["id"]))
            unique.append(link)
    return unique


def attachment_links(store: CoreStore, doc: Document) -> list[dict[str, Any]]:
    """The originals that came with a document in the same ZIP (or the ZIP around its container): the printed
    pedimento, acuses, images. The inventory system fetches them by id; ``pedimento`` is set when the file's
    name says which pedimento it belongs to."""
    found: list[dict[str, Any]] = []
    parent_id, depth = doc.parent_id, 0
    while parent_id and depth < 8:
        for attachment in store.attachments(parent_id):
            name = _NAMED_PEDIMENTO.sub("", attachment.filename.split("#", 1)[-1].split(" ", 1)[-1]).rstrip()
            link = {"kind": "attachment", "id": attachment.id, "role": "attachment", "filename": name,
                    "sha256": attachment.sha256, "size": attachment.size}
            if named := _NAMED_PEDIMENTO.search(attachment.filename):
                link["pedimento"] = f"{named[1]}-{named[2]}"
            found.append(link)
        parent = store.get(parent_id)
        parent_id, depth = (parent.parent_id if parent else None), depth + 1
    return found
