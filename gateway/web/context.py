"""Per-process state of ``serve``: one Gateway per worker thread (SQLite connections are not shared
between threads), one set of compiled document kinds for all, the login limiter, and who is asking.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import threading

from starlette.requests import Request

from gateway import logs
from gateway.app import Gateway
from gateway.config import Settings
from gateway.kinds import KindRegistry
from gateway.store.web_queries import User
from gateway.web import auth, search
from gateway.web.i18n import LANGUAGES
from gateway.web.localtime import LocalTime
from gateway.web.settings import WebSettings
from gateway.web.views import AggregateCache

log = logs.get("gateway.web")


class WebContext:
    def __init__(self, settings: Settings, web: WebSettings) -> None:
        self.settings = settings
        self.web = web
        self.limiter = auth.LoginLimiter(web.login_max_failures, web.login_window, web.login_delay)
        self.proxies = [ipaddress.ip_network(p, strict=False) for p in web.trusted_proxies]
        self.aggregates = AggregateCache()
        self.clock = LocalTime(web.timezone)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._kinds: KindRegistry | None = None
        self._all: list[Gateway] = []

    def gateway(self) -> Gateway:
        """This thread's Gateway; the schemas compiled by one thread serve every other."""
        gw = getattr(self._local, "gw", None)
        if gw is None:
            gw = Gateway(self.settings, actor="web")
            with self._lock:
                if self._kinds is None:
                    self._kinds = gw.kinds
                gw.kinds = self._kinds
                self._all.append(gw)
            self._local.gw = gw
        return gw

    def index_search_keys(self) -> int:
        gw = self.gateway()
        return search.index_pending(gw.store, gw.archive)

    def close(self) -> None:
        with self._lock:
            for gw in self._all:
                try:
                    gw.close()
                except Exception:  # noqa: BLE001 - a connection owned by another thread; closing is best effort
                    pass
            self._all.clear()


def ctx(request: Request) -> WebContext:
    return request.app.state.ctx


def current_user(request: Request) -> User | None:
    """From an ``Authorization: Bearer`` API token, or else from the server-side session the cookie names.

    A token's scope is kept in ``request.state.scope`` (a cookie session may do what the role allows)."""
    if hasattr(request.state, "user"):
        return request.state.user
    store = ctx(request).gateway().store
    user: User | None = None
    request.state.via_token = False
    request.state.scope = "act"
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        request.state.via_token = True
        found = auth.user_for_token(store, header[7:].strip())
        if found is not None:
            user, request.state.scope = found
    else:
        session_id = request.session.get("sid")
        if session_id:
            user = auth.user_for_session(store, session_id)
            if user is None:
                request.session.clear()
    request.state.user = user
    return user


def log_in(request: Request, user: User) -> None:
    """A fresh session (nothing carried over from before the login) with a new CSRF token."""
    context = ctx(request)
    request.session.clear()
    session_id = auth.start_session(context.gateway().store, user, context.web.session_max_age)
    request.session.update({"sid": session_id, "csrf": secrets.token_urlsafe(32)})
    request.state.user = user


def log_out(request: Request) -> None:
    """End the session on the server: the old cookie, replayed, is refused."""
    session_id = request.session.get("sid")
    if session_id:
        auth.end_session(ctx(request).gateway().store, session_id)
    request.session.clear()


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok(request: Request, submitted: str | None) -> bool:
    """Writes by API token need no CSRF token (no ambient credential); cookie sessions always do."""
    if getattr(request.state, "via_token", False):
        return True
    expected = request.session.get("csrf")
    return bool(expected and submitted and hmac.compare_digest(expected, submitted))


def language(request: Request) -> str:
    lang = request.cookies.get("lang", "es")
    return lang if lang in LANGUAGES else "es"


def client_address(request: Request) -> str:
    """The peer's address, or, when the peer is a configured proxy (``[web] trusted_proxies``), the
    right-most address of ``X-Forwarded-For`` that is not itself a trusted proxy. A header from anyone
    else is ignored: it is the client's own claim."""
    peer = request.client.host if request.client else "unknown"
    proxies = ctx(request).proxies
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return peer


def _trusted(address: str, proxies: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)
