"""Where and how to reach an SFTP server: the ``type = "sftp"`` options turned into an :class:`Endpoint`.

The secrets named by the configuration (``password_env`` / ``password_file``, ``passphrase_env`` /
``passphrase_file``) and the host keys are read here, once, when the adapter is built; a problem is a
ConfigError naming the key, so start-up stops with a clear message instead of failing at the first poll.
Secrets live only in the Endpoint (kept out of its repr) and are never logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko

from adapters.secrets import read_secret
from gateway.errors import ConfigError


@dataclass
class Endpoint:
    """Where and how to connect, with the secrets already read (they never leave this object)."""

    label: str  # "source 'broker-sftp'", for messages
    host: str
    port: int
    username: str
    key: paramiko.PKey | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    host_keys: paramiko.HostKeys | None = field(default=None, repr=False)
    known_hosts_file: Path | None = None
    fingerprints: list[str] = field(default_factory=list)
    connect_timeout: float = 10.0
    timeout: float = 30.0
    retry_attempts: int = 3
    retry_initial_wait: float = 1.0
    retry_max_wait: float = 300.0

    @property
    def address(self) -> str:
        return f"{self.username}@{self.host}:{self.port}"

    @property
    def known_hosts_name(self) -> str:
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"


def endpoint_from_options(options: dict[str, Any], label: str) -> Endpoint:
    """Read the secrets and the host keys named in the options; problems are ConfigErrors naming the key."""
    where = label
    password = read_secret(options, where, "password", keep_spaces=True)
    key = None
    if options.get("private_key_file"):
        passphrase = read_secret(options, where, "passphrase", keep_spaces=True)
        path: Path = options["private_key_file"]
        try:
            key = paramiko.PKey.from_path(path, password=passphrase.encode() if passphrase else None)  # type: ignore[arg-type]  # stubs say str; paramiko takes bytes
        except FileNotFoundError:
            raise ConfigError(f"{where}.private_key_file: {path} does not exist") from None
        except PermissionError:
            raise ConfigError(f"{where}.private_key_file: {path} cannot be read (permissions)") from None
        except (paramiko.PasswordRequiredException, TypeError):  # TypeError: an encrypted PEM key, no passphrase
            raise ConfigError(f"{where}.private_key_file: {path} is encrypted; set passphrase_env or "
                              "passphrase_file") from None
        except (paramiko.SSHException, ValueError) as exc:
            raise ConfigError(f"{where}.private_key_file: {path} cannot be loaded (wrong passphrase, or not an "
                              f"OpenSSH/PEM private key): {exc}") from None
    host_keys = None
    if options.get("known_hosts_file"):
        known: Path = options["known_hosts_file"]
        host_keys = paramiko.HostKeys()
        try:
            host_keys.load(str(known))
        except FileNotFoundError:
            raise ConfigError(f"{where}.known_hosts_file: {known} does not exist") from None
        except OSError as exc:
            raise ConfigError(f"{where}.known_hosts_file: {known} cannot be read: {exc}") from None
    return Endpoint(
        label=label, host=options["host"], port=options["port"], username=options["username"], key=key,
        password=password, host_keys=host_keys, known_hosts_file=options.get("known_hosts_file"),
        fingerprints=list(options.get("host_key_fingerprint", [])), connect_timeout=options["connect_timeout"],
        timeout=options["timeout"], retry_attempts=options["retry_attempts"],
        retry_initial_wait=options["retry_initial_wait"], retry_max_wait=options["retry_max_wait"],
    )
