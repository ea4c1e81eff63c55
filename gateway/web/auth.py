"""Users, roles, passwords, API tokens and login rate limiting for the web page and API.

Passwords are hashed with scrypt (memory-hard, in the standard library). API tokens are random,
shown once, and stored only as their SHA-256. Roles are ordered: a ``viewer`` reads, an
``operator`` also acts on the queue, an ``admin`` also manages users.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque

from gateway.errors import GatewayError
from gateway.store import Store
from gateway.store.web_queries import User

ROLES = ("viewer", "operator", "admin")
_N, _R, _P = 2**15, 8, 1  # 32 MiB of memory per hash: slow for a GPU farm, ~0.1 s for one login
_MAXMEM = 64 * 1024 * 1024
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@")
MIN_PASSWORD = 10


class UserError(GatewayError, ValueError):
    """A user cannot be created or changed; the message says why."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAXMEM, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), maxmem=_MAXMEM, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def _dummy_hash() -> str:
    """A hash to compare against when the user does not exist, so that the answer takes the same time."""
    return hash_password(secrets.token_urlsafe(16))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def has_role(user: User, needed: str) -> bool:
    return ROLES.index(user.role) >= ROLES.index(needed)


def check_name(name: str) -> None:
    if not name or len(name) > 64 or set(name) - _NAME_CHARS:
        raise UserError("El nombre de usuario admite letras, dígitos y . _ - @ (hasta 64 caracteres).")


def check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"El rol '{role}' no existe; use {', '.join(ROLES)}.")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"La contraseña debe tener al menos {MIN_PASSWORD} caracteres.")


def add_user(store: Store, name: str, role: str, password: str) -> None:
    check_name(name)
    check_role(role)
    check_password(password)
    if store.get_user(name) is not None:
        raise UserError(f"El usuario '{name}' ya existe.")
    store.add_user(name, role, hash_password(password))


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The user if the password is right and the account enabled; as slow when the user does not exist."""
    user = store.get_user(name)
    ok = verify_password(password, user.password_hash if user else _dummy_hash())
    if user is None or user.disabled or not ok:
        return None
    return user


def new_token(store: Store, name: str, label: str | None = None) -> str:
    """Create an API token for a user and return it; only its SHA-256 is kept."""
    if store.get_user(name) is None:
        raise UserError(f"El usuario '{name}' no existe.")
    token = "igw_" + secrets.token_urlsafe(32)
    store.add_token(token_digest(token), name, label)
    return token


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_for_token(store: Store, token: str) -> User | None:
    user = store.user_for_token(token_digest(token))
    return None if user is None or user.disabled else user


def session_stamp(user: User) -> str:
    """Changes when the password changes, so that sessions made with the old one stop working."""
    return hashlib.sha256(user.password_hash.encode("ascii")).hexdigest()[:16]


class LoginLimiter:
    """At most ``max_failures`` failed logins per user name within ``window`` seconds, and four times as many
    per client address (``ip:…`` keys): colleagues behind one proxy mistyping are not all locked out."""

    IP_FACTOR = 4

    def __init__(self, max_failures: int = 5, window: float = 900.0) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, at: float) -> deque[float]:
        entries = self._failures.setdefault(key, deque())
        while entries and entries[0] <= at - self.window:
            entries.popleft()
        return entries

    def retry_after(self, *keys: str) -> float:
        """Seconds until another attempt is allowed for these keys (0: allowed now)."""
        at = time.monotonic()
        with self._lock:
            waits = [self._recent(k, at)[0] + self.window - at for k in keys
                     if len(self._recent(k, at)) >= self._limit(k)]
        return max(waits, default=0.0)

    def _limit(self, key: str) -> int:
        return self.max_failures * (self.IP_FACTOR if key.startswith("ip:") else 1)

    def failed(self, *keys: str) -> None:
        at = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, at).append(at)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
