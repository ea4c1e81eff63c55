"""Folder sink: one file per document, ``<kind>/<id>.json``, written atomically.

Temp file, fsync, rename, fsync of the directory: a reader never sees half a file, and a
repeated delivery of the same id replaces the file with identical content.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path, PurePath
from typing import Any

from gateway.config import SinkConfig, _only, _path, _required_str
from gateway.ports import ConfigContext, ConfigError, Outgoing, SinkBase, SinkError


class FolderSink(SinkBase):
    TYPE = "folder"

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

    def target(self, item: Outgoing) -> Path:
        if self.content == "original":
            suffix = PurePath(item.original_name).suffix[:16] or ".bin"
            return self.path / item.kind / f"{item.id}{suffix}"
        return self.path / item.kind / f"{item.id}.json"

    def deliver(self, item: Outgoing) -> None:
        if self.content == "original":
            data = item.load_original()
        else:
            data = (json.dumps(item.canonical, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")
        try:
            write_atomically(self.target(item), data)
        except OSError as exc:
            raise SinkError(f"cannot write to {self.path}: {exc.strerror or exc}") from exc


def write_atomically(target: Path, data: bytes) -> None:
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
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
