"""SFTP sink: ``<remote_path>/<kind>/<id>.json`` (or the original bytes), uploaded atomically.

The bytes go to a dot-named temp file in the target folder, their size is checked on the
server, and the temp file is renamed over the final name (``posix-rename@openssh.com``),
so a reader on the server never sees half a file and a repeated delivery of the same id
replaces the file with identical content. Transient failures reconnect and retry with
exponential backoff and jitter inside one attempt; the outbox spaces further attempts.
"""

from __future__ import annotations

import json
import posixpath
from pathlib import PurePath
from typing import Any

from adapters.sftp_endpoint import endpoint_from_options
from adapters.sftp_options import sink_options
from adapters.sftp_session import Session, upload
from gateway import logs
from gateway.config import SinkConfig
from gateway.ports import ConfigContext, Outgoing, SinkBase, SinkError

log = logs.get("adapters.sinks.sftp")



class SftpSink(SinkBase):
    TYPE = "sftp"

    @classmethod
    def check_options(cls, options: dict[str, Any], where: str, context: ConfigContext) -> dict[str, Any]:
        return sink_options(options, where, context.base_dir)

    def __init__(self, config: SinkConfig) -> None:
        options = config.options
        self.name = config.name
        self.endpoint = endpoint_from_options(options, f"sink '{self.name}'")
        self.session = Session(self.endpoint)
        self.remote_path: str = options["remote_path"]
        self.content: str = options.get("content", "canonical")

    def target(self, item: Outgoing) -> str:
        if self.content == "original":
            suffix = PurePath(item.original_name).suffix[:16] or ".bin"
            return posixpath.join(self.remote_path, item.kind, f"{item.id}{suffix}")
        return posixpath.join(self.remote_path, item.kind, f"{item.id}.json")

    def deliver(self, item: Outgoing) -> None:
        if self.content == "original":
            data = item.load_original()
        else:
            data = (json.dumps(item.canonical, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode("utf-8")
        target = self.target(item)
        try:
            self.session.call(f"upload of {target}", lambda sftp: upload(sftp, target, data))
        except OSError as exc:
            # every SFTP failure is the server's or the configuration's, never the document's: retry later
            raise SinkError(f"SFTP {self.endpoint.address}: {_message(exc)}", retryable=True) from exc

    def close(self) -> None:
        self.session.close()


def _message(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or exc}"
    return str(exc)
