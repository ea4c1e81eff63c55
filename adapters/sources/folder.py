"""Local folder source: takes a file only when it is complete, and never twice.

A file is complete when its done-marker exists (if configured) or when its size and
mtime have stayed the same for ``stable_time``. Temp names (``*.tmp``, ``*.part``),
dot-files, symlinks and anything that is not a regular file are ignored. After the
pipeline has archived the bytes and committed the document row, the file is moved
to ``processed_path`` (never overwriting) or deleted.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import stat
import time
from pathlib import Path
from typing import Any, BinaryIO, Callable

from gateway.config import SourceConfig, _only, _path, _required_str, parse_duration
from gateway.ports import ConfigContext, ConfigError, IncomingFile, SourceBase, SourceError, WatchedFolder

_TEMP_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".filepart")


def printable_name(name: str) -> str:
    """File names may hold bytes that are not UTF-8; keep them readable (and storable) anyway."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class FolderSource(SourceBase):
    TYPE = "folder"
    KEYS = {"path", "processed_path", "after_pickup", "stable_time", "include", "exclude", "done_marker", "recursive",
            "reply_path"}

    @classmethod
    def check_options(cls, options: dict[str, Any], where: str, context: ConfigContext) -> dict[str, Any]:
        _only(options, where, cls.KEYS)
        options["path"] = _path(context.base_dir, _required_str(options, "path", where))
        for key in ("processed_path", "reply_path"):
            if options.get(key):
                options[key] = _path(context.base_dir, options[key])
        if options.get("reply_path") and Path(options["reply_path"]).resolve() == Path(options["path"]).resolve():
            raise ConfigError(f"{where}.reply_path: must not be the inbox itself (answers would be taken as files)")
        options["stable_time"] = parse_duration(options.get("stable_time", "2s"), f"{where}.stable_time")
        after = options.setdefault("after_pickup", "move")
        if after not in {"move", "delete"}:
            raise ConfigError(f"{where}.after_pickup: '{after}' must be move or delete")
        for key in ("include", "exclude"):
            value = options.get(key, [])
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}.{key}: must be a list of glob patterns")
            options[key] = value
        return options

    def __init__(self, config: SourceConfig, clock: Callable[[], float] = time.monotonic) -> None:
        options = config.options
        self.name = config.name
        self.kind = config.kind
        self.path: Path = options["path"]
        self.processed_path: Path = options.get("processed_path") or self.path / "processed"
        self.after_pickup: str = options.get("after_pickup", "move")
        self.stable_time: float = options.get("stable_time", 2.0)
        self.include: list[str] = options.get("include", [])
        self.exclude: list[str] = options.get("exclude", [])
        self.done_marker: str | None = options.get("done_marker")
        self.recursive: bool = bool(options.get("recursive", False))
        self.reply_path: Path | None = options.get("reply_path")
        self._clock = clock
        self._seen: dict[Path, tuple[int, int, float]] = {}
        self.path.mkdir(parents=True, exist_ok=True)

    def poll(self) -> list[IncomingFile]:
        now = self._clock()
        ready: list[IncomingFile] = []
        present: set[Path] = set()
        for path, relative, st in self._candidates():
            present.add(path)
            marker = self._marker_for(path)
            item = IncomingFile(self.name, printable_name(relative), path, st.st_size, st.st_mtime_ns, marker)
            if self.done_marker:
                if marker is not None:
                    ready.append(item)
                continue
            previous = self._seen.get(path)
            if previous and previous[:2] == (st.st_size, st.st_mtime_ns):
                if now - previous[2] >= self.stable_time:
                    ready.append(item)
            else:
                self._seen[path] = (st.st_size, st.st_mtime_ns, now)
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return ready

    def pending(self) -> int:
        """Files seen but not yet stable."""
        return len(self._seen)

    def watched_folder(self) -> WatchedFolder | None:
        return WatchedFolder(self.path, self.recursive)

    def reply_location(self) -> str | None:
        return str(self.reply_path) if self.reply_path else None

    def reply(self, name: str, data: bytes) -> None:
        """Temp name, fsync, rename: the sender never sees half an answer."""
        if self.reply_path is None:
            return super().reply(name, data)
        try:
            self.reply_path.mkdir(parents=True, exist_ok=True)
            temporary = self.reply_path / f".{name}.tmp"
            with open(temporary, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.reply_path / name)
        except OSError as exc:
            raise SourceError(f"answer {name} could not be written in {self.reply_path}: "
                              f"{exc.strerror or exc}") from None

    def open(self, item: IncomingFile) -> BinaryIO:
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
        return os.fdopen(os.open(item.path, flags), "rb")

    def unchanged(self, item: IncomingFile) -> bool:
        try:
            st = os.lstat(item.path)
        except FileNotFoundError:
            return False
        return (st.st_size, st.st_mtime_ns) == (item.size, item.mtime_ns)

    def acknowledge(self, item: IncomingFile) -> None:
        path = Path(item.path)  # this source's own items carry local paths
        if self.after_pickup == "delete":
            _unlink_quietly(path)
        else:
            relative = item.path.relative_to(self.path)
            target = self.processed_path / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target = _free_name(target)
            try:
                os.rename(item.path, target)
            except FileNotFoundError:
                pass  # already acknowledged by an earlier, interrupted run
            except OSError:
                shutil.move(str(item.path), str(target))
        if item.marker is not None:
            _unlink_quietly(item.marker)
        self._seen.pop(path, None)

    def _candidates(self):  # noqa: ANN202 - generator of (path, relative name, stat)
        stack = [self.path]
        processed = self.processed_path.resolve() if self.processed_path.exists() else None
        answers = self.reply_path.resolve() if self.reply_path and self.reply_path.exists() else None
        while stack:
            directory = stack.pop()
            try:
                entries = sorted(os.scandir(directory), key=_arrival_order)
            except FileNotFoundError:
                continue
            for entry in entries:
                path = Path(entry.path)
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    if self.recursive and not entry.name.startswith(".") and path.resolve() not in (processed, answers):
                        stack.append(path)
                    continue
                if not stat.S_ISREG(st.st_mode) or not self._wanted(entry.name):
                    continue
                yield path, str(path.relative_to(self.path)), st

    def _wanted(self, name: str) -> bool:
        lowered = name.lower()
        if name.startswith(".") or lowered.endswith(_TEMP_SUFFIXES):
            return False
        if self.done_marker and lowered.endswith(self.done_marker.lower()):
            return False
        if self.include and not any(fnmatch.fnmatch(name, pattern) for pattern in self.include):
            return False
        return not any(fnmatch.fnmatch(name, pattern) for pattern in self.exclude)

    def _marker_for(self, path: Path) -> Path | None:
        if not self.done_marker:
            return None
        marker = path.with_name(path.name + self.done_marker)
        return marker if marker.is_file() else None


def _arrival_order(entry: os.DirEntry) -> tuple[int, str]:
    """Oldest first, so that of two identical files the one delivered first is the original."""
    try:
        return entry.stat(follow_symlinks=False).st_mtime_ns, entry.name
    except FileNotFoundError:
        return 0, entry.name


def _free_name(target: Path) -> Path:
    if not target.exists():
        return target
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for counter in range(1, 10_000):
        candidate = target.with_name(f"{target.name}.{stamp}-{counter}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(target)


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
