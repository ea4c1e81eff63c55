"""Queue actions as the page and the API perform them: ``gateway.operations`` (the CLI's code path),
then an attempt to deliver what became ready, as ``queue retry`` and ``queue replace`` do.
"""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path
from typing import BinaryIO

from gateway import operations, outbox
from gateway.app import Gateway
from gateway.errors import GatewayError

_UNSAFE = re.compile(r"[^\w .,()+@-]", re.UNICODE)
LIMITS = {"reason": 500, "note": 2000}  # characters: an audit row is a sentence or two, not a file


class TextTooLong(GatewayError, ValueError):
    """A reason or note longer than its limit; refused before anything changes."""


def limited(text: str, field: str) -> str:
    if len(text) > LIMITS[field]:
        raise TextTooLong(f"El texto de '{field}' admite hasta {LIMITS[field]} caracteres (tiene {len(text)}). / "
                          f"'{field}' takes at most {LIMITS[field]} characters.")
    return text


def retry(gw: Gateway, ids: list[str], actor: str, reason: str | None) -> dict[str, str]:
    gw.actor = actor
    outcome = operations.retry_many(gw, ids, actor, reason)
    _deliver(gw)
    return {i: _final_state(gw, i, state) for i, state in outcome.items()}


def replace(gw: Gateway, document_id: str, filename: str, upload: BinaryIO, actor: str,
            reason: str | None, confirm_other: bool = False) -> str:
    """Stage the upload under its own (cleaned) name, then replace (intake's duplicate and business-key
    checks, ``operations.replace``); the staged copy is removed after."""
    gw.actor = actor
    folder = gw.settings.staging_dir / f"upload-{secrets.token_hex(8)}"
    folder.mkdir(mode=0o700, parents=True)  # an upload waits here a moment, readable by the owner alone
    try:
        path = folder / safe_filename(filename)
        with open(path, "wb") as out:
            shutil.copyfileobj(upload, out, 1024 * 1024)
        new_id = operations.replace(gw, document_id, path, actor, reason, confirm_other)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    _deliver(gw)
    return new_id


def discard(gw: Gateway, document_id: str, actor: str, reason: str) -> None:
    gw.actor = actor
    operations.discard(gw, document_id, actor, reason)


def safe_filename(name: str) -> str:
    """The uploaded file's own name without any path or odd characters (it is shown and searched)."""
    name = Path(name.replace("\\", "/")).name
    name = _UNSAFE.sub("_", name).strip(" .")[:200]
    return name or "reemplazo"


def _deliver(gw: Gateway) -> None:
    outbox.deliver_due(gw)


def _final_state(gw: Gateway, document_id: str, state: str) -> str:
    if state.startswith("refused"):
        return state
    doc = gw.store.get(document_id)
    return doc.state if doc else state
