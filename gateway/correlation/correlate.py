"""Correlation: pedimento ⇄ COVE ⇄ CFDI groups, checked together whatever the order the pieces arrive in.

The route step hands every normalised document here. Its correlation keys (its kind's ``correlation_keys``, in
the vocabulary of ``gateway.kinds.keys``) are stored; a document that needs counterparts (a pedimento naming
COVEs or UUIDs in 505.4, a RecibirCove request waiting for its answer) or that must wait to be claimed (a COVE,
an export CFDI: ``[correlation] hold``) goes to ``pending``. Documents sharing a key form a group. When the
group is complete (every need met, every held document claimed by a pedimento) it is checked at once
(``gateway.correlation.checks``) and every pending member moves on together: all ``ready`` (outbox), or all
``rejected`` with the XDOC findings. The verdict depends only on the group's content, never on arrival order:
members are checked in a content order and findings name documents by their business identity.

Past ``correlation_timeout`` (counted from the first member that started waiting) ``resolve_timeouts``
settles the group with XDOC-COVE-MISSING / XDOC-CFDI-MISSING per ``[correlation] on_timeout``. A member
rejected by its group's verdict stays findable by its keys: when a corrected counterpart arrives (``queue
replace``) or the missing one arrives late, the group is checked again and, if clean, moves on.
Everything for one verdict is written in the caller's transaction, so a crash repeats it, never halves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway import logs
from gateway.correlation.checks import Member, Verdict, check_group
from gateway.faults import crash_point
from gateway.findings import Finding, Severity, error, warning
from gateway.kinds.keys import DECLARATION_KEYS, KEY_WORDS, MISSING_CODE, Keys
from gateway.runtime import Runtime
from gateway.store.base import CoreStore, Document, now
from gateway.store.lock_keys import correlation

log = logs.get("gateway.correlate")

ACTIVE = ("pending", "ready", "forwarded")
_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass
class _Node:
    doc: Document
    provides: set[tuple[str, str]]
    needs: set[tuple[str, str]]
    held: bool
    status: str | None

    @property
    def waiting(self) -> bool:
        return self.doc.state == "pending" or (self.doc.state == "rejected" and self.status == "rejected")


def route(gw: Runtime, document_id: str, kind: str | None, record: dict[str, Any] | None) -> str | None:
    """Called by the pipeline for a normalised document inside its transaction.

    Returns None when the document takes no part in correlation (the pipeline makes it ready as
    before), else its new state: ``pending`` or, when it completed its group, ``ready``/``rejected``.
    """
    keys = _waited_for(gw, _keys_of(gw, kind, record))
    store = gw.store
    store.put_correlation_keys(document_id, keys.provides, keys.needs)
    if not keys.needs and not _held(gw, kind, record):
        return None
    store.set_state(document_id, "pending", gw.actor, "correlate",
                    detail={"needs": sorted(f"{t}:{v}" for t, v in keys.needs)} if keys.needs else None)
    store.set_correlation_member(document_id, "waiting", since=now())
    return settle(gw, document_id)


def settle(gw: Runtime, document_id: str, timed_out: bool = False) -> str:
    """Check the group of ``document_id`` if it is complete (or its time is up); return the document's state."""
    store = gw.store
    group = _group(gw, document_id)
    waiting = [n for n in group if n.waiting]
    if not waiting:
        doc = store.get(document_id)
        return doc.state if doc else "missing"
    provided = {k for n in group for k in n.provides}
    missing = {(n.doc.id, k) for n in waiting for k in n.needs if k not in provided}
    claimed = any(t in DECLARATION_KEYS for n in group for t, _ in n.needs)
    unclaimed = [n for n in waiting if n.held and not claimed]
    if (missing or unclaimed) and not timed_out:
        return _state(store, document_id)
    _apply(gw, group, waiting, missing, unclaimed, document_id)
    return _state(store, document_id)


def _state(store: CoreStore, document_id: str) -> str:
    doc = store.get(document_id)
    return doc.state if doc else "missing"


def resolve_timeouts(gw: Runtime, at: datetime | None = None) -> int:
    """Settle every group whose first waiting member has waited ``correlation_timeout``; return how many."""
    at = at or datetime.now(UTC)
    before = (at - timedelta(seconds=gw.settings.correlation_timeout)).strftime(_FORMAT)
    settled = 0
    for document_id in gw.store.waiting_since(before):
        doc = gw.store.get(document_id)
        if doc is None or doc.state != "pending":
            continue  # settled with an earlier member of its group
        with gw.store.transaction():
            settle(gw, document_id, timed_out=True)
        settled += 1
    return settled


def _waited_for(gw: Runtime, keys: Keys) -> Keys:
    """A declaration's needs count only for the counterparts this gateway receives (``[correlation] wait_for``)."""
    wait_for = gw.settings.correlation.wait_for
    needs = frozenset(k for k in keys.needs if k[0] not in DECLARATION_KEYS or k[0] in wait_for)
    return keys if needs == keys.needs else Keys(keys.provides, needs)


def _keys_of(gw: Runtime, kind: str | None, record: dict[str, Any] | None) -> Keys:
    """The keys the document's kind reads in its record; none for a kind this process does not know."""
    known = gw.kinds.get(kind) if kind and record else None
    return known.correlation_keys(record) if known is not None and record else Keys()


