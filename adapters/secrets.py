"""Secrets named by the configuration, read when an adapter is built: one helper for every adapter.

Secrets stay out of the configuration text: a bearer token comes from ``token_env`` or ``token_file``, a
database URL with a password from ``url_env``/``url_file``, an SFTP password or key passphrase from
``password_env``/``password_file``, ``passphrase_env``/``passphrase_file``. Only the names are in the
configuration; the values are read here, when the adapter is built, and never logged. A problem is a
ConfigError naming the key, so start-up stops with a clear message instead of failing at the first delivery.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError


def read_secret(options: dict[str, Any], where: str, name: str, keep_spaces: bool = False) -> str | None:
    """The value of the variable named by ``<name>_env`` or the content of the file named by ``<name>_file``.

    Surrounding blanks are dropped, except with ``keep_spaces`` (a password may end in a space): then only the
    line ending a file was saved with is.
    """
    env_key, file_key = f"{name}_env", f"{name}_file"
    if options.get(env_key):
        value = os.environ.get(options[env_key])
        if not value:
            raise ConfigError(f"{where}.{env_key}: environment variable {options[env_key]} is not set")
        return value if keep_spaces else value.strip()
    if options.get(file_key):
        path = Path(options[file_key])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{where}.{file_key}: {path} cannot be read: {exc.strerror or exc}") from None
        value = text.rstrip("\r\n") if keep_spaces else text.strip()
        if not value:
            raise ConfigError(f"{where}.{file_key}: {path} is empty")
        return value
    return None
