"""Persistence: documents, findings, audit trail and outbox behind one small interface."""

from __future__ import annotations

from gateway.store.base import Document, Store, now
from gateway.store.sqlite import SqliteStore


def open_store(url: str) -> SqliteStore:
    if url.startswith("sqlite:///"):
        return SqliteStore.from_url(url)
    raise ValueError(f"store.url: '{url}' is not supported yet (sqlite:///PATH is)")


__all__ = ["Document", "Store", "SqliteStore", "open_store", "now"]
