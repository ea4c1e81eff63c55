"""Search keys of a document, read from its archived bytes: UUIDs, RFCs and pedimento numbers.

Rejected documents have no canonical record, yet operators search them by the folio fiscal, an
RFC or the pedimento number they were told on the phone. A few regular expressions over the
original bytes find those whatever the kind (XML, pipe records, CSV). The keys are read once
per document, lazily, by the process that serves the page: nothing in the pipeline changes.
"""

from __future__ import annotations

import re

from gateway.archive import Archive
from gateway.store.sqlite import SqliteStore

_UUID = re.compile(rb"(?<![0-9A-Fa-f])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
                   rb"(?![0-9A-Fa-f])")
_RFC = re.compile(rb"(?<![A-Za-z0-9&])(?:[A-Z&]|\xc3\x91){3,4}\d{6}[A-Z0-9]{3}(?![A-Za-z0-9])")
_PEDIMENTO = re.compile(rb"(?<!\d)(\d{2})[ -]?(\d{2})[ -]?(\d{4})[ -]?(\d{7})(?!\d)")
_READ_LIMIT = 4 * 1024 * 1024
_MAX_KEYS = 200


def keys_of(data: bytes, business_key: str | None = None) -> list[str]:
    """The distinct search keys in ``data`` (upper-case; pedimento numbers as 15 digits)."""
    found: dict[str, None] = {}
    if business_key:
        found[business_key.upper()] = None
    head = data[:_READ_LIMIT]
    for match in _UUID.finditer(head):
        found[match.group().decode().upper()] = None
    for match in _RFC.finditer(head):
        found[match.group().decode("utf-8", "replace")] = None
    for match in _PEDIMENTO.finditer(head):
        found[b"".join(match.groups()).decode()] = None
    return list(found)[:_MAX_KEYS]


def index_pending(store: SqliteStore, archive: Archive, batch: int = 500) -> int:
    """Read the keys of every document not indexed yet; return how many were indexed."""
    total = 0
    while True:
        pending = store.unindexed_documents(batch)
        if not pending:
            return total
        entries = []
        for document_id, sha256, business_key in pending:
            try:
                data = archive.read(sha256)
            except OSError:
                data = b""  # the blob is missing: the document page says so; search by name still works
            entries.append((document_id, " " + " ".join(keys_of(data, business_key)) + " "))
        store.save_search_keys(entries)
        total += len(entries)
