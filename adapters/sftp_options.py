"""Checks and defaults for the ``type = "sftp"`` source and sink keys (DESIGN §5).

Only names of secrets live in the configuration (``password_env``, ``password_file``,
``passphrase_env``, ``passphrase_file``); the secrets themselves are read when the
adapter is built, so ``queue list`` on an operator's laptop never needs them.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from gateway.config import _only, _path, _required_str, parse_duration
from gateway.errors import ConfigError

_CONNECTION_KEYS = {
    "host", "port", "username", "private_key_file", "passphrase_env", "passphrase_file", "password_env",
    "password_file", "known_hosts_file", "host_key_fingerprint", "connect_timeout", "timeout", "retry_attempts",
    "retry_initial_wait", "retry_max_wait",
}
SOURCE_KEYS = _CONNECTION_KEYS | {
    "remote_path", "recursive", "include", "exclude", "done_marker", "stable_time", "after_pickup",
    "processed_path", "rename_suffix", "poll_interval", "reply_path",
}
SINK_KEYS = _CONNECTION_KEYS | {"remote_path", "content"}
_FINGERPRINT = re.compile(r"^SHA256:[A-Za-z0-9+/]{43}=?$")


def source_options(options: dict[str, Any], where: str, base_dir: Path) -> dict[str, Any]:
    _no_secrets(options, where)
    _only(options, where, SOURCE_KEYS)
    _connection(options, where, base_dir)
    roots = options.get("remote_path")
    if isinstance(roots, str):
        roots = [roots]
    if not isinstance(roots, list) or not roots or not all(isinstance(r, str) and r.strip() for r in roots):
        raise ConfigError(f"{where}.remote_path: required, a remote directory or a list of them")
    options["remote_path"] = [posixpath.normpath(r) for r in roots]
    if len(set(options["remote_path"])) != len(roots):
        raise ConfigError(f"{where}.remote_path: the same directory is listed twice")
    options["recursive"] = _bool(options.get("recursive", False), f"{where}.recursive")
    for key in ("include", "exclude"):
        options[key] = _strings(options.get(key, []), f"{where}.{key}", "glob patterns")
    markers = _strings(options.get("done_marker", []), f"{where}.done_marker", "suffixes such as .done or .ok")
    if any(not m.startswith(".") or "/" in m for m in markers):
        raise ConfigError(f"{where}.done_marker: each marker is a suffix starting with a dot, e.g. .done")
    options["done_marker"] = markers
    options["stable_time"] = parse_duration(options.get("stable_time", "5s"), f"{where}.stable_time")
    options["poll_interval"] = parse_duration(options.get("poll_interval", "30s"), f"{where}.poll_interval")
    after = options.setdefault("after_pickup", "move")
    if after not in {"move", "delete", "rename"}:
        raise ConfigError(f"{where}.after_pickup: '{after}' must be move, delete or rename")
    processed = options.setdefault("processed_path", "processed")
    if not isinstance(processed, str) or not processed.strip():
        raise ConfigError(f"{where}.processed_path: must be a remote directory")
    options["processed_path"] = posixpath.normpath(processed)
    reply = options.get("reply_path")
    if reply is not None:
        if not isinstance(reply, str) or not reply.strip():
            raise ConfigError(f"{where}.reply_path: must be a remote directory (absolute, or relative to the first "
                              "remote_path)")
        reply = posixpath.normpath(posixpath.join(options["remote_path"][0], reply))
        if reply in options["remote_path"]:
            raise ConfigError(f"{where}.reply_path: must not be a watched remote_path (answers would be taken as "
                              "files)")
        options["reply_path"] = reply
    suffix = options.setdefault("rename_suffix", ".processed")
    if not isinstance(suffix, str) or not suffix.startswith(".") or "/" in suffix or len(suffix) < 2:
        raise ConfigError(f"{where}.rename_suffix: a suffix starting with a dot, e.g. .processed")
    return options


def sink_options(options: dict[str, Any], where: str, base_dir: Path) -> dict[str, Any]:
    _no_secrets(options, where)
    _only(options, where, SINK_KEYS)
    _connection(options, where, base_dir)
    options["remote_path"] = posixpath.normpath(_required_str(options, "remote_path", where))
    content = options.setdefault("content", "canonical")
    if content not in {"canonical", "original"}:
        raise ConfigError(f"{where}.content: '{content}' must be canonical or original")
    return options


def _connection(options: dict[str, Any], where: str, base_dir: Path) -> None:
    options["host"] = _required_str(options, "host", where).strip()
    options["username"] = _required_str(options, "username", where)
    port = options.setdefault("port", 22)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ConfigError(f"{where}.port: must be a TCP port number (1-65535)")
    for key in ("private_key_file", "passphrase_file", "password_file", "known_hosts_file"):
        if key in options:
            options[key] = _path(base_dir, _required_str(options, key, where))
    for key in ("passphrase_env", "password_env"):
        if key in options:
            _required_str(options, key, where)
    if "password_env" in options and "password_file" in options:
        raise ConfigError(f"{where}.password_env: give password_env or password_file, not both")
    if "passphrase_env" in options and "passphrase_file" in options:
        raise ConfigError(f"{where}.passphrase_env: give passphrase_env or passphrase_file, not both")
    if ("passphrase_env" in options or "passphrase_file" in options) and "private_key_file" not in options:
        raise ConfigError(f"{where}.passphrase_env: a passphrase needs private_key_file")
    if not {"private_key_file", "password_env", "password_file"} & options.keys():
        raise ConfigError(f"{where}.private_key_file: required (or password_env / password_file)")
    pins = _strings(options.get("host_key_fingerprint", []), f"{where}.host_key_fingerprint", "fingerprints")
    for pin in pins:
        if not _FINGERPRINT.match(pin):
            raise ConfigError(f"{where}.host_key_fingerprint: '{pin}' is not an OpenSSH SHA256 fingerprint "
                              "(as printed by ssh-keygen -lf: SHA256:…43 characters)")
    options["host_key_fingerprint"] = [p.rstrip("=") for p in pins]
    if "known_hosts_file" not in options and not pins:
        raise ConfigError(f"{where}.known_hosts_file: required (or host_key_fingerprint); the server's host key "
                          "is always checked")
    options["connect_timeout"] = parse_duration(options.get("connect_timeout", "10s"), f"{where}.connect_timeout")
    options["timeout"] = parse_duration(options.get("timeout", "30s"), f"{where}.timeout")
    attempts = options.setdefault("retry_attempts", 3)
    if not isinstance(attempts, int) or isinstance(attempts, bool) or not 1 <= attempts <= 20:
        raise ConfigError(f"{where}.retry_attempts: a whole number from 1 to 20")
    options["retry_initial_wait"] = parse_duration(options.get("retry_initial_wait", "1s"),
                                                   f"{where}.retry_initial_wait")
    options["retry_max_wait"] = parse_duration(options.get("retry_max_wait", "5m"), f"{where}.retry_max_wait")
    for key in ("connect_timeout", "timeout"):
        if options[key] <= 0:
            raise ConfigError(f"{where}.{key}: must be more than zero")


def _no_secrets(options: dict[str, Any], where: str) -> None:
    for key in ("password", "passphrase"):
        if key in options:
            raise ConfigError(f"{where}.{key}: secrets never go in the configuration; use {key}_env or {key}_file")


def _strings(value: Any, key: str, what: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key}: must be a list of {what}")
    return value


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: must be true or false")
    return value
