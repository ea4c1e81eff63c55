"""SFTP source: takes a broker's files from a remote drop only when complete, and never twice.

A remote file is complete when its done-marker exists (``X.done`` / ``X.ok``, if configured)
or when its size and mtime are the same in listings at least ``stable_time`` apart. Temp
names (``*.tmp``, ``*.part``), dot-files, symlinks and non-regular files are ignored.
``open`` downloads to a staging file under ``data_dir/staging`` (bounded memory, byte
count verified by ``unchanged``); only after the pipeline has archived the bytes and
committed the row does ``acknowledge`` move the remote file to ``processed_path`` (created
if missing, never overwriting), rename it with ``rename_suffix``, or delete it.

The server is contacted at most every ``poll_interval`` (sooner only to confirm that a
file seen changing has become stable). A failing server is left alone for an exponential,
jittered backoff (``Session.call``), so an outage costs the other sources one round of
timeouts per backoff, and otherwise a quick raised error per loop (which the runner turns
into "unhealthy"), never a timeout per file.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import posixpath
import re
import stat
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Callable

import paramiko

from adapters.sftp_endpoint import endpoint_from_options
from adapters.sftp_options import source_options
from adapters.sftp_session import RemotePathError, Session, exists, makedirs, upload
from adapters.sources.folder import printable_name
from gateway import logs
from gateway.config import SourceConfig
from gateway.ports import ConfigContext, IncomingFile, SourceBase

log = logs.get("adapters.sources.sftp")

_TEMP_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart")
#: bytes requested per read-ahead window (128 pipelined requests of 32 KiB, sent at once so paramiko's
#: request thread is short-lived): memory stays at a few windows whatever the file size (when our thread is
#: starved of CPU, paramiko can hold a window's answers both in its channel buffer and its read-ahead).
#: 2 MiB windows ran large files at 40 MB/s on loopback against 65 MB/s for these.
WINDOW = 4 * 1024 * 1024


class SftpSource(SourceBase):
    TYPE = "sftp"

    @classmethod
    def check_options(cls, options: dict[str, Any], where: str, context: ConfigContext) -> dict[str, Any]:
        source_options(options, where, context.base_dir)
        options["staging_dir"] = context.staging_dir  # downloads wait here before they are archived
        return options

    def __init__(self, config: SourceConfig, clock: Callable[[], float] = time.monotonic) -> None:
        options = config.options
        self.name = config.name
        self.kind = config.kind
        self.endpoint = endpoint_from_options(options, f"source '{self.name}'")
        self.session = Session(self.endpoint)
        self.roots: list[str] = list(options["remote_path"])
        self.recursive: bool = options.get("recursive", False)
        self.include: list[str] = options.get("include", [])
        self.exclude: list[str] = options.get("exclude", [])
        self.done_markers: list[str] = options.get("done_marker", [])
        self.stable_time: float = options.get("stable_time", 5.0)
        self.poll_interval: float = options.get("poll_interval", 30.0)
        self.after_pickup: str = options.get("after_pickup", "move")
        self.processed_path: str = options.get("processed_path", "processed")
        self.rename_suffix: str = options.get("rename_suffix", ".processed")
        self.reply_path: str | None = options.get("reply_path")
        self.staging = Path(options.get("staging_dir") or tempfile.gettempdir()) / _safe_dirname(self.name)
        #: called with (remote path, bytes so far) after every window downloaded
        self.progress: Callable[[str, int], None] | None = None
        self._clock = clock
        #: remote path → (size, mtime, first seen with these, handed out as ready)
        self._seen: dict[str, tuple[int, int, float, bool]] = {}
        self._staged: dict[str, int] = {}
        self._folders_made: set[str] = set()
        self._last_listing = float("-inf")
        self._clean_staging()

    # -- the Source interface ---------------------------------------------------------------------------
    def poll(self) -> list[IncomingFile]:
        now = self._clock()
        if not self.session.failing and not self._due(now):
            return []  # a failing server is asked again (the session says when), so health stays failed
        listing = self.session.call(f"listing of {', '.join(self.roots)}", self._list)
        self._last_listing = now
        return self._ready(listing, now)

    def pending(self) -> int:
        """Files seen but not yet stable."""
        return sum(1 for entry in self._seen.values() if not entry[3])

    def open(self, item: IncomingFile) -> BinaryIO:
        remote = str(item.path)
        self.staging.mkdir(parents=True, exist_ok=True)
        staged, count = self.session.call(f"download of {remote}", lambda sftp: self._download(sftp, remote, item.size))
        self._staged[remote] = count
        handle = open(staged, "rb")  # noqa: SIM115 - returned to the caller, who closes it
        os.unlink(staged)  # the open handle keeps the bytes; nothing is left behind whatever happens next
        return handle

    def unchanged(self, item: IncomingFile) -> bool:
        remote = str(item.path)
        count = self._staged.pop(remote, None)
        try:
            attrs = self.session.call(f"stat of {remote}", lambda sftp: sftp.lstat(remote))
        except FileNotFoundError:
            return False
        now_there = (attrs.st_size, int(attrs.st_mtime or 0) * 10**9)
        if count != item.size:
            log.warning("downloaded byte count differs from the listed size; will retry when stable",
                        source=self.name, file=item.name, listed=item.size, downloaded=count)
            return False
        return now_there == (item.size, item.mtime_ns)

    def acknowledge(self, item: IncomingFile) -> None:
        remote = str(item.path)
        marker = str(item.marker) if item.marker is not None else None
        self.session.call(f"post-pickup {self.after_pickup} of {remote}",
                          lambda sftp: self._acknowledge(sftp, remote, marker))
        self._seen.pop(remote, None)
        log.info("remote file released", source=self.name, file=item.name, action=self.after_pickup)

    def reply_location(self) -> str | None:
        return f"sftp://{self.endpoint.host}{self.reply_path}" if self.reply_path else None

    def reply(self, name: str, data: bytes) -> None:
        """Uploaded under a dot-named temp name and renamed: the broker's system never reads half an answer."""
        if self.reply_path is None:
            return super().reply(name, data)
        target = posixpath.join(self.reply_path, name)
        self.session.call(f"upload of answer {target}", lambda sftp: upload(sftp, target, data))

    def close(self) -> None:
        self.session.close()

    # -- listing ----------------------------------------------------------------------------------------
    def _due(self, now: float) -> bool:
        if now - self._last_listing >= self.poll_interval:
            return True
        return any(not ready and now - first >= self.stable_time for _, _, first, ready in self._seen.values())

    def _list(self, sftp: paramiko.SFTPClient) -> list[tuple[str, str, int, int, str | None]]:
        """(remote path, display name, size, mtime, marker path) of every wanted regular file, oldest first."""
        found: list[tuple[int, str, str, str, int, str | None]] = []
        for root in self.roots:
            processed = self._processed_dir(root)
            stack = [root]
            while stack:
                directory = stack.pop()
                try:
                    entries = sftp.listdir_attr(directory)
                except FileNotFoundError:
                    if directory == root:
                        raise RemotePathError(f"remote_path {root} does not exist on {self.endpoint.host}") \
                            from None
                    continue  # removed between listings
                except PermissionError:
                    if directory == root:
                        raise RemotePathError(f"permission denied listing remote_path {root} on "
                                              f"{self.endpoint.host} as {self.endpoint.username}") from None
                    log.warning("sftp sub-folder not readable, skipped", source=self.name, folder=directory)
                    continue
                names = {entry.filename for entry in entries}
                for entry in entries:
                    name = entry.filename
                    path = posixpath.join(directory, name)
                    mode = entry.st_mode or 0
                    if stat.S_ISDIR(mode):
                        if self.recursive and not name.startswith(".") and path not in (processed, self.reply_path):
                            stack.append(path)
                        continue
                    if not stat.S_ISREG(mode) or not self._wanted(name):
                        continue
                    marker = next((path + m for m in self.done_markers if name + m in names), None)
                    mtime = int(entry.st_mtime or 0)
                    found.append((mtime, path, self._display(root, path), path, entry.st_size or 0, marker))
        found.sort(key=lambda f: (f[0], f[1]))  # oldest first: of two identical files the first is the original
        return [(path, display, size, mtime, marker) for mtime, _, display, path, size, marker in found]

    def _ready(self, listing: list[tuple[str, str, int, int, str | None]], now: float) -> list[IncomingFile]:
        ready: list[IncomingFile] = []
        present: set[str] = set()
        for path, display, size, mtime, marker in listing:
            present.add(path)
            item = IncomingFile(self.name, printable_name(display), PurePosixPath(path), size, mtime * 10**9,
                                PurePosixPath(marker) if marker else None)  # type: ignore[arg-type]
            if self.done_markers:
                if marker is not None:
                    ready.append(item)
                continue
            previous = self._seen.get(path)
            if previous and previous[:2] == (size, mtime):
                if now - previous[2] >= self.stable_time:
                    self._seen[path] = (size, mtime, previous[2], True)
                    ready.append(item)
            else:
                self._seen[path] = (size, mtime, now, False)
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return ready

    def _wanted(self, name: str) -> bool:
        lowered = name.lower()
        if name.startswith(".") or lowered.endswith(_TEMP_SUFFIXES):
            return False
        if any(lowered.endswith(marker.lower()) for marker in self.done_markers):
            return False
        if self.after_pickup == "rename" and lowered.endswith(self.rename_suffix.lower()):
            return False
        if self.include and not any(fnmatch.fnmatch(name, pattern) for pattern in self.include):
            return False
        return not any(fnmatch.fnmatch(name, pattern) for pattern in self.exclude)

    def _display(self, root: str, path: str) -> str:
        """The name users see: relative to the watched folder (or the whole path when there are several)."""
        return posixpath.relpath(path, root) if len(self.roots) == 1 else path

    def _processed_dir(self, root: str) -> str:
        return posixpath.normpath(posixpath.join(root, self.processed_path))

    def _root_of(self, remote: str) -> str:
        return max((r for r in self.roots if remote.startswith(r.rstrip("/") + "/")), key=len, default=self.roots[0])

    # -- transfer and release ---------------------------------------------------------------------------
    def _download(self, sftp: paramiko.SFTPClient, remote: str, size: int) -> tuple[str, int]:
        """Copy the listed ``size`` bytes of the remote file to a fresh staging file; return (its path, bytes
        copied). Fewer bytes mean the file shrank; more would have changed its size: ``unchanged`` sees both."""
        fd, staged = tempfile.mkstemp(dir=self.staging, prefix=".download-")
        try:
            with os.fdopen(fd, "wb") as out, sftp.open(remote, "rb") as remote_file:
                offset = 0
                while offset < size:
                    channel = sftp.get_channel()
                    if channel is None or channel.closed or not channel.get_transport().is_active():
                        raise ConnectionError(f"connection dropped after {offset} of {size} bytes")
                    length = min(WINDOW, size - offset)
                    got = 0
                    piece = remote_file.MAX_REQUEST_SIZE
                    blocks: Iterable[bytes]
                    if length <= piece:  # one request; no read-ahead thread needed
                        blocks = [remote_file.read(length)]
                    else:  # request-sized pieces: paramiko joins a bigger read by repeated bytes concatenation
                        blocks = remote_file.readv([(start, min(piece, offset + length - start))
                                                    for start in range(offset, offset + length, piece)])
                    for block in blocks:
                        out.write(block)
                        got += len(block)
                    _drop_stale_read_ahead(remote_file)
                    offset += got
                    if got < length:
                        # the file shrank under us (unchanged() will say so), or the transfer was cut: a
                        # dying session can answer end-of-file before paramiko sees the connection drop.
                        # The file's size now tells which; a lost connection fails this stat and is retried.
                        try:
                            now = sftp.stat(remote).st_size
                        except FileNotFoundError:
                            now = None  # removed meanwhile: unchanged() will say so
                        if now is not None and now > offset:
                            raise ConnectionError(f"transfer cut after {offset} of {size} bytes; the file has {now}")
                        break
                    if self.progress is not None:
                        self.progress(remote, offset)
            return staged, offset
        except BaseException:
            os.unlink(staged)
            raise

    def _acknowledge(self, sftp: paramiko.SFTPClient, remote: str, marker: str | None) -> None:
        try:
            if self.after_pickup == "delete":
                sftp.remove(remote)
            elif self.after_pickup == "rename":
                sftp.rename(remote, _free_name(sftp, remote + self.rename_suffix))
            else:
                root = self._root_of(remote)
                target = posixpath.join(self._processed_dir(root), posixpath.relpath(remote, root))
                folder = posixpath.dirname(target)
                if folder not in self._folders_made:  # one check per folder, not one per file
                    makedirs(sftp, folder)
                    self._folders_made.add(folder)
                sftp.rename(remote, _free_name(sftp, target))
        except FileNotFoundError:
            if exists(sftp, remote):  # the processed folder was removed meanwhile: make it again next time
                self._folders_made.clear()
                raise
            # else: already released by an earlier, interrupted run
        if marker is not None:
            try:
                sftp.remove(marker)
            except FileNotFoundError:
                pass

    def _clean_staging(self) -> None:
        """Downloads interrupted by a crash are useless (the file is taken again from the server)."""
        try:
            leftovers = list(self.staging.glob(".download-*"))
        except OSError:
            return
        for path in leftovers:
            try:
                path.unlink()
            except OSError:
                pass


