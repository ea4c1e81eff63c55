"""Answers to senders: each received file gets an answer where its sender looks, and a new one when its verdict changes.

The answer to a file (``<file>.<accepted|rejected|partial>.json`` and a ``.txt`` twin a person reads) lists every
document that came of it — the file itself, or each part of a container, replacements included — with its verdict
and every error finding (code, SAT code, location, message). It is written once no document of the file is still
being processed; a later verdict (a correlation group settled, an operator's retry, replace or discard, a
cancellation) writes a new answer numbered ``<file>.2.<verdict>.json``, ``.3.``…

Guarantees, as for the outbox:
- the answer is recorded in the store (``answers``, with the audit row ``answer``) before its file is written, and
  marked written after; a crash in between writes the same bytes under the same name again, so none is lost and
  none is written twice under two names;
- what triggers answers is the audit trail, read from a cursor kept in the store: every state change writes an
  audit row, so no verdict is missed, and reading it again after a crash finds nothing new to say;
- a reply folder that cannot be written, or an SFTP server that refuses the upload, is retried with backoff and
  shown unhealthy (component ``reply``); it never holds up intake, validation or delivery.

File names are made safe for the sender's side (docs/answers.md): path separators, control and reserved
characters become ``_``, a leading dot or dash becomes ``_``, and the name is cut to 180 bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway import logs
from gateway.faults import crash_point
from gateway.findings import Finding, Severity, by_severity
from gateway.runtime import Runtime
from gateway.store.base import IN_PROGRESS, Document, now

log = logs.get("gateway.answers")

SCHEMA_ID = "https://immex-gateway.dev/schema/answer/1.0"
#: the verdict each document state gives the sender
_VERDICTS = {"ready": "accepted", "forwarded": "accepted", "recorded": "accepted", "pending": "pending",
             "duplicate": "duplicate", "attached": "attached", "rejected": "rejected", "discarded": "discarded"}
#: a container is described by its parts; a replaced document by its replacement
_NOT_LISTED = {"split", "replaced"}
_REFUSED = {"rejected", "discarded"}
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
_MAX_NAME = 180
_BACKOFF_MAX = 900.0


def collect(gw: Runtime) -> int:
    """Queue an answer for every received file whose verdict changed since it was last answered."""
    sources = {s.name: s for s in gw.sources if s.reply_location()}
    if not sources:
        return 0
    store, queued = gw.store, 0
    changed, last = store.changed_documents(store.cursor("answers")[0])
    roots: dict[str, None] = {}
    for document_id in changed:
        root = _root(store, document_id)
        if root is not None and root.source_name in sources:
            roots[root.id] = None
    configs = {c.name: c for c in gw.settings.sources}
    for root_id in roots:
        root = store.get(root_id)
        if root is None:
            continue
        family = store.family(root_id)
        if any(d.state in IN_PROGRESS for d in family):
            continue  # its last state change writes an audit row, which brings it back here
        answer = _answer(store, root, family)
        config = configs[root.source_name]
        previous = store.last_answer(root_id)
        if previous is not None and previous["fingerprint"] == answer["fingerprint"]:
            continue
        if answer["verdict"] not in config.reply_on:
            continue
        seq = (previous["seq"] + 1) if previous else 1
        name = safe_name(root.filename) + (f".{seq}" if seq > 1 else "") + f".{answer['verdict']}"
        answer["payload"].update(answer=seq, answered_at=now())
        with store.transaction():
            store.add_answer({
                "document_id": root_id, "seq": seq, "source_name": root.source_name, "verdict": answer["verdict"],
                "fingerprint": answer["fingerprint"], "name": name,
                "payload": json.dumps(answer["payload"], ensure_ascii=False, indent=2) + "\n",
                "text_payload": as_text(answer["payload"], config.reply_language), "state": "pending",
                "attempts": 0, "next_attempt_at": now(), "created_at": now()})
            store.audit(root_id, gw.actor, "answer", reason=f"{answer['verdict']} #{seq}",
                        detail={"name": name, "to": sources[root.source_name].reply_location()})
        queued += 1
    store.set_cursor("answers", last)
    return queued


def send_due(gw: Runtime) -> int:
    """Write every answer due now; a failure waits with backoff and marks the source's replies unhealthy."""
    store, written = gw.store, 0
    sources = {s.name: s for s in gw.sources}
    for row in store.due_answers(now()):
        source = sources.get(row["source_name"])
        if source is None or not source.reply_location():
            continue  # the source is no longer configured to answer: kept, written if it is again
        crash_point("answers.before-write")
        try:
            source.reply(row["name"] + ".json", row["payload"].encode("utf-8"))
            source.reply(row["name"] + ".txt", row["text_payload"].encode("utf-8"))
        except OSError as exc:
            attempts = row["attempts"] + 1
            wait = min(_BACKOFF_MAX, 5.0 * 2 ** (attempts - 1))
            later = (datetime.now(UTC) + timedelta(seconds=wait)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            store.update_answer(row["document_id"], row["seq"], attempts=attempts, next_attempt_at=later,
                                last_error=str(exc))
            gw.health.failed("reply", source.name, str(exc))
            log.warning("answer not written, will retry", source=source.name, answer=row["name"], error=str(exc),
                        retry_in=wait)
            continue
        with store.transaction():
            store.update_answer(row["document_id"], row["seq"], state="written", written_at=now(),
                                attempts=row["attempts"] + 1, last_error=None)
            store.audit(row["document_id"], gw.actor, "answered", reason=f"{row['verdict']} #{row['seq']}",
                        detail={"name": row["name"]})
        gw.health.ok("reply", source.name)
        written += 1
    return written


def run(gw: Runtime) -> None:
    """One pass of both, never raising: answers must never stop the gateway."""
    try:
        collect(gw)
        send_due(gw)
    except Exception:  # noqa: BLE001 - a bug here must not stop intake and delivery
        log.exception("answers failed; will try again on the next pass")


def safe_name(filename: str) -> str:
    """The received file's name as a name the sender's side can hold (see the module docstring)."""
    name = unicodedata.normalize("NFC", filename)
    name = _UNSAFE.sub("_", name).strip()
    if name[:1] in (".", "-", ""):
        name = "_" + name[1:] if name else "_"
    encoded = name.encode("utf-8")
    if len(encoded) > _MAX_NAME:
        name = encoded[:_MAX_NAME].decode("utf-8", "ignore")
    return name


def _root(store: Any, document_id: str) -> Document | None:
    """The file as its sender delivered it: up through containers and replacements."""
    doc, seen = store.get(document_id), set()
    while doc is not None and doc.id not in seen:
        seen.add(doc.id)
        up = doc.parent_id or doc.replaces_id
        if up is None:
            return doc
        doc = store.get(up)
    return None


def _answer(store: Any, root: Document, family: list[Document]) -> dict[str, Any]:
    listed = [d for d in family if d.state not in _NOT_LISTED] or [root]
    documents: list[dict[str, Any]] = []
    for doc in listed:
        errors = [f for f in by_severity(store.findings(doc.id)) if f.severity is Severity.ERROR]
        documents.append({
            "id": doc.id, "filename": doc.filename, "kind": doc.kind, "state": doc.state,
            "verdict": _VERDICTS.get(doc.state, doc.state), "business_key": doc.business_key,
            "replaces_id": doc.replaces_id, "findings": [_finding(f) for f in errors]})
    refused = [d for d in documents if d["state"] in _REFUSED]
    verdict = "rejected" if len(refused) == len(documents) else "partial" if refused else "accepted"
    said = [(d["id"], d["verdict"], [f["code"] for f in d["findings"]]) for d in documents]
    fingerprint = hashlib.sha256(json.dumps([verdict, said]).encode()).hexdigest()
    payload: dict[str, Any] = {
        "$schema": SCHEMA_ID, "file": root.filename, "source": root.source_name, "sha256": root.sha256,
        "received_at": root.received_at, "verdict": verdict, "documents": documents}
    return {"verdict": verdict, "fingerprint": fingerprint, "payload": payload}


def _finding(finding: Finding) -> dict[str, Any]:
    data = finding.to_dict()
    data.setdefault("sat_code", None)
    return data


_TEXT: dict[str, dict[str, Any]] = {
    "es": {"title": "Respuesta de immex-gateway a su archivo", "source": "fuente", "received": "Recibido",
           "answer": "Respuesta n.º", "verdict": "Veredicto", "document": "documento",
           "accepted": "ACEPTADO", "rejected": "RECHAZADO", "partial": "ACEPTADO EN PARTE",
           "states": {"accepted": "aceptado", "pending": "en espera de sus documentos relacionados",
                      "duplicate": "duplicado (ya recibido)", "attached": "adjunto", "rejected": "rechazado",
                      "discarded": "descartado por operaciones"},
           "line": "línea", "record": "registro", "field": "campo", "entry": "archivo del ZIP", "none": "sin errores",
           "footer": "Corrija los documentos rechazados y vuelva a enviarlos; esta respuesta se actualiza con cada "
                     "cambio de veredicto."},
    "en": {"title": "immex-gateway's answer to your file", "source": "source", "received": "Received",
           "answer": "Answer no.", "verdict": "Verdict", "document": "document",
           "accepted": "ACCEPTED", "rejected": "REJECTED", "partial": "PARTLY ACCEPTED",
           "states": {"accepted": "accepted", "pending": "waiting for its related documents",
                      "duplicate": "duplicate (received before)", "attached": "attachment", "rejected": "rejected",
                      "discarded": "discarded by operations"},
           "line": "line", "record": "record", "field": "field", "entry": "ZIP entry", "none": "no errors",
           "footer": "Correct the rejected documents and send them again; a new answer follows every change of "
                     "verdict."},
}


def as_text(payload: dict[str, Any], language: str) -> str:
    """The plain-text twin: what a broker reads in a mail client or a terminal."""
    t = _TEXT.get(language, _TEXT["es"])
    lines = [f"{t['title']} {payload['file']} ({t['source']} {payload['source']})",
             f"{t['received']}: {payload['received_at'][:19].replace('T', ' ')} UTC · {t['answer']} "
             f"{payload.get('answer', 1)}",
             f"{t['verdict']}: {t[payload['verdict']]}", ""]
    for number, doc in enumerate(payload["documents"], start=1):
        part = doc["filename"].split("#", 1)[1] if "#" in doc["filename"] else doc["filename"]
        state = t["states"].get(doc["verdict"], doc["verdict"])
        lines.append(f"{number}. {part} — {doc['kind'] or '?'} — {state} ({t['document']} {doc['id']})")
        for finding in doc["findings"]:
            where = ", ".join(f"{t.get(k, k)} {v}" for k, v in finding["location"].items())
            sat = f" [{finding['sat_code']}]" if finding.get("sat_code") else ""
            lines.append(f"   {finding['code']}{sat}{' · ' + where if where else ''}: {finding['message']}")
    lines += ["", t["footer"], ""]
    return "\n".join(lines)
