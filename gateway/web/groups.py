"""A correlation group (a pedimento with the COVEs and CFDIs it declares) as one thing on the page.

One cross-document problem rejects every member of its group: the pedimento and its COVE each carry the same
XDOC finding, the others an ``XDOC-GROUP`` echo. The queue shows such a group as one item; its page lists the
members, puts the disagreeing values side by side (the pedimento's and the other document's) and retries the
group at once. Members are found as ``gateway/correlation/correlate.py`` finds them: through the keys each
document provides and needs.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from gateway.kinds.keys import KEY_WORDS
from gateway.store import Store
from gateway.store.base import Document
from gateway.web.localtime import instant, parse

MAX_MEMBERS = 50
_SIDES = re.compile(r"^(?P<who>[^:]*):\s(?P<left>.*?\bpedimento\b.*?),\s(?P<right>[^,]*?)"
                    r"(?::\s(?P<rest>diferencia.*)|\.)?$", re.S)


@dataclass
class Disagreement:
    code: str
    message: str
    field: str | None
    pedimento_side: str | None
    other_side: str | None
    rest: str | None
    documents: list[str] = dataclasses.field(default_factory=list)


def members(store: Store, document_id: str) -> list[Document]:
    """The documents of ``document_id``'s correlation group (itself included), at most ``MAX_MEMBERS``."""
    seen: dict[str, None] = {document_id: None}
    queue = [document_id]
    keys_seen: set[tuple[str, str]] = set()
    while queue and len(seen) < MAX_MEMBERS:
        current = queue.pop(0)
        provides, needs = store.correlation_keys(current)
        for key in provides | needs:
            if key in keys_seen:
                continue
            keys_seen.add(key)
            for other in store.documents_with_key(*key):
                if other not in seen and len(seen) < MAX_MEMBERS:
                    seen[other] = None
                    queue.append(other)
    docs = {d.id: d for d in store.documents_by_ids(list(seen))}
    return sorted((docs[i] for i in seen if i in docs), key=lambda d: (d.kind != "pedimento", d.kind or "",
                                                                      d.business_key or "", d.id))


def is_grouped(store: Store, document_id: str) -> bool:
    """Whether a document takes part in correlation with at least one other document."""
    return store.correlation_member(document_id) is not None and len(members(store, document_id)) > 1


def sides(message: str) -> tuple[str | None, str | None, str | None]:
    """``"Pedimento … y COVE …: valor en el pedimento (505.7) 1010.00, suma … del COVE 1000.00: diferencia 10.00"``
    → (the pedimento's side, the other document's side, the rest); (None, None, None) when it does not split."""
    match = _SIDES.match(message.strip())
    if not match:
        return None, None, None
    return match.group("left").strip(), match.group("right").strip().rstrip("."), match.group("rest")


def disagreements(store: Store, docs: list[Document]) -> list[Disagreement]:
    """Each cross-document finding of the group once, with the members that carry it (echoes left out)."""
    found: dict[tuple[str, str], Disagreement] = {}
    for doc in docs:
        for f in store.findings(doc.id):
            if not f.code.startswith("XDOC-") or f.code == "XDOC-GROUP":
                continue
            key = (f.code, f.message)
            if key not in found:
                left, right, rest = sides(f.message)
                found[key] = Disagreement(f.code, f.message, f.location.get("field"), left, right, rest)
            found[key].documents.append(doc.id)
    return list(found.values())


def waiting_for(store: Store, doc: Document, docs: list[Document], timeout: float) -> dict[str, Any] | None:
    """For a member back in ``pending``: what it waits for (keys no member provides) and until when."""
    if doc.state != "pending":
        return None
    member = store.correlation_member(doc.id)
    provided: set[tuple[str, str]] = set()
    for other in docs:
        provided |= store.correlation_keys(other.id)[0]
    needs = store.correlation_keys(doc.id)[1]
    missing = sorted(needs - provided)
    since = parse(member[1]) if member else None
    return {"keys": [f"{KEY_WORDS.get(kind, kind)} {value}" for kind, value in missing],
            "until": instant(since + timedelta(seconds=timeout)) if since else None}


def collapse(store: Store, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Queue rows with the members of one rejected group folded into the first: it gets ``group`` (the other
    members' rows); the other rows leave the page."""
    out: list[dict[str, Any]] = []
    first_of: dict[str, dict[str, Any]] = {}
    for row in items:
        member = store.correlation_member(row["id"])
        if member is None or member[0] != "rejected":
            out.append(row)
            continue
        group = members(store, row["id"])
        if len(group) < 2:
            out.append(row)
            continue
        key = min(d.id for d in group)
        if key in first_of:
            first_of[key]["group"]["rows"].append(row)
            continue
        row = dict(row, group={"id": row["id"], "size": len(group), "rows": []})
        first_of[key] = row
        out.append(row)
    return out
