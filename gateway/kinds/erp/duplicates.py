"""Repeated keys in a material master or a BOM (``[key]`` in the mapping): ERP-DUPLICATE.

An export is split into chunks that are archived as they are read, so a row cannot be taken back once a later
row repeats its key. The export is therefore read twice when the mapping declares a key: a first pass reads
only the key fields (converted, so that ``000123`` and ``123`` after ``strip_zeros`` are the same part) and a
digest of every mapped value, into a temporary SQLite file — memory stays flat however long the export — and
returns the verdict for the few rows that share a key; the second pass maps the rows and attaches it:

- same key, other values: an error on every row that has the key (which one is right is the ERP's call);
- same key, same values: a warning on each repeat (``repeat = "error"`` in the mapping to reject it), since a
  BOM line listed twice would be consumed twice.

For ``erp.materials`` each clean row is also compared with the stored material master: a part whose type,
fracción, NICO or UMT differs is a reclassification, a warning by default (``master = "error"`` or
``"ignore"``); an unchanged part is not reported, as a full master is re-exported every day.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from gateway.findings import Finding, error, warning
from gateway.kinds.erp.mapping import Mapping

_BATCH = 1000
_SHOWN = 10  # other rows named in one finding
#: the master's columns compared with a new master row (erp_materials, migration 0005)
MASTER_FIELDS = ("material_type", "fraccion", "nico", "umt")


@dataclass(frozen=True, slots=True)
class Mark:
    """What a row's key says about it: an error or a warning, and why."""

    severity: str
    message: str


def scan(mapping: Mapping, keys: Iterator[tuple[int, str, int]]) -> dict[int, Mark]:
    """Pass one: ``keys`` yields (row, key text, digest of the values); the marks of the rows that share a key."""
    assert mapping.key is not None
    db = sqlite3.connect("")  # a private temporary file, removed when closed
    try:
        db.execute("PRAGMA cache_size = -1024")  # 1 MB: the index spills to a temporary file, memory stays flat
        db.execute("CREATE TABLE keys (k TEXT NOT NULL, r INTEGER NOT NULL, v INTEGER NOT NULL)")
        batch: list[tuple[str, int, int]] = []
        for row, text, digest in keys:
            batch.append((text, row, digest))
            if len(batch) >= _BATCH:
                db.executemany("INSERT INTO keys VALUES (?, ?, ?)", batch)
                batch.clear()
        db.executemany("INSERT INTO keys VALUES (?, ?, ?)", batch)
        db.execute("CREATE INDEX keys_k ON keys (k, r)")
        groups = db.execute("SELECT k, r, v FROM keys WHERE k IN (SELECT k FROM keys GROUP BY k HAVING COUNT(*) > 1) "
                            "ORDER BY k, r")
        marks: dict[int, Mark] = {}
        current: list[tuple[int, int]] = []
        key = None
        for k, r, v in groups:
            if k != key and current:
                _judge(mapping, key, current, marks)
                current = []
            key = k
            current.append((r, v))
        if current:
            _judge(mapping, key, current, marks)
        return marks
    finally:
        db.close()


def _judge(mapping: Mapping, key: str | None, rows: list[tuple[int, int]], marks: dict[int, Mark]) -> None:
    assert mapping.key is not None and key is not None
    shown = " / ".join(key.split("\x1f"))
    names = " + ".join(mapping.key.fields)
    numbers = [r for r, _ in rows]
    if len({v for _, v in rows}) > 1:
        for r in numbers:
            others = [n for n in numbers if n != r]
            listed = ", ".join(map(str, others[:_SHOWN])) + (f" y {len(others) - _SHOWN} más" if len(others) > _SHOWN
                                                             else "")
            marks[r] = Mark("error", f"La clave {names} '{shown}' se repite con otros valores en la(s) fila(s) "
                                     f"{listed}: corrija el ERP para que cada clave aparezca una sola vez.")
        return
    first = numbers[0]
    for r in numbers[1:]:
        marks[r] = Mark(mapping.key.repeat, f"La fila repite exactamente la fila {first} (clave {names} '{shown}'); "
                                            "si es intencional, incluya en la clave el campo que las distingue "
                                            "(p. ej. la posición de la lista de materiales).")


def mark_finding(mark: Mark, location: dict[str, Any]) -> Finding:
    return (error if mark.severity == "error" else warning)("ERP-DUPLICATE", mark.message, **location)


def master_check(mapping: Mapping, store: Any) -> Callable[[list[dict[str, Any]]], dict[int, Mark]] | None:
    """For erp.materials with a store: the marks of a batch of clean rows whose part the master knows otherwise."""
    key = mapping.key
    if mapping.target != "erp.materials" or store is None or key is None or key.master == "ignore":
        return None
    severity = key.master

    def check(records: list[dict[str, Any]]) -> dict[int, Mark]:
        known = store.materials({r["part_number"] for r in records})
        marks = {}
        for record in records:
            stored = known.get(record["part_number"])
            if stored is None:
                continue
            changed = [f"{name} {old or '(vacío)'} → {record[name] or '(vacío)'}"
                       for name, old in zip(MASTER_FIELDS, stored[:4], strict=True) if old != record[name]]
            if changed:
                marks[record["row"]] = Mark(severity, f"El número de parte '{record['part_number']}' ya está en el "
                                                      f"maestro de materiales (documento {stored[4]}) con otros datos: "
                                                      f"{'; '.join(changed)}.")
        return marks

    return check
