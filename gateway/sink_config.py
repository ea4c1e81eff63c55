"""Configuration keys of the HTTP and SQL sinks (DESIGN §5), checked at start-up; errors name the key.

Secrets stay out of the configuration text: a bearer token comes from ``token_env`` or
``token_file``, a database URL with a password from ``url_env``. Only the names are
stored here; the values are read when the sink is built and never logged.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gateway.config import ConfigError, _only, _path, parse_duration

HTTP_KEYS = {"url", "token_env", "token_file", "client_cert_file", "client_key_file", "ca_file", "verify", "timeout",
             "batch_url", "batch_size"}
SQL_KEYS = {"url", "url_env", "url_file", "table", "schema"}


def http_options(options: dict[str, Any], where: str, base_dir: Path) -> dict[str, Any]:
    _only(options, where, HTTP_KEYS)
    url = options.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}.url: required, must start with https:// (or http:// on a trusted network)")
    if options.get("token_env") and options.get("token_file"):
        raise ConfigError(f"{where}.token_env: give token_env or token_file, not both")
    for key in ("token_file", "client_cert_file", "client_key_file", "ca_file"):
        if options.get(key):
            options[key] = _path(base_dir, options[key])
    if not url.startswith("https://") and any(options.get(k) for k in ("client_cert_file", "ca_file")):
        raise ConfigError(f"{where}.url: client_cert_file and ca_file need an https:// url")
    if options.get("client_key_file") and not options.get("client_cert_file"):
        raise ConfigError(f"{where}.client_cert_file: required when client_key_file is set")
    verify = options.setdefault("verify", True)
    if not isinstance(verify, bool):
        raise ConfigError(f"{where}.verify: must be true or false (TLS certificate verification)")
    options["timeout"] = parse_duration(options.get("timeout", "30s"), f"{where}.timeout")
    if options["timeout"] <= 0:
        raise ConfigError(f"{where}.timeout: must be more than zero")
    batch_url = options.get("batch_url")
    if batch_url is not None and (not isinstance(batch_url, str) or not batch_url.startswith(("http://", "https://"))):
        raise ConfigError(f"{where}.batch_url: must start with https:// (or http://)")
    size = options.setdefault("batch_size", 50 if batch_url else 1)
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 1000:
        raise ConfigError(f"{where}.batch_size: must be a whole number from 1 to 1000")
    if size > 1 and not batch_url:
        raise ConfigError(f"{where}.batch_size: needs batch_url (the endpoint that takes several documents)")
    return options


def sql_options(options: dict[str, Any], where: str, base_dir: Path) -> dict[str, Any]:
    _only(options, where, SQL_KEYS)
    if sum(bool(options.get(k)) for k in ("url", "url_env", "url_file")) != 1:
        raise ConfigError(f"{where}.url: give one of url, url_env or url_file (a URL with a password: not in url)")
    if options.get("url_file"):
        options["url_file"] = _path(base_dir, options["url_file"])
    if options.get("url"):
        url = options["url"]
        if not isinstance(url, str) or "://" not in url:
            raise ConfigError(f"{where}.url: '{url}' is not a database URL (postgresql://… or sqlite:///PATH)")
        if _has_password(url):
            raise ConfigError(f"{where}.url: holds a password; put the URL in an environment variable (url_env)")
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            options["url"] = f"sqlite:///{_path(base_dir, url[len('sqlite:///'):])}"
    for key in ("table", "schema"):
        value = options.get(key)
        if value is not None and (not isinstance(value, str) or not value.replace("_", "").isalnum()):
            raise ConfigError(f"{where}.{key}: must be a plain SQL name (letters, digits, _)")
    options.setdefault("table", "immex_documents")
    return options


def read_secret(options: dict[str, Any], where: str, env_key: str, file_key: str) -> str | None:
    """The value of the variable named by ``env_key`` or the content of the file named by ``file_key``."""
    from gateway.logs import hide

    if options.get(env_key):
        value = os.environ.get(options[env_key])
        if not value:
            raise ConfigError(f"{where}.{env_key}: environment variable {options[env_key]} is not set")
        hide(value.strip())
        return value.strip()
    if options.get(file_key):
        try:
            value = Path(options[file_key]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{where}.{file_key}: cannot read {options[file_key]}: {exc.strerror}") from None
        if not value:
            raise ConfigError(f"{where}.{file_key}: {options[file_key]} is empty")
        hide(value)
        return value
    return None


def _has_password(url: str) -> bool:
    rest = url.split("://", 1)[1]
    userinfo = rest.split("@", 1)[0] if "@" in rest.split("/", 1)[0] else ""
    return ":" in userinfo
