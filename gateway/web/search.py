"""Search keys of a document, read from its archived bytes: UUIDs, RFCs and pedimento numbers.

Rejected documents have no canonical record, yet operators search them by the folio fiscal, an
RFC or the pedimento number they were told on the phone. A few regular expressions over the
original bytes find those whatever the kind (XML, pipe records, CSV). The keys are read once
per document, lazily, by the process that serves the page: nothing in the pipeline changes.
They are kept one per row under an index with the file name and its words, so a search matches
keys that start with what was typed (a whole or leading part of a UUID, RFC, pedimento number,
file name or a word of it) in an index range, not by scanning every document.
"""

from __future__ import annotations

import re

from gateway.archive import Archive
from gateway.store import Store

_UUID = re.compile(rb"(?<![0-9A-Fa-f])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
                   rb"(?![0-9A-Fa-f])")
_RFC = re.compile(rb"(?<![A-Za-z0-9&])(?:[A-Z&]|\xc3\x91){3,4}\d{6}[A-Z0-9]{3}(?![A-Za-z0-9])")
_PEDIMENTO = re.compile(rb"(?<!\d)(\d{2})[ -]?(\d{2})[ -]?(\d{4})[ -]?(\d{7})(?!\d)")
_WORDS = re.compile(r"[\s\-_.#()\[\]]+")
_READ_LIMIT = 4 * 1024 * 1024
_MAX_KEYS = 200


def keys_of(data: bytes, business_key: str | None = None, filename: str | None = None) -> list[str]:
    """The distinct search keys of a document (upper-case; pedimento numbers as 15 digits): its file name
    and each word of it, its business key, and the UUIDs, RFCs and pedimento numbers in ``data``."""
    found: dict[str, None] = {}
    if filename:
        name = filename.upper()
        found[name] = None
        for word in _WORDS.split(name):
            if len(word) >= 2:
                found[word] = None
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


def index_pending(store: Store, archive: Archive, batch: int = 500) -> int:
    """Read the keys of every document not indexed yet; return how many were indexed."""
    total = 0
    while True:
        pending = store.unindexed_documents(batch)
        if not pending:
            return total
        entries = []
        for document_id, filename, sha256, business_key in pending:
            try:
                data = archive.read(sha256)
            except OSError:
                data = b""  # the blob is missing: the document page says so; search by name still works
            entries.append((document_id, keys_of(data, business_key, filename)))
        store.save_search_keys(entries)
        total += len(entries)
