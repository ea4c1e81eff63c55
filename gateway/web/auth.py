"""Users, roles, passwords, server-side sessions, API tokens and login throttling for the web page and API.

Passwords are hashed with scrypt (memory-hard, in the standard library). Session ids and API tokens
are random, and only their SHA-256 is stored, so a copy of the store logs nobody in; both can be
ended on the server (logout, revocation, a new password, a disabled user). A token has a scope
(``read``, ``metrics``, ``act``) so a Prometheus scraper cannot act on the queue. Roles are ordered:
a ``viewer`` reads, an ``operator`` also acts on the queue, an ``admin`` also manages users.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from importlib import resources

from gateway.errors import GatewayError
from gateway.store import Store
from gateway.store.web_queries import User

ROLES = ("viewer", "operator", "admin")
_N, _R, _P = 2**15, 8, 1  # 32 MiB of memory per hash: slow for a GPU farm, ~0.1 s for one login
_MAXMEM = 64 * 1024 * 1024
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@")
MIN_PASSWORD = 12
SCOPES = ("read", "metrics", "act")  # what a token may do, within its user's role


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


def check_password(password: str, name: str | None = None) -> None:
    """At least 12 characters, not one of the commonest passwords (a list shipped as package data), not the
    user's own name: the passwords a guesser tries first are refused before any hash is made."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"La contraseña debe tener al menos {MIN_PASSWORD} caracteres. / "
                        f"The password must have at least {MIN_PASSWORD} characters.")
    folded = password.casefold()
    if folded in _common_passwords() or len(set(folded)) < 4 or (name and len(name) >= 4 and name.casefold() in folded):
        raise UserError("La contraseña es de las más comunes o fáciles de adivinar; elija otra. / "
                        "The password is among the commonest or easiest to guess; choose another.")


@functools.cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("gateway.web").joinpath("common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().casefold() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def add_user(store: Store, name: str, role: str, password: str) -> None:
    check_name(name)
    check_role(role)
    check_password(password, name)
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


def new_token(store: Store, name: str, label: str | None = None, scope: str = "read",
              lifetime: float | None = None) -> str:
    """Create an API token for a user and return it; only its SHA-256 is kept.

    ``scope``: ``read`` (the API's GETs and /metrics), ``metrics`` (/metrics only) or ``act`` (whatever the
    user's role allows). ``lifetime`` in seconds, or no expiry."""
    if store.get_user(name) is None:
        raise UserError(f"El usuario '{name}' no existe. / User '{name}' does not exist.")
    if scope not in SCOPES:
        raise UserError(f"El alcance '{scope}' no existe; use {', '.join(SCOPES)}. / Unknown scope.")
    expires = None if lifetime is None else _iso(datetime.now(UTC) + timedelta(seconds=lifetime))
    token = "igw_" + secrets.token_urlsafe(32)
    store.add_token(token_digest(token), name, label, scope, expires)
    return token


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_for_token(store: Store, token: str) -> tuple[User, str] | None:
    """The user and scope of a live token (not revoked, not expired, its user enabled)."""
    found = store.token(token_digest(token))
    if found is None:
        return None
    user, row = found
    return None if user.disabled or not row.active() else (user, row.scope)


def scope_allows(scope: str, need: str) -> bool:
    """``need`` is ``metrics`` (/metrics), ``read`` (the API's GETs) or ``act`` (writes)."""
    return scope == "act" or (scope == "read" and need in ("read", "metrics")) or scope == need


def start_session(store: Store, user: User, max_age: float) -> str:
    """A new server-side session; the returned id goes in the signed cookie, only its SHA-256 in the store."""
    session_id = secrets.token_urlsafe(32)
    store.add_session(token_digest(session_id), user.name, _iso(datetime.now(UTC) + timedelta(seconds=max_age)))
    return session_id


def user_for_session(store: Store, session_id: str) -> User | None:
    user = store.user_for_session(token_digest(session_id))
    return None if user is None or user.disabled else user


def end_session(store: Store, session_id: str) -> None:
    store.end_session(token_digest(session_id))


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LoginLimiter:
    """Growing delays after failed logins, per (user name, client address): after ``free`` failures each
    further attempt for that pair waits ``first`` seconds, then twice that, four times … (at most ``window``).
    Someone guessing from one address slows only themselves; the real user from their own address logs in at
    once. A pair is forgotten ``window`` seconds after its last failure, and a success clears it."""

    MAX_KEYS = 100_000  # memory stays bounded under a spray of names

    def __init__(self, free: int = 5, window: float = 900.0, first: float = 1.0) -> None:
        self.free = free
        self.window = window
        self.first = first
        self._failures: dict[tuple[str, str], tuple[int, float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, name: str, client: str) -> float:
        """Seconds until another attempt is allowed for this pair (0: allowed now)."""
        at = time.monotonic()
        with self._lock:
            count, last = self._failures.get((name.casefold(), client), (0, 0.0))
        if count < self.free or at - last > self.window:
            return 0.0
        return max(0.0, last + self.delay(count) - at)

    def delay(self, count: int) -> float:
        return float(min(self.first * 2 ** (count - self.free), self.window))

    def failed(self, name: str, client: str) -> None:
        at = time.monotonic()
        key = (name.casefold(), client)
        with self._lock:
            count, last = self._failures.pop(key, (0, 0.0))
            if at - last > self.window:
                count = 0
            if len(self._failures) >= self.MAX_KEYS:
                self._failures.pop(next(iter(self._failures)))  # the oldest pair
            self._failures[key] = (count + 1, at)

    def succeeded(self, name: str, client: str) -> None:
        with self._lock:
            self._failures.pop((name.casefold(), client), None)
