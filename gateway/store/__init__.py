"""Persistence: documents, findings, audit trail and outbox behind one small interface."""

from __future__ import annotations

from gateway.archive import Originals
from gateway.store.base import Document, now
from gateway.store.interface import Store
from gateway.store.sqlite import SqliteStore


def open_store(url: str) -> Store:
    """The one place an implementation is chosen; ConfigError for a kind of store this version lacks,
    ResourceError (naming it) for a store that cannot be opened. Everything else names only ``Store``."""
    import sqlite3

    from gateway.errors import ConfigError, ResourceError

    if url.startswith("sqlite:///"):
        try:
            return SqliteStore.from_url(url)
        except sqlite3.Error as exc:  # a folder in its place, no permission, not a database, disk full…
            raise ResourceError(f"store {url[len('sqlite:///'):]}", str(exc)) from None
    if url.startswith(("postgresql://", "postgres://")):
        from gateway.store.postgres import PostgresStore  # psycopg loads only where it is used

        return PostgresStore.from_url(url)
    scheme = url.split("://", 1)[0]
    raise ConfigError(f"store.url: `{scheme}://` stores are not available in this version (sqlite:///PATH and "
                      "postgresql://… are)")


def open_originals(url: str) -> Originals:
    """The originals kept in a PostgreSQL store (``gateway/store/originals.py``), for ``[store] originals``."""
    from gateway.store.originals import DatabaseOriginals

    return DatabaseOriginals(url)


__all__ = ["Document", "Store", "open_originals", "open_store", "now"]
