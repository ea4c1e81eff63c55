"""Persistence: documents, findings, audit trail and outbox behind one small interface."""

from __future__ import annotations

from gateway.store.base import Document, now
from gateway.store.interface import Store
from gateway.store.sqlite import SqliteStore


def open_store(url: str) -> Store:
    """The one place an implementation is chosen; everything else names only ``Store``."""
    if url.startswith("sqlite:///"):
        return SqliteStore.from_url(url)
    if url.startswith(("postgresql://", "postgres://")):
        from gateway.store.postgres import PostgresStore  # psycopg loads only where it is used

        return PostgresStore.from_url(url)
    raise ValueError(f"store.url: '{url}' must start with sqlite:/// or postgresql://")


__all__ = ["Document", "Store", "open_store", "now"]
