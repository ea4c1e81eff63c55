"""The ``[web]`` configuration table, checked at start-up (errors name the key), and the session secret."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from gateway.config import ConfigError, Settings, _path, parse_duration, unknown_key

SECRET_ENV = "IMMEX_GATEWAY_SECRET_KEY"


@dataclass
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    secret_key_file: Path | None = None
    session_max_age: float = 8 * 3600
    cookie_secure: bool = True  # false only when serving plain HTTP on a loopback address (checked)
    trusted_proxies: tuple[str, ...] = ()  # X-Forwarded-For is believed only from these addresses/networks
    login_max_failures: int = 5
    login_window: float = 900.0
    login_delay: float = 1.0  # the first wait after login_max_failures failures of one user from one client
    page_size: int = 50
    timezone: str = "America/Mexico_City"  # the plant's zone: times shown and days filtered in it


def web_settings(settings: Settings) -> WebSettings:
    raw = dict(settings.web)
    known = set(WebSettings.__dataclass_fields__)
    for key in raw:
        if key not in known:
            raise unknown_key("web", key, known)
    web = WebSettings()
    if "host" in raw:
        if not isinstance(raw["host"], str) or not raw["host"]:
            raise ConfigError("web.host: must be an address such as 127.0.0.1")
        web.host = raw["host"]
    for key, low, high in (("port", 1, 65535), ("login_max_failures", 1, 1000), ("page_size", 10, 500)):
        if key in raw:
            value = raw[key]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ConfigError(f"web.{key}: must be a whole number from {low} to {high}")
            setattr(web, key, value)
    if "cookie_secure" in raw:
        if not isinstance(raw["cookie_secure"], bool):
            raise ConfigError("web.cookie_secure: must be true or false")
        web.cookie_secure = raw["cookie_secure"]
    check_cookie_secure(web, web.host)
    if "trusted_proxies" in raw:
        proxies = raw["trusted_proxies"]
        if not isinstance(proxies, list) or not all(isinstance(p, str) for p in proxies):
            raise ConfigError("web.trusted_proxies: must be a list of addresses or networks, e.g. [\"10.0.0.5\"]")
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ConfigError(f"web.trusted_proxies: '{proxy}' is not an address or network") from None
        web.trusted_proxies = tuple(proxies)
    for key in ("session_max_age", "login_window", "login_delay"):
        if key in raw:
            setattr(web, key, parse_duration(raw[key], f"web.{key}"))
    if "timezone" in raw:
        from gateway.web.localtime import zone

        try:
            if not isinstance(raw["timezone"], str):
                raise ValueError(raw["timezone"])
            zone(raw["timezone"])
        except ValueError:
            raise ConfigError(f"web.timezone: {raw['timezone']!r} is not a time zone this machine knows (an IANA "
                              "name such as America/Mexico_City, America/Monterrey, America/Tijuana)") from None
        web.timezone = raw["timezone"]
    if raw.get("secret_key_file"):
        web.secret_key_file = _path(settings.base_dir, raw["secret_key_file"])
    return web


def check_cookie_secure(web: WebSettings, host: str) -> None:
    """A session cookie without ``Secure`` travels in clear text: allowed only for plain HTTP on loopback."""
    if not web.cookie_secure and not is_loopback(host):
        raise ConfigError(f"web.cookie_secure: false is allowed only when serving on a loopback address "
                          f"(127.0.0.1, ::1, localhost), not on {host}; put TLS in front and leave it true")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secret_key(settings: Settings, web: WebSettings) -> str:
    """The key that signs session cookies: from the environment, the configured file, or one made once.

    A key made here is kept in ``data_dir/web-secret-key`` (mode 0600) so sessions survive a restart.
    """
    if os.environ.get(SECRET_ENV):
        return os.environ[SECRET_ENV]
    path = web.secret_key_file or settings.data_dir / "web-secret-key"
    if web.secret_key_file is not None and not path.is_file():
        raise ConfigError(f"web.secret_key_file: {path} does not exist")
    key_name = "web.secret_key_file" if web.secret_key_file is not None else "gateway.data_dir"
    try:
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        from gateway.errors import ResourceError, os_reason

        raise ResourceError(f"{key_name} {exc.filename or path}", os_reason(exc)) from None
    if len(key) < 32:
        raise ConfigError(f"web.secret_key_file: {path} holds fewer than 32 characters")
    return key
