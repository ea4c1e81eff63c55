"""Intake: archive a complete file's bytes, commit its document row, only then release the source file.

The order is what makes a crash harmless: bytes archived (fsynced) → row committed →
source file moved or deleted → row marked acknowledged. If the process dies before the
commit, the file is still at the source and is taken again. If it dies after the commit
but before the acknowledgement, the next pass finds the same bytes from the same source
and file name still unacknowledged and only finishes the acknowledgement.

``take_many`` keeps that order for a batch (group commit): every file of the batch archived (each fsynced,
their folders fsynced once), then every row in one commit, then the source files released, then one commit
of the acknowledgements: two commits per batch instead of two per file.
"""

from __future__ import annotations

from gateway import logs
from gateway.faults import crash_point
from gateway.findings import error
from gateway.ids import new_id
from gateway.ports import IncomingFile, Source
from gateway.runtime import Runtime
from gateway.store.base import Document, now

log = logs.get("gateway.intake")


def take(gw: Runtime, source: Source, item: IncomingFile) -> str | None:
    """Take one file; return the document id, or None if the file changed while being copied."""
    with source.open(item) as stream:
        sha256, size = gw.archive.put_stream(stream)
    crash_point("intake.after-archive")
    if not source.unchanged(item):
        log.warning("file changed while being copied; will retry when stable", source=source.name, file=item.name)
        return None
    document_id = record(gw, source.name, item.name, sha256, size, source.kind)
    crash_point("intake.after-commit")
    source.acknowledge(item)
    with gw.store.transaction():
        gw.store.update_fields(document_id, source_acked_at=now())
    return document_id


def take_many(gw: Runtime, source: Source, items: list[IncomingFile],
              errors: list[str] | None = None) -> list[str]:
    """Take a batch of files from one source with two commits; return the ids of the documents taken.

    A file that cannot be read, or changes while being copied, is left at the source (taken on a later pass;
    a read error is added to ``errors``); the others go on."""
    archived: list[tuple[IncomingFile, str, int]] = []
    with gw.archive.batch():  # the archive's folders fsynced once, before any row names a file in them
        for item in items:
            try:
                with source.open(item) as stream:
                    sha256, size = gw.archive.put_stream(stream)
            except OSError as exc:
                log.error("intake failed, file left at source", source=source.name, file=item.name, error=str(exc))
                if errors is not None:
                    errors.append(f"{source.name}/{item.name}: {exc}")
                continue
            crash_point("intake.after-archive")
            if not source.unchanged(item):
                log.warning("file changed while being copied; will retry when stable", source=source.name,
                            file=item.name)
                continue
            archived.append((item, sha256, size))
    if not archived:
        return []
    with gw.store.transaction():
        ids = [record(gw, source.name, item.name, sha256, size, source.kind) for item, sha256, size in archived]
    crash_point("intake.after-commit")
    acknowledged = []
    for (item, _, _), document_id in zip(archived, ids, strict=True):
        try:
            source.acknowledge(item)
        except OSError as exc:  # the row is committed: the next pass finds it unacknowledged and finishes
            log.error("source file not released; retried on the next pass", source=source.name, file=item.name,
                      error=str(exc))
            continue
        acknowledged.append(document_id)
    stamp = now()
    with gw.store.transaction():
        for document_id in acknowledged:
            gw.store.update_fields(document_id, source_acked_at=stamp)
    return ids


def record(gw: Runtime, source_name: str, filename: str, sha256: str, size: int, declared_kind: str,
           replaces_id: str | None = None, actor: str | None = None, parent_id: str | None = None) -> str:
    """Commit the document row for archived bytes: new, duplicate, or the resumption of an interrupted intake.

    ``parent_id`` marks a part carved out of a container file: it has no source file to acknowledge.
    """
    actor = actor or gw.actor
    store = gw.store
    with store.transaction():
        earlier = store.find_by_sha256(sha256)
        for doc in earlier:
            if doc.source_name == source_name and doc.filename == filename and doc.source_acked_at is None \
                    and replaces_id is None and parent_id is None:
                log.info("resuming interrupted intake", document_id=doc.id, source=source_name, file=filename)
                return doc.id
        original = next((d for d in earlier if d.state != "duplicate" and d.replaces_id is None), None) \
            if replaces_id is None else None
        stamp = now()
        doc = Document(
            id=new_id(), kind=None, declared_kind=declared_kind, state="received", source_name=source_name,
            filename=filename, sha256=sha256, size=size, received_at=stamp, updated_at=stamp,
            replaces_id=replaces_id, parent_id=parent_id, source_acked_at=stamp if parent_id else None,
        )
        if original is not None:
            doc.state, doc.duplicate_of, doc.kind = "duplicate", original.id, original.kind
            store.insert_document(doc, actor, "intake", reason=f"byte-identical to document {original.id}")
            log.info("duplicate received", document_id=doc.id, source=source_name, duplicate_of=original.id,
                     file=filename)
        else:
            store.insert_document(doc, actor, "intake")
            log.info("document received", document_id=doc.id, source=source_name, file=filename, sha256=sha256,
                     size=size)
        if size == 0 and doc.state == "received":
            store.add_findings(doc.id, [error("FILE-EMPTY", "El archivo está vacío (0 bytes).")])
            store.set_state(doc.id, "rejected", actor, "validate", reason="FILE-EMPTY")
        elif size > gw.settings.max_file_size and doc.state == "received":
            store.add_findings(doc.id, [error(
                "FILE-TOO-LARGE",
                f"El archivo mide {size:,} bytes; el límite configurado (validation.max_file_size) es "
                f"{gw.settings.max_file_size:,} bytes.")])
            store.set_state(doc.id, "rejected", actor, "validate", reason="FILE-TOO-LARGE")
        return doc.id
