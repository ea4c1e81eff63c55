"""Search keys of a document, read from its archived bytes: UUIDs, RFCs, pedimento numbers, company
names, part numbers and amounts.

Rejected documents have no canonical record, yet operators search them by the folio fiscal, an
RFC or the pedimento number they were told on the phone. A few regular expressions over the
original bytes find those whatever the kind (XML, pipe records, CSV). The keys are read once
per document, lazily, by the process that serves the page: nothing in the pipeline changes.
They are kept one per row under an index with the file name and its words, so a search matches
keys that start with what was typed (a whole or leading part of a UUID, RFC, pedimento number,
file name or a word of it) in an index range, not by scanning every document.

Pedimentos are searched the way customs people write them: the 15-digit number with or without its
spaces (``26 24 3456 6000001``), or patente and number (``3456-6000001``). M files and Data Stage rows
hold patente, number and sección as three fields (``3456|6000001|240``); the year comes from a date in
the file whose last digit agrees with the number's first (the rule of the pedimento number), else from
the most recent such year. Amounts are kept as plain decimals with at least two places (``1500.00``)
so that ``1,500.00``, ``1500`` or ``$1,500`` typed in the box all find them (see
``gateway/store/web_queries.search_term``).
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
_FIELDS = re.compile(rb"(?:^|\|)(\d{4})\|(\d{7})\|(\d{3})(?=\||\r?$)", re.M)  # patente|pedimento|sección
_YEAR = re.compile(rb"(?<!\d)(20\d\d)-?(?:0[1-9]|1[0-2])-?(?:[0-2]\d|3[01])(?!\d)")
_XML_NAME = re.compile(r'\s(?:Nombre|NombreContribuyente|RazonSocial)="([^"]{3,254})"')
_XML_PART = re.compile(r'\sNoIdentificacion="([^"]{2,100})"')
_XML_AMOUNT = re.compile(r'\s(?:Total|SubTotal|TotalUSD|ValorDolares|Importe)="(\d{1,18}(?:\.\d{1,6})?)"')
_NAME_FIELD = re.compile(r"[A-ZÁÉÍÓÚÑÜ&][A-ZÁÉÍÓÚÑÜ&.,' ]{2,}[A-ZÁÉÍÓÚÑÜ.]")
_PART_FIELD = re.compile(r"(?=[A-Z0-9\-_./]*[A-Z])(?=[A-Z0-9\-_./]*\d)[A-Z0-9][A-Z0-9\-_./]{3,39}")
_AMOUNT_FIELD = re.compile(r"\d{1,15}\.\d{2,6}")
_READ_LIMIT = 4 * 1024 * 1024
_MAX_KEYS = 300


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
    for key in pedimento_keys(head):
        found[key] = None
    for key in _words_of(head):
        found[key] = None
    return list(found)[:_MAX_KEYS]


def pedimento_keys(data: bytes, this_year: int | None = None) -> list[str]:
    """For each ``patente|pedimento|sección`` in pipe records: the 15-digit number, patente + number, the number."""
    if b"|" not in data:
        return []
    if this_year is None:
        from datetime import date

        this_year = date.today().year
    years = [int(m.group(1)) for m in _YEAR.finditer(data[:65536])]
    keys: dict[str, None] = {}
    for match in _FIELDS.finditer(data):
        patente, number, seccion = (g.decode() for g in match.groups())
        digit = int(number[0])
        year = next((y for y in years if y % 10 == digit), None)
        if year is None:
            year = this_year + 1 - ((this_year + 1 - digit) % 10)  # the latest year ending in that digit
        keys[f"{year % 100:02d}{seccion[:2]}{patente}{number}"] = None
        keys[f"{patente}{number}"] = None
        keys[number] = None
    return list(keys)


def amount_key(text: str) -> str | None:
    """``"1500.000"`` → ``"1500.00"``, ``"17.12340"`` → ``"17.1234"``: at least two decimals, no trailing zeros."""
    whole, dot, fraction = text.replace(",", "").partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        return None
    fraction = fraction.rstrip("0").ljust(2, "0")
    return f"{int(whole)}.{fraction}"


def _words_of(head: bytes) -> list[str]:
    """Company names (whole and by word), part numbers and amounts: from the attributes of an XML document,
    from the fields of pipe records (M file, Data Stage)."""
    text = head.decode("utf-8", "replace")
    keys: dict[str, None] = {}
    if text.lstrip("\ufeff \r\n\t").startswith("<"):
        names = [m.group(1) for m in _XML_NAME.finditer(text)]
        parts = [m.group(1) for m in _XML_PART.finditer(text)]
        amounts = [m.group(1) for m in _XML_AMOUNT.finditer(text)]
    elif "|" in text:
        fields = [f.strip() for f in text.replace("\n", "|").split("|")]
        names = [f for f in fields if " " in f and _NAME_FIELD.fullmatch(f.upper())]
        parts = [f for f in fields if _PART_FIELD.fullmatch(f)]
        amounts = [f for f in fields if _AMOUNT_FIELD.fullmatch(f)]
    else:
        return []
    for name in names:
        name = " ".join(name.upper().split())
        keys[name] = None
        for word in name.replace(",", " ").replace(".", " ").split():
            if len(word) >= 3:
                keys[word] = None
    for part in parts:
        keys[part.strip().upper()] = None
    for amount in amounts:
        if (key := amount_key(amount)) is not None:
            keys[key] = None
    return list(keys)


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
