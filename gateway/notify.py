"""The operations digest: new rejections and dead letters, grouped by source and finding code, by mail.

At most one digest per ``[notify] interval``, and none when nothing is new. What is new is read from the audit
trail after a cursor kept in the store (``notify``); the cursor moves only after the mail server accepted the
digest, so a failed send is retried on the next pass with the same rejections and more — never lost, at worst
sent again after a crash between the send and the cursor's commit. A mail server that fails turns the
component ``notify`` unhealthy (``/healthz``, the overview) and never holds up the pipeline: the mailer's
``timeout`` bounds each try, and a failure is logged, not raised.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from gateway import logs
from gateway.errors import TransportError
from gateway.findings import Severity
from gateway.runtime import Runtime

log = logs.get("gateway.notify")

_SHOWN_PER_GROUP = 20
_TEXT = {
    "es": {"subject": "immex-gateway: {n} documento(s) rechazado(s) o sin entregar",
           "intro": "Nuevos desde el último resumen ({since}):",
           "rejected": "rechazados", "dead": "sin entregar (el destino no los aceptó)", "source": "Fuente",
           "more": "… y {n} más", "queue": "Cola de rechazados", "never": "el inicio"},
    "en": {"subject": "immex-gateway: {n} document(s) rejected or undelivered",
           "intro": "New since the last digest ({since}):",
           "rejected": "rejected", "dead": "undelivered (the destination refused them)", "source": "Source",
           "more": "… and {n} more", "queue": "Rejected-document queue", "never": "the start"},
}


_sending: threading.Thread | None = None
_retry_at = 0.0  # monotonic time before which a failed send is not tried again (this process)
_failures = 0


def run(gw: Runtime, wait: bool = False) -> None:
    """Send the digest in a thread of its own if one is due (``wait``: and wait for it). Never raises."""
    global _sending
    config = gw.settings.notify
    if config is None or (_sending is not None and _sending.is_alive()) or time.monotonic() < _retry_at:
        return
    _, last_sent = gw.store.cursor("notify")
    if last_sent is not None and _age(last_sent) < config.interval:
        return
    worker = gw.fork()  # its own store connection: the pipeline's thread never waits for the mail server
    _sending = threading.Thread(target=_send, args=(worker, config.base_url, config.language),
                                name="notify", daemon=True)
    _sending.start()
    if wait:
        _sending.join()


def _send(gw: Runtime, base_url: str | None, language: str) -> None:
    global _retry_at, _failures
    try:
        store = gw.store
        cursor, last_sent = store.cursor("notify")
        rows = store.rejections_since(cursor)
        if not rows:
            return
        mailer = gw.mailer
        assert mailer is not None
        subject, body = digest(store, rows, base_url, language, last_sent)
        try:
            mailer.send(subject, body)
        except TransportError as exc:
            _failures += 1
            wait = min(900.0, 15.0 * 2 ** (_failures - 1))
            _retry_at = time.monotonic() + wait
            gw.health.failed("notify", "mail", str(exc))
            log.warning("notification digest not sent, will retry", error=str(exc), documents=len(rows),
                        retry_in=wait)
            return
        _failures = 0
        store.set_cursor("notify", rows[-1]["audit_id"])
        gw.health.ok("notify", "mail")
        log.info("notification digest sent", documents=len(rows), to=mailer.describe())
    except Exception:  # noqa: BLE001 - notifications must never stop the gateway
        log.exception("notification digest failed; will try again on the next pass")
    finally:
        gw.close()


def digest(store: Any, rows: list[dict[str, Any]], base_url: str | None, language: str,
           since: str | None) -> tuple[str, str]:
    """(subject, plain-text body): per source, the rejections by finding code, then the dead letters."""
    t = _TEXT.get(language, _TEXT["es"])
    latest = {row["id"]: row for row in rows}  # a document rejected twice is listed once
    groups: dict[str, dict[tuple[str, str], list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in latest.values():
        dead = row["action"] == "dead-letter"
        code = "DELIVERY-FAILED" if dead else _first_error(store, row["id"])
        groups[row["source_name"]][("dead" if dead else "rejected", code)].append(row)
    lines = [t["intro"].format(since=since[:16].replace("T", " ") + " UTC" if since else t["never"]), ""]
    for source in sorted(groups):
        lines.append(f"{t['source']} {source}")
        for (what, code), docs in sorted(groups[source].items()):
            lines.append(f"  {code} — {len(docs)} {t[what]}")
            for row in docs[:_SHOWN_PER_GROUP]:
                link = f"  {base_url}/documents/{row['id']}" if base_url else f"  ({row['id']})"
                lines.append(f"    · {row['filename']}{link}")
            if len(docs) > _SHOWN_PER_GROUP:
                lines.append("    " + t["more"].format(n=len(docs) - _SHOWN_PER_GROUP))
        lines.append("")
    if base_url:
        lines.append(f"{t['queue']}: {base_url}/queue")
    return t["subject"].format(n=len(latest)), "\n".join(lines) + "\n"


def _first_error(store: Any, document_id: str) -> str:
    return next((f.code for f in store.findings(document_id) if f.severity is Severity.ERROR), "?")


def _age(stamp: str) -> float:
    then = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return (datetime.now(UTC) - then).total_seconds()
