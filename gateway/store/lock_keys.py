"""The names of a keyed transaction's keys (``transaction(keys=…)``), one spelling for every writer that
takes them: two writers exclude each other only if they spell a key the same way."""

from __future__ import annotations


def document(document_id: str) -> str:
    return f"doc:{document_id}"


def business(key: str) -> str:
    """A business key (a pedimento, a UUID) or a container's id: resends, links and a group's delivery order."""
    return f"key:{key}"


def correlation(key: tuple[str, str]) -> str:
    return f"ck:{key[0]}:{key[1]}"
