"""The ASGI application of ``immex-gateway serve``: pages, ``/api/``, ``/healthz``, ``/metrics``.

Starlette (routing, signed session cookie, templates) under uvicorn. Store work runs in the
threadpool, one Gateway per thread. Every response carries a strict Content-Security-Policy (no
inline script or style), request bodies are capped before parsing (an upload at the intake size limit,
any other at 1 MiB), and the search keys of new documents are read in the background.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import health, metrics
from gateway.config import Settings
from gateway.runner import sync_catalogs
from gateway.web import api, auth, pages
from gateway.web.context import WebContext, ctx, current_user, log
from gateway.web.settings import WebSettings, check_cookie_secure, secret_key, web_settings

HERE = Path(__file__).parent
SESSION_COOKIE = "immex_session"
INDEX_INTERVAL = 5.0
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class BodyLimit:
    """Refuse request bodies larger than their limit (413), whether announced or streamed, before anything
    parses them: ``max_bytes`` for the upload of a corrected file (``…/replace``), ``form_bytes`` for every
    other body (a login, a reason, a list of ids), so that no one, logged in or not, has the server read
    megabytes of form or JSON where a few lines are expected."""

    FORM_BYTES = 1024 * 1024

    def __init__(self, app: ASGIApp, max_bytes: int, form_bytes: int = FORM_BYTES) -> None:
        self.app, self.max_bytes, self.form_bytes = app, max_bytes, form_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes if scope["path"].endswith("/replace") else min(self.form_bytes, self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(scope, receive, send)


class _TooLarge(Exception):
    pass


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    await JSONResponse({"error": "La solicitud excede el tamaño máximo. / The request exceeds the maximum size."},
                       status_code=413)(scope, receive, send)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"content-security-policy", _CSP.encode()), (b"x-content-type-options", b"nosniff"),
                            (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin")]
                if not scope["path"].startswith("/static/"):  # answers, pages and downloads hold customs data
                    headers = [h for h in headers if h[0].lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


async def healthz(request: Request) -> Response:
    """Without a login only ``ok`` or ``unhealthy`` (a load balancer needs no more); the components, sink
    addresses, error texts and catalog warnings only for a logged-in user or a token."""
    def answer() -> Response:
        settings = ctx(request).settings
        snap = health.snapshot(ctx(request).gateway().store, settings.node, settings.lease_ttl)
        status = 200 if snap["status"] == "ok" else 503
        if current_user(request) is None:
            return JSONResponse({"status": "ok" if status == 200 else "unhealthy"}, status_code=status)
        snap["warnings"] = catalog_warnings(settings)  # old catalogs warn; they do not make the node unhealthy
        return JSONResponse(snap, status_code=status)

    return await run_in_threadpool(answer)


def catalog_warnings(settings: Settings) -> list[str]:
    """Catalogs older than ``[validation] catalog_max_age`` (none when the key is not set)."""
    if settings.catalog_max_age is None:
        return []
    from gateway.kinds.cfdi.catalog_info import warnings

    return warnings(settings.catalogs_dir, settings.catalog_max_age)


async def metrics_endpoint(request: Request) -> Response:
    def render() -> Response:
        if current_user(request) is None:
            return PlainTextResponse("Inicie sesión o envíe un token (Authorization: Bearer …). / "
                                     "Log in or send a token.\n", status_code=401)
        if not auth.scope_allows(request.state.scope, "metrics"):
            return PlainTextResponse("El alcance del token no permite /metrics. / Token scope too narrow.\n",
                                     status_code=403)
        return PlainTextResponse(metrics.render(ctx(request).gateway().store, ctx(request).settings.node),
                                 media_type="text/plain; version=0.0.4; charset=utf-8")

    return await run_in_threadpool(render)


def _indexer(context: WebContext, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            context.index_search_keys()
        except Exception:  # noqa: BLE001 - search keys are a convenience; the page must keep serving
            log.exception("reading search keys failed")
        try:  # retries and replacements checked here use the catalogs every node uses
            sync_catalogs(context.gateway())
        except Exception:  # noqa: BLE001 - the catalogs in force stay; the page must keep serving
            log.exception("installing catalogs from the store failed")
        stop.wait(INDEX_INTERVAL)


def create_app(settings: Settings, web: WebSettings | None = None) -> Starlette:
    web = web or web_settings(settings)
    context = WebContext(settings, web)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = threading.Event()
        worker = threading.Thread(target=_indexer, args=(context, stop), name="search-keys", daemon=True)
        worker.start()
        try:
            yield
        finally:
            stop.set()
            worker.join(timeout=10)
            context.close()

    routes = [
        Route("/healthz", healthz),
        Route("/metrics", metrics_endpoint),
        Mount("/api", routes=api.routes),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        *pages.routes,
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(BodyLimit, max_bytes=settings.max_file_size + 1024 * 1024),
        Middleware(SessionMiddleware, secret_key=secret_key(settings, web), session_cookie=SESSION_COOKIE,
                   max_age=int(web.session_max_age), same_site="lax", https_only=web.cookie_secure),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.ctx = context
    return app


def serve(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    import uvicorn

    web = web_settings(settings)
    host, port = host or web.host, port or web.port
    check_cookie_secure(web, host)  # --host 0.0.0.0 with a cookie that travels in clear text stops here
    from gateway.app import Gateway

    Gateway(settings, actor="web").close()  # an unusable store or data_dir stops here, named, not in a page
    app = create_app(settings, web)
    log.info("serving", host=host, port=port)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, server_header=False,
                log_config=None,  # uvicorn's records go through gateway.logs (one format, secrets masked)
                proxy_headers=False, timeout_graceful_shutdown=10)
