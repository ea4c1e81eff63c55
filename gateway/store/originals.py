"""The originals in a PostgreSQL store, so that every node reads the bytes any node took (migration 0031).

``gateway.archive.Archive`` keeps each file in this node's folder first (fsynced, as on one node) and then here,
before its document row is committed: a node that dies after taking a file leaves its bytes where the others
read them. A file goes in 1 MiB chunks inside one transaction, and its ``originals`` row is written last, so
it is complete or absent; it comes back out through a server-side cursor, one chunk at a time, so a 300 MB
Data Stage never sits in memory. Content-addressed: the same bytes uploaded by two nodes at once are kept once
(the second waits on the first's keys, then finds them). Its own connection, without the store's write lock:
uploading a large file never holds up another node's state changes.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import psycopg

from gateway.errors import StoreUnavailable
from gateway.store.base import now

CHUNK = 1024 * 1024


class DatabaseOriginals:
    """``gateway.archive.Originals`` over PostgreSQL; connects on first use (one connection per archive)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._db: psycopg.Connection | None = None

    def _connection(self) -> psycopg.Connection:
        if self._db is None or self._db.broken or self._db.closed:
            try:
                self._db = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
            except psycopg.OperationalError as exc:
                raise _unavailable(self.url, exc) from None
        return self._db

    def has(self, sha256: str) -> bool:
        try:
            row = self._connection().execute("SELECT 1 FROM originals WHERE sha256 = %s", (sha256,)).fetchone()
        except psycopg.OperationalError as exc:
            raise _unavailable(self.url, exc) from None
        return row is not None

    def upload(self, sha256: str, size: int, path: Path) -> None:
        """Store the archived file ``path`` under ``sha256`` unless it is there already; durable on return."""
        if self.has(sha256):
            return
        db = self._connection()
        try:
            with db.transaction(), path.open("rb") as stream:
                seq = 0
                while chunk := stream.read(CHUNK):
                    db.execute("INSERT INTO original_chunks (sha256, seq, data) VALUES (%s, %s, %s) "
                               "ON CONFLICT DO NOTHING", (sha256, seq, chunk))
                    seq += 1
                db.execute("INSERT INTO originals (sha256, size, chunks, stored_at) VALUES (%s, %s, %s, %s) "
                           "ON CONFLICT DO NOTHING", (sha256, size, seq, now()))
        except psycopg.OperationalError as exc:
            raise _unavailable(self.url, exc) from None

    def download(self, sha256: str, target: Path) -> bool:
        """Write the stored bytes to ``target`` (complete or not at all); False when the store lacks them."""
        if not self.has(sha256):
            return False
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".fetching-")
        db = self._connection()
        try:
            with os.fdopen(fd, "wb") as tmp, db.transaction():
                with db.cursor(name=f"original_{sha256[:16]}") as cursor:  # server-side: one chunk at a time
                    cursor.itersize = 1
                    cursor.execute("SELECT data FROM original_chunks WHERE sha256 = %s ORDER BY seq", (sha256,))
                    for (data,) in cursor:
                        tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.replace(tmp_name, target)
            return True
        except psycopg.OperationalError as exc:
            raise _unavailable(self.url, exc) from None
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


def _unavailable(url: str, exc: BaseException) -> StoreUnavailable:
    from gateway.store.postgres import _first_line, _server

    return StoreUnavailable(f"store PostgreSQL {_server(url)}", _first_line(exc))
