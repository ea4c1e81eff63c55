"""Folder sink: one file per document, ``<kind>/<id>.json``, written atomically.

Temp file, fsync, rename, fsync of the directory: a reader never sees half a file, and a
repeated delivery of the same id replaces the file with identical content. Deliveries come in batches of
``batch_size``: each file is written and renamed, then its folder is fsynced once for the whole batch, and no
outcome is reported before that sync.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path, PurePath
from typing import Any

from gateway.archive import fsync_dir
from gateway.config import SinkConfig, _only, _path, _required_str
from gateway.config_check import folder_usable
from gateway.ports import ConfigContext, ConfigError, Outgoing, SinkBase, SinkError


class FolderSink(SinkBase):
    TYPE = "folder"
    batch_size = 32  # files written per request, their folder fsynced once

    @classmethod
    def check_options(cls, options: dict[str, Any], where: str, context: ConfigContext) -> dict[str, Any]:
        _only(options, where, {"path", "content"})
        options["path"] = _path(context.base_dir, _required_str(options, "path", where))
        content = options.setdefault("content", "canonical")
        if content not in {"canonical", "original"}:
            raise ConfigError(f"{where}.content: '{content}' must be canonical or original")
        return options

    def __init__(self, config: SinkConfig) -> None:
        self.name = config.name
        self.path: Path = config.options["path"]
        self.content: str = config.options.get("content", "canonical")
        self.path.mkdir(parents=True, exist_ok=True)

    @classmethod
    def probe(cls, config: SinkConfig, connect: bool) -> str:  # noqa: ARG003
        """What ``config check`` reports: the folder can be written (or made)."""
        return folder_usable(config.options["path"])

    def target(self, item: Outgoing) -> Path:
        if self.content == "original":
            suffix = PurePath(item.original_name).suffix[:16] or ".bin"
            return self.path / item.kind / f"{item.id}{suffix}"
        return self.path / item.kind / f"{item.id}.json"

    def deliver(self, item: Outgoing) -> None:
        error = self.deliver_batch([item])[0]
        if error is not None:
            raise error

    def deliver_batch(self, items: list[Outgoing]) -> list[SinkError | None]:
        """Every file written and renamed, then each folder fsynced once: a batch costs one directory sync, not
        one per file. An outcome is None only once the file's rename is durable."""
        outcomes: list[SinkError | None] = []
        folders: dict[Path, list[int]] = {}
        for index, item in enumerate(items):
            try:
                target = self.target(item)
                write_atomically(target, self._content(item), sync=False)
                folders.setdefault(target.parent, []).append(index)
                outcomes.append(None)
            except OSError as exc:
                outcomes.append(self._error(exc))
        for folder, indexes in folders.items():
            try:
                fsync_dir(folder)
            except OSError as exc:
                for index in indexes:
                    outcomes[index] = self._error(exc)
        return outcomes

    def _content(self, item: Outgoing) -> bytes:
        if self.content == "original":
            return item.load_original()
        return (json.dumps(item.canonical, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")

    def _error(self, exc: OSError) -> SinkError:
        return SinkError(f"cannot write to {self.path}: {exc.strerror or exc}")


def write_atomically(target: Path, data: bytes, sync: bool = True) -> None:
    """Temp file, fsync, rename; then the folder's fsync unless the caller syncs it once for several files."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if sync:
        fsync_dir(target.parent)
