"""Drives each received document through detect → validate → normalise → ready (DESIGN §2).

Every transition is a committed state change with its audit row. Processing starts again
from the archived bytes, so a document interrupted half-way is simply processed again.
Verdicts commit in batches of ``COMMIT_BATCH`` documents (group commit: one fsync per batch); a document
that fails inside a batch is undone alone (a savepoint) and rejected with INTERNAL, and a SIGKILL repeats at
most the batch it interrupted. Large batches of CFDIs and COVEs are checked by worker processes
(``prechecked``); the commits stay in this process, in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import structlog

from gateway import immex, lease, logs
from gateway.batch_keys import batch_keys
from gateway.checking import check_with, guarded, internal
from gateway.errors import StoreConflict, StoreUnavailable
from gateway.faults import crash_point
from gateway.findings import Finding, error, info
from gateway.intake import record
from gateway.kinds.base import CheckResult, ChecksFile, KeepsReferenceData
from gateway.routing import route
from gateway.runtime import Runtime
from gateway.store.base import IN_PROGRESS, Document
from gateway.workers import chunks

log = logs.get("gateway.pipeline")

T = TypeVar("T")


def check_bytes(gw: Runtime, data: bytes, filename: str, declared_kind: str = "auto",
                trusted: bool = False) -> tuple[str | None, CheckResult]:
    """Detect the kind and validate; shared by the pipeline and ``validate``. Never raises, whatever the bytes.

    ``trusted`` is for parts the gateway carved out of a container itself (or an operator's replacement of
    one): only those may have the shape of an internal part format (an ERP chunk, a Data Stage part).
    """
    return guarded(lambda: check_with(gw.kinds, data, filename, declared_kind, trusted))


def process(gw: Runtime, document_id: str, checked: Checked | None = None) -> str:
    """Process one document in an in-progress state; return its new state.

    ``checked`` is the verdict a worker process already reached on the same archived bytes (``prechecked``)."""
    store = gw.store
    doc = store.get(document_id)
    if doc is None or doc.state not in IN_PROGRESS:
        return doc.state if doc else "missing"
    structlog.contextvars.bind_contextvars(document_id=document_id)
    try:
        kind_name, result = checked if checked is not None else _safe_check(gw, doc)
        read_inside = store.in_transaction  # in a batch's transaction ``doc`` is already what it holds
        with store.transaction():
            current = doc if read_inside else store.get(document_id)
            if current is None or current.state != doc.state:  # another node finished it meanwhile
                return current.state if current else "missing"
            store.replace_findings(document_id, result.findings)
            kind: dict[str, Any] = {"kind": kind_name} if kind_name else {}
            if not result.ok:
                codes = sorted({f.code for f in result.findings if f.severity.value == "error"})
                store.set_state(document_id, "rejected", gw.actor, "validate", reason=", ".join(codes),
                                from_state=doc.state, **kind)
                log.info("document rejected", kind=kind_name, codes=codes)
                return "rejected"
            if doc.state == "received":
                store.set_state(document_id, "validated", gw.actor, "validate", from_state=doc.state, **kind)
            elif kind:
                store.update_fields(document_id, **kind)
            crash_point("pipeline.after-validate")
            if result.parts is not None:
                return _split(gw, doc, kind_name, result)
            store.set_state(document_id, "normalised", gw.actor, "normalise", record=result.record,
                            business_key=result.business_key,
                            from_state="validated" if doc.state == "received" else doc.state)
            _on_ready(gw, kind_name, document_id, result)
            _link_by_key(gw, doc, kind_name, result)
            if immex.on_normalised(gw, doc, kind_name, result.record, result.business_key) == "pending":
                return "pending"  # a discharge waiting for the temporary import it names
            return route(gw, document_id, kind_name, result.record)
    finally:
        structlog.contextvars.unbind_contextvars("document_id")


def process_pending(gw: Runtime, report: Callable[[int, int], None] | None = None) -> int:
    """Process until nothing is in progress (a container's parts are processed in the same pass).

    ``report(done, total)`` after each document, for a progress line (the total grows as containers split).
    On a store shared by several nodes each node processes the documents it claims (``gateway/lease.py``).
    """
    if lease.shared(gw):
        return _process_claimed(gw, report)
    count, seen = 0, set()
    while True:
        batch = [i for i in gw.store.ids_in_states(IN_PROGRESS) if i not in seen]
        if not batch:
            return count
        total = count + len(batch)
        for group in chunks(prechecked(gw, batch), COMMIT_BATCH):
            group = _checked_first(gw, group)
            with gw.store.transaction():  # group commit: the verdicts of a batch of documents in one commit
                for document_id, checked in group:
                    seen.add(document_id)
                    _process_guarded(gw, document_id, checked)
            count += len(group)
            if report is not None:
                report(count, total)


Checked = tuple[str | None, CheckResult]


def prechecked(gw: Runtime, ids: list[str], minimum: int | None = None) -> Iterator[tuple[str, Checked | None]]:
    """Each id with the verdict the worker processes reached on its archived bytes (``gateway/workers.py``), in
    order; None where this process must check it itself (a container, a kind that reads the store). Without
    workers, or for fewer than ``minimum`` documents (default ``POOL_MIN``), every verdict is None: the
    pipeline checks as it always did."""
    pool = gw.workers() if len(ids) >= (POOL_MIN if minimum is None else minimum) else None
    if pool is None:
        yield from ((i, None) for i in ids)
        return
    from gateway.pipeline_worker import check_in_worker

    docs = [gw.store.get(i) for i in ids]
    items = [(str(gw.archive.path_for(d.sha256)), d.filename, d.declared_kind, _trusted(gw, d))
             if d is not None and 0 < d.size <= POOL_MAX_SIZE else None for d in docs]
    results: Iterator[Checked | None] | None = pool.map(check_in_worker, items)
    for document_id in ids:
        checked = None
        if results is not None:
            try:
                checked = next(results)
            except Exception as exc:  # noqa: BLE001 - a worker lost (killed, out of memory): check here instead
                log.warning("worker pool failed; checking in the gateway process", error=str(exc))
                results = None
        yield document_id, checked


COMMIT_BATCH = 32  # documents whose verdicts commit together (one fsync); a SIGKILL repeats at most these
POOL_MIN = 32  # fewer documents than this are checked in the gateway process (a pool costs more to feed)
POOL_MAX_SIZE = 8 * 10**6  # larger files are checked here, streamed where the kind can (never sent whole)
CLAIM_BATCH = 16  # documents claimed at a time: few enough that the nodes share a batch evenly
CONFLICT_RETRIES = 3  # a batch that deadlocked with another node's is run again, the last time unkeyed


def _process_claimed(gw: Runtime, report: Callable[[int, int], None] | None) -> int:
    """Claim a few documents no other live node holds, process them, hand the claims back; until none is left."""
    node, ttl = gw.settings.node, gw.settings.lease_ttl
    count, seen = 0, set[str]()
    while True:
        batch = gw.store.claim_documents(IN_PROGRESS, node, ttl, CLAIM_BATCH, skip=seen)
        if not batch:
            return count
        group = _checked_first(gw, list(prechecked(gw, batch, minimum=CLAIM_BATCH)))  # a full claim: the workers
        keys = batch_keys(gw, group)
        for attempt in range(1, CONFLICT_RETRIES + 1):
            try:
                with gw.store.transaction(keys):  # the batch's verdicts and the claims handed back in one commit
                    for document_id, checked in group:
                        _process_guarded(gw, document_id, checked)
                    gw.store.release_claims([f"doc:{i}" for i in batch], node)
                break
            except StoreConflict as exc:  # another node's batch met this one in a correlation group: again
                if attempt == CONFLICT_RETRIES:
                    raise
                log.info("batch met another node's; processed again", attempt=attempt, error=str(exc))
                if attempt == CONFLICT_RETRIES - 1:
                    keys = None  # the last time with the store to itself: it cannot meet anyone
        seen.update(batch)
        count += len(group)
        if report is not None:
            report(count, count)


def _checked_first(gw: Runtime, group: list[tuple[str, Checked | None]]) -> list[tuple[str, Checked | None]]:
    """Each document of a group checked before the group's transaction opens: validation, the CPU part, never
    holds the store's write lock (other nodes, the delivery thread and the page write meanwhile)."""
    from gateway.pipeline_worker import POOL_KINDS

    out: list[tuple[str, Checked | None]] = []
    for document_id, checked in group:
        if checked is None:
            doc = gw.store.get(document_id)
            if doc is not None and doc.state in IN_PROGRESS and _kind_of(gw, doc) in POOL_KINDS:
                checked = _safe_check(gw, doc)  # a pure kind; the others (an ERP chunk reads the material
        out.append((document_id, checked))  # master an earlier document of the batch may write) check in turn
    return out


def _kind_of(gw: Runtime, doc: Document) -> str | None:
    if doc.declared_kind != "auto" or not doc.size:
        return doc.declared_kind
    try:
        with gw.archive.path_for(doc.sha256).open("rb") as handle:
            return gw.kinds.detect(handle.read(8192), doc.filename)
    except OSError:
        return None


def _process_guarded(gw: Runtime, document_id: str, checked: Checked | None = None) -> None:
    """One document's failure outside its checker (splitting, storing, routing) rejects it with INTERNAL and the
    pass goes on with the next one; a store that is down still stops the pass (nothing can be recorded)."""
    try:
        with gw.store.savepoint():  # in a batch, a failure undoes this document's writes only
            process(gw, document_id, checked)
    except (StoreUnavailable, StoreConflict):  # the whole batch is rolled back: it is not this document's fault
        raise
    except Exception as exc:  # noqa: BLE001 - the last resort of the pipeline
        log.error("processing failed", document_id=document_id, exc_info=exc)
        store = gw.store
        with store.transaction():
            doc = store.get(document_id)
            if doc is None or doc.state not in IN_PROGRESS:
                return
            store.add_findings(document_id, [internal(exc)])
            store.set_state(document_id, "rejected", gw.actor, "validate", reason="INTERNAL")


def _split(gw: Runtime, doc: Document, kind_name: str | None, result: CheckResult) -> str:
    """Archive each part of a container, then commit all part rows and the container's ``split`` at once.

    The parts are consumed lazily (a container may stream a large file); only their hashes are kept.
    Nothing is recorded until the last part is archived, so a crash or a defect found late (a
    truncated set) leaves the container to be processed again or rejected whole, never half-loaded.
    """
    store, archived = gw.store, []
    try:
        for number, part in enumerate(result.parts or (), start=1):
            if part.opener is not None:
                with part.opener() as stream:
                    sha256, size = gw.archive.put_stream(stream)
            else:
                sha256, size = gw.archive.put_bytes(part.data)
            archived.append((f"{doc.filename}#{number} {part.label}".rstrip(), sha256, size, part.kind,
                             part.findings))
    except Exception as exc:  # noqa: BLE001 - a bug while splitting rejects this file, not the gateway
        log.exception("splitting failed")
        result.findings.append(error("INTERNAL", f"Error interno al separar el archivo ({type(exc).__name__})."))
    store.replace_findings(doc.id, result.findings)
    if not result.ok:
        codes = sorted({f.code for f in result.findings if f.severity.value == "error"})
        store.set_state(doc.id, "rejected", gw.actor, "validate", reason=", ".join(codes))
        log.info("container rejected", kind=kind_name, codes=codes)
        return "rejected"
    if not archived and result.record and result.record.get("held"):  # one file of a set still arriving
        store.set_state(doc.id, "pending", gw.actor, "hold", detail={"waiting_for": result.record.get("waiting_for")},
                        record=result.record, business_key=result.business_key)
        log.info("container held until its set is complete", kind=kind_name, business_key=result.business_key)
        return "pending"
    if not archived and result.record and result.record.get("nothing_to_split"):  # e.g. every invoice vigente
        store.set_state(doc.id, "split", gw.actor, "split", detail={"parts": 0}, record=result.record,
                        business_key=result.business_key)
        return "split"
    if not archived:
        store.add_findings(doc.id, [error("FILE-EMPTY", "El archivo no contiene ningún documento.")])
        store.set_state(doc.id, "rejected", gw.actor, "validate", reason="FILE-EMPTY")
        return "rejected"
    children = [_record_part(gw, doc, label, sha256, size, part_kind, findings)
                for label, sha256, size, part_kind, findings in archived]
    store.set_state(doc.id, "split", gw.actor, "split", detail={"parts": len(children)},
                    record=result.record, business_key=result.business_key)
    if result.business_key:  # the files of the same set held before this one are split by it
        for held in store.find_by_business_key(result.business_key, kind_name):
            if held.id != doc.id and held.state == "pending":
                store.add_link(held.id, doc.id, "same-set")
                store.set_state(held.id, "split", gw.actor, "split", detail={"completed_by": doc.id})
    log.info("container split", kind=kind_name, parts=len(children))
    return "split"


def _record_part(gw: Runtime, container: Document, label: str, sha256: str, size: int, part_kind: str,
                 findings: list[Finding]) -> str:
    """A part row: a document to process, an attachment kept as it is, or an entry its container refused."""
    store = gw.store
    declared = "auto" if part_kind in ("attachment", "refused") else part_kind
    child = record(gw, container.source_name, label, sha256, size, declared, parent_id=container.id)
    state = store.get(child)
    if state is None or state.state != "received":  # a duplicate, or rejected for its size
        return child
    if part_kind == "attachment":
        store.set_state(child, "attached", gw.actor, "attach", detail={"container": container.id})
    elif part_kind == "refused":
        store.replace_findings(child, findings)
        codes = sorted({f.code for f in findings if f.severity.value == "error"})
        store.set_state(child, "rejected", gw.actor, "validate", reason=", ".join(codes))
    return child


_LIVE = ("normalised", "pending", "ready", "forwarded")


def _link_by_key(gw: Runtime, doc: Document, kind_name: str | None, result: CheckResult) -> None:
    """Recognise a byte-different resend by its business key, and link what the document says it refers to."""
    store = gw.store
    if result.business_key:
        earlier = [d for d in store.find_by_business_key(result.business_key, kind_name)
                   if d.id != doc.id and d.state in _LIVE]
        for other in earlier:
            store.add_link(doc.id, other.id, "resend-of")
        if earlier:
            store.add_findings(doc.id, [info("DOC-RESEND", f"El mismo documento ({result.business_key}) ya se "
                                             f"recibió como {earlier[0].filename} ({earlier[0].id}); este es un "
                                             "reenvío con otro contenido.")])
    for role, key in result.related:
        for target in store.find_by_business_key(key, kind_name):
            if target.id != doc.id and target.state in _LIVE:
                store.add_link(doc.id, target.id, role)


def _safe_check(gw: Runtime, doc: Document) -> tuple[str | None, CheckResult]:
    """A bug in a checker must reject one document, not stop the gateway."""
    return guarded(lambda: _check_archived(gw, doc))


def _check_archived(gw: Runtime, doc: Document) -> tuple[str | None, CheckResult]:
    """A declared kind that streams (an ERP export of 500,000 rows) reads the archived file itself; others get bytes.

    A part the gateway carved out of a container in its own part format (or an operator's replacement of one)
    is trusted to have that format; anything else that has it is refused (FILE-INTERNAL-FORMAT).
    """
    kind_name: str | None = doc.declared_kind
    if kind_name == "auto" and doc.size:  # a kind that streams (a ZIP) is recognised from the head alone
        with gw.archive.path_for(doc.sha256).open("rb") as handle:
            kind_name = gw.kinds.detect(handle.read(8192), doc.filename)
    kind = gw.kinds.get(kind_name) if kind_name and doc.size else None
    if isinstance(kind, ChecksFile):
        return kind_name, kind.check_file(gw.archive.path_for(doc.sha256))
    return check_with(gw.kinds, gw.archive.read(doc.sha256), doc.filename, doc.declared_kind, _trusted(gw, doc))


def _trusted(gw: Runtime, doc: Document) -> bool:
    """Whether ``doc`` is a part made by a container kind that writes its own part formats (an M file, a Data
    Stage set, an ERP export), or an operator's replacement of such a part. A ZIP's entries are not: they are
    the sender's bytes."""
    store, seen = gw.store, 0
    while doc.replaces_id is not None and doc.parent_id is None and seen < 20:
        original = store.get(doc.replaces_id)
        if original is None:
            return False
        doc, seen = original, seen + 1
    parent = store.get(doc.parent_id) if doc.parent_id else None
    return parent is not None and gw.kinds.makes_parts(parent.kind or parent.declared_kind)


def _on_ready(gw: Runtime, kind_name: str | None, document_id: str, result: CheckResult) -> None:
    """Kinds that keep reference data (the ERP material master) record it in the transaction that makes it ready."""
    kind = gw.kinds.get(kind_name) if kind_name else None
    if isinstance(kind, KeepsReferenceData):
        kind.on_ready(gw.store, document_id, result.record)
