"""Persistence: documents, findings, audit trail and outbox behind one small interface."""

from __future__ import annotations

from gateway.store.base import Document, now
from gateway.store.interface import Store
from gateway.store.sqlite import SqliteStore


def open_store(url: str) -> Store:
    """The one place an implementation is chosen; everything else names only ``Store``."""
    if url.startswith("sqlite:///"):
        return SqliteStore.from_url(url)
    raise ValueError(f"store.url: '{url}' is not supported yet (sqlite:///PATH is)")


__all__ = ["Document", "Store", "open_store", "now"]