def _drop_stale_read_ahead(remote_file: paramiko.SFTPFile) -> None:
    """Forget the read-ahead answers paramiko keeps after a window has been read.

    paramiko decides its read-ahead is done when every request sent so far has its answer. When its request
    thread is starved of CPU, that happens before the thread has sent them all: the rest of the window is then
    read again request by request, and the answers to the late requests stay in the file's buffer until the
    file is closed (paramiko PR #2519, open). On a loaded machine a 64 MiB file held 36 MiB that way. Once a
    window is read nothing in the buffer is needed, so memory stays at a few windows. ``_prefetch_data`` is
    paramiko's own dictionary; if a release renames it, this does nothing and the test on memory says so.
    """
    stale = getattr(remote_file, "_prefetch_data", None)
    if stale:
        stale.clear()


def _free_name(sftp: paramiko.SFTPClient, target: str) -> str:
    """``target``, or with a time stamp and counter appended if taken: a processed file is never overwritten."""
    if not exists(sftp, target):
        return target
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for counter in range(1, 10_000):
        candidate = f"{target}.{stamp}-{counter}"
        if not exists(sftp, candidate):
            return candidate
    raise FileExistsError(target)


def _safe_dirname(name: str) -> str:
    """A source name as one harmless folder name (names are free text in the configuration)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name).strip(".") or "source"
    return f"{cleaned[:40]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