def _held(gw: Runtime, kind: str | None, record: dict[str, Any] | None) -> bool:
    """A kind named in ``[correlation] hold`` whose kind says this record waits for a pedimento to claim it."""
    if not kind or kind not in gw.settings.correlation.hold:
        return False
    known = gw.kinds.get(kind)
    return known is not None and known.waits_to_be_claimed(record or {})


def _node(gw: Runtime, doc: Document) -> _Node:
    provides, needs = gw.store.correlation_keys(doc.id)
    member = gw.store.correlation_member(doc.id)
    return _Node(doc, provides, needs, _held(gw, doc.kind, doc.record), member[0] if member else None)


def _eligible(node: _Node) -> bool:
    return node.doc.state in ACTIVE or node.waiting


def _group(gw: Runtime, start_id: str) -> list[_Node]:
    """The connected documents: any two sharing a key (one needing what the other provides, or both the same)."""
    store = gw.store
    start = store.get(start_id)
    if start is None:
        return []
    nodes: dict[str, _Node] = {start_id: _node(gw, start)}
    queue = [nodes[start_id]]
    seen_keys: set[tuple[str, str]] = set()
    while queue:
        node = queue.pop()
        for key in sorted((node.provides | node.needs) - seen_keys):
            seen_keys.add(key)
            store.lock_keys([correlation(key)])  # another node's verdict on this key commits first, or waits
            for other_id in store.documents_with_key(*key):
                if other_id in nodes:
                    continue
                doc = store.get(other_id)
                if doc is None:
                    continue
                other = _node(gw, doc)
                if _eligible(other):
                    nodes[other_id] = other
                    queue.append(other)
    return sorted(nodes.values(), key=lambda n: (n.doc.kind or "", n.doc.business_key or "", n.doc.sha256))


def _apply(gw: Runtime, group: list[_Node], waiting: list[_Node], missing: set[tuple[str, tuple[str, str]]],
           unclaimed: list[_Node], subject_id: str) -> None:
    store, settings = gw.store, gw.settings.correlation
    members = [Member(n.doc.id, n.doc.kind or "", n.doc.record or {}) for n in group]
    try:
        verdict = check_group(members, settings.tolerances)
    except Exception as exc:  # noqa: BLE001 - a bug in a check rejects the arriving document, not the gateway
        log.exception("group check failed")
        store.add_findings(subject_id, [error(
            "INTERNAL", f"Error interno al cotejar el grupo de documentos ({type(exc).__name__}); se conservó en la "
            "cola para reintentarlo cuando se corrija. Los demás documentos del grupo siguen en espera.")])
        store.set_state(subject_id, "rejected", gw.actor, "correlate", reason="INTERNAL")
        store.set_correlation_member(subject_id, "failed")
        return
    reject_missing = settings.on_timeout == "reject"
    for document_id, (key_type, value) in sorted(missing):
        make = error if reject_missing else warning
        verdict.add(make(MISSING_CODE.get(key_type, "XDOC-COVE-MISSING"),
                         f"No llegó {KEY_WORDS.get(key_type, key_type)} {value} dentro del plazo de correlación "
                         f"({_hours(gw.settings.correlation_timeout)}).", key=value, key_type=key_type),
                    next(Member(n.doc.id, "", {}) for n in group if n.doc.id == document_id))
    for node in unclaimed:
        verdict.add(warning("XDOC-UNCLAIMED", f"Ningún pedimento declaró este documento dentro del plazo de "
                            f"correlación ({_hours(gw.settings.correlation_timeout)}); se envía sin cotejar."),
                    Member(node.doc.id, "", {}))
    failed = any(f.severity is Severity.ERROR for n in waiting for f in verdict.findings.get(n.doc.id, []))
    culprits = sorted({n.doc.business_key or n.doc.id for n in group
                       if any(f.severity is Severity.ERROR for f in verdict.findings.get(n.doc.id, []))})
    sinks = [c.name for c in gw.settings.sinks]
    for node in group:
        doc = node.doc
        store.replace_correlation_links(doc.id, sorted(verdict.links.get(doc.id, ())))
        if not node.waiting:
            continue  # already forwarded or ready: its verdict was given when it moved on
        own = list(verdict.findings.get(doc.id, []))
        if failed and not any(f.severity is Severity.ERROR for f in own):
            own.append(error("XDOC-GROUP", f"Se rechaza junto con su grupo: hay discrepancias en "
                             f"{', '.join(culprits)}; se revisará de nuevo cuando llegue la corrección."))
        kept = [f for f in store.findings(doc.id) if not f.code.startswith("XDOC-")]
        store.replace_findings(doc.id, kept + own)
        fields: dict[str, Any] = {}
        if doc.id in verdict.records:
            fields["record"] = verdict.records[doc.id]
        detail = {"group": [n.doc.business_key or n.doc.id for n in group]}
        if failed:
            codes = sorted({f.code for f in own if f.severity is Severity.ERROR})
            store.set_state(doc.id, "rejected", gw.actor, "correlate", reason=", ".join(codes), detail=detail, **fields)
            store.set_correlation_member(doc.id, "rejected")
        else:
            store.set_state(doc.id, "ready", gw.actor, "correlate", detail=detail | {"sinks": sinks}, **fields)
            store.set_correlation_member(doc.id, "settled")
            store.enqueue(doc.id, sinks, now())
    crash_point("correlate.before-commit")  # the whole verdict commits with the caller's transaction, or none of it
    log.info("group settled", members=len(group), rejected=failed)


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds:g} s"


__all__ = ["Finding", "Keys", "Verdict", "resolve_timeouts", "route", "settle"]
