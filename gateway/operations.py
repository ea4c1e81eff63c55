"""Operator actions on the rejected-document queue: retry, replace, discard.

One code path for the CLI and the web page. Every action is audited with who did it and why.
"""

from __future__ import annotations

import re
from pathlib import Path

from gateway import intake, pipeline
from gateway.errors import GatewayError
from gateway.runtime import Runtime
from gateway.store.base import Document, now


class ActionRefused(GatewayError):
    """The action does not apply to this document; the message says why, in the operator's terms."""


def _rejected(gw: Runtime, document_id: str) -> Document:
    doc = gw.store.get(document_id)
    if doc is None:
        raise ActionRefused(f"No existe el documento {document_id}.")
    if doc.state != "rejected":
        raise ActionRefused(f"El documento {document_id} está en estado '{doc.state}', no en la cola de rechazados.")
    return doc


def retry(gw: Runtime, document_id: str, actor: str, reason: str | None = None) -> str:
    """Dead letters are re-delivered; documents rejected by validation are processed again from their bytes."""
    _rejected(gw, document_id)
    store = gw.store
    dead = [d.sink for d in store.deliveries(document_id) if d.state == "dead"]
    with store.transaction():
        if dead:
            kept = [f for f in store.findings(document_id) if f.code != "DELIVERY-FAILED"]
            store.replace_findings(document_id, kept)
            store.set_state(document_id, "ready", actor, "retry", reason=reason, detail={"sinks": dead})
            store.enqueue(document_id, dead, now())
            return "ready"
        store.set_state(document_id, "received", actor, "retry", reason=reason)
    return pipeline.process(gw, document_id)


class ConfirmationNeeded(ActionRefused):
    """The replacement is another document (another UUID or pedimento): it goes ahead only when confirmed."""


_TFD_UUID = re.compile(rb"TimbreFiscalDigital\b[^>]*?\sUUID=[\"']([0-9A-Fa-f-]{36})[\"']")
_PEDIMENTO = re.compile(rb"(?<!\d)(\d{2})[ -]?(\d{2})[ -]?(\d{4})[ -]?(\d{7})(?!\d)")
_IDENTITY_READ = 4 * 1024 * 1024
_DELIVERABLE = ("validated", "normalised", "pending", "ready", "forwarded")


def identity_keys(data: bytes) -> frozenset[str]:
    """What says which document a file is, read from its bytes even when it does not validate: the folio
    fiscal (UUID of the timbre) of a CFDI, else the pedimento numbers it carries (an M file, a Data Stage
    row, a VUCEM answer). Empty when neither can be read (a truncated file): nothing to compare then."""
    head = data[:_IDENTITY_READ]
    uuids = {m.group(1).decode().upper() for m in _TFD_UUID.finditer(head)}
    if uuids:
        return frozenset(f"UUID {u}" for u in uuids)
    return frozenset("pedimento " + b"".join(m.groups()).decode() for m in _PEDIMENTO.finditer(head))


def replace(gw: Runtime, document_id: str, path: Path, actor: str, reason: str | None = None,
            confirm_other: bool = False) -> str:
    """Take a corrected file in place of a rejected one; the new document keeps a link to the old.

    The replacement meets intake's checks first: bytes identical to a document already taken further than
    rejected are a duplicate and are refused (never delivered twice); a file that is another document (its
    UUID or pedimento differs from the rejected one's) needs ``confirm_other`` and the audit row says so."""
    original = _rejected(gw, document_id)
    if not path.is_file():
        raise ActionRefused(f"No se encontró el archivo {path}.")
    size = path.stat().st_size
    if size > gw.settings.max_file_size:
        raise ActionRefused(f"El archivo mide {size:,} bytes; el límite es {gw.settings.max_file_size:,} bytes.")
    sha256, size = gw.archive.put_file(path)
    if sha256 == original.sha256:
        raise ActionRefused("El archivo es idéntico al rechazado; use 'queue retry' para procesarlo de nuevo.")
    copy = next((d for d in gw.store.find_by_sha256(sha256) if d.state in _DELIVERABLE), None)
    if copy is not None:
        raise ActionRefused(
            f"Duplicado: el archivo es idéntico al documento {copy.id} ({copy.filename}, estado {copy.state}); "
            "no se entrega otra vez. Si el rechazado ya no hace falta, descártelo. / Duplicate: the file is "
            f"byte-identical to document {copy.id}, which is not delivered again; discard the rejected one.")
    with path.open("rb") as handle:
        after = identity_keys(handle.read(_IDENTITY_READ))
    before = identity_keys(gw.archive.read(original.sha256)[:_IDENTITY_READ])
    other = bool(before and after and not before & after)
    if other and not confirm_other:
        raise ConfirmationNeeded(
            f"El archivo es otro documento ({', '.join(sorted(after))}) que el rechazado "
            f"({', '.join(sorted(before))}); confírmelo para reemplazar. / The file is another document than "
            "the rejected one; confirm to replace.")
    with gw.store.transaction():
        new_id = intake.record(gw, original.source_name, path.name, sha256, size, original.declared_kind,
                               replaces_id=document_id, actor=actor)
        gw.store.update_fields(new_id, source_acked_at=now())
        detail: dict[str, object] = {"replacement": new_id}
        if other:  # recorded as confirmed: who replaced one document by another, and which
            detail.update(other_document=True, before=sorted(before), after=sorted(after))
        gw.store.set_state(document_id, "replaced", actor, "replace", reason=reason, detail=detail)
    pipeline.process(gw, new_id)
    return new_id


def discard(gw: Runtime, document_id: str, actor: str, reason: str) -> None:
    if not reason or not reason.strip():
        raise ActionRefused("Para descartar un documento hay que indicar el motivo (--reason).")
    _rejected(gw, document_id)
    gw.store.set_state(document_id, "discarded", actor, "discard", reason=reason.strip())


def retry_many(gw: Runtime, document_ids: list[str], actor: str, reason: str | None = None) -> dict[str, str]:
    """Bulk retry (e.g. after a schema or configuration fix): id → new state, or the reason it was refused.

    Each document is retried on its own, so one refusal does not stop the others.
    """
    outcome: dict[str, str] = {}
    for document_id in dict.fromkeys(document_ids):
        try:
            outcome[document_id] = retry(gw, document_id, actor, reason)
        except ActionRefused as exc:
            outcome[document_id] = f"refused: {exc}"
    return outcome


def undo_discard(gw: Runtime, document_id: str, actor: str, reason: str | None = None) -> None:
    """A discard made by mistake, undone: the document is back in the rejected queue, audited with who and why."""
    doc = gw.store.get(document_id)
    if doc is None:
        raise ActionRefused(f"No existe el documento {document_id}.")
    if doc.state != "discarded":
        raise ActionRefused(f"El documento {document_id} está en estado '{doc.state}'; solo se puede deshacer un "
                            "descarte.")
    gw.store.set_state(document_id, "rejected", actor, "undo-discard", reason=(reason or "").strip() or None)
