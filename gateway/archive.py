"""Content-addressed archive: the bytes of every file received, unchanged, under their SHA-256.

Writing streams in chunks (memory stays flat for big files), fsyncs the file and its
directory, and renames into place, so an archived file is either complete or absent.

With several nodes on a PostgreSQL store the originals are also kept in the store (``shared``,
``gateway/store/originals.py``) before ``put_*`` returns, so before any document row names them; a node
that lacks a file in its own folder fetches it from there on first use.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

_CHUNK = 1024 * 1024


class Originals(Protocol):
    """Where every node of a shared store finds the originals any node took."""

    def has(self, sha256: str) -> bool: ...
    def upload(self, sha256: str, size: int, path: Path) -> None: ...
    def download(self, sha256: str, target: Path) -> bool: ...
    def close(self) -> None: ...


class Archive:
    def __init__(self, root: Path, shared: Originals | None = None) -> None:
        self.root = root
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)  # customs documents: the owner's alone
        self.shared = shared
        self._unsynced: set[Path] | None = None  # inside batch(): the folders to fsync at its end

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Files written inside are fsynced one by one as always; the folders they went into are fsynced once,
        at the end, before the caller commits any row naming them (intake's group commit)."""
        if self._unsynced is not None:
            yield
            return
        self._unsynced = set()
        try:
            yield
        finally:
            folders, self._unsynced = self._unsynced, None
        for folder in sorted(folders):
            fsync_dir(folder)

    def path_for(self, sha256: str) -> Path:
        """The file in this node's folder, fetched from the shared originals first if another node took it."""
        path = self._local(sha256)
        if self.shared is not None and not path.is_file():
            self.shared.download(sha256, path)
        return path

    def _local(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put_stream(self, stream: IO[bytes]) -> tuple[str, int]:
        """Copy a stream into the archive; return (sha256, size)."""
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                while chunk := stream.read(_CHUNK):
                    digest.update(chunk)
                    tmp.write(chunk)
                    size += len(chunk)
                tmp.flush()
                os.fsync(tmp.fileno())
            sha256 = digest.hexdigest()
            target = self._local(sha256)
            if target.exists() and target.stat().st_size == size:
                os.unlink(tmp_name)
            else:
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.replace(tmp_name, target)
                if self._unsynced is not None:
                    self._unsynced.add(target.parent)
                else:
                    fsync_dir(target.parent)
            if self.shared is not None:
                self.shared.upload(sha256, size, target)  # every node can read it before a row names it
            return sha256, size
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def put_file(self, path: Path) -> tuple[str, int]:
        with open(path, "rb") as stream:
            return self.put_stream(stream)

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        import io

        return self.put_stream(io.BytesIO(data))

    def read(self, sha256: str) -> bytes:
        return self.path_for(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self._local(sha256).is_file() or (self.shared is not None and self.shared.has(sha256))

    def close(self) -> None:
        if self.shared is not None:
            self.shared.close()


def fsync_dir(directory: Path) -> None:
    """Make the names created or renamed in ``directory`` durable (a file's own fsync does not cover them)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
