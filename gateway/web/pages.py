"""The HTML pages: login, queue, document, overview, users. Server-rendered; forms carry CSRF tokens."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from markupsafe import Markup, escape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from gateway import operations
from gateway.store.base import STATES
from gateway.store.web_queries import DEFAULT_SORT, User
from gateway.web import actions, auth, export, groups, views
from gateway.web.context import client_address, csrf_ok, csrf_token, ctx, current_user, language, log, log_in, log_out
from gateway.web.i18n import LANGUAGES, label, state_label, word
from gateway.web.source_view import render as render_source
from gateway.web.wording import explain, for_operator

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
Handler = Callable[[Request, User, FormData | None], Response]


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    lang = language(request)
    user = getattr(request.state, "user", None)
    flash = request.session.pop("flash", None)
    clock = ctx(request).clock
    base = {"lang": lang, "t": lambda key, **kw: label(lang, key, **kw), "st": lambda s: state_label(lang, s),
            "when": clock.show, "zone": clock.label(),
            "w": lambda prefix, value: word(lang, prefix, value),
            "msg": lambda text: for_operator(text or "", lang, lambda s: state_label(lang, s)),
            "explain": lambda code: explain(code, lang),
            "user": user, "csrf": csrf_token(request), "flash": flash,
            "can_act": bool(user and auth.has_role(user, "operator")),
            "is_admin": bool(user and auth.has_role(user, "admin")), "path": request.url.path,
            "here": request.url.path + (f"?{request.url.query}" if request.url.query else "")}
    response = templates.TemplateResponse(request, name, base | context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def refuse(request: Request, status: int, key: str) -> Response:
    return page(request, "error.html", status_code=status, message=label(language(request), key))


def guarded(role: str = "viewer", form: bool = False) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Login required (else to the login page), the role checked, and for forms the CSRF token."""
    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        def sync(request: Request, data: FormData | None) -> Response:
            user = current_user(request)
            if user is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
            if data is not None and not csrf_ok(request, _text(data, "csrf_token")):
                log.warning("csrf refused", user=user.name, path=request.url.path)
                return refuse(request, 403, "csrf")
            need = "act" if data is not None else "read"  # a bearer token's scope binds on pages as in the API
            if not auth.scope_allows(request.state.scope, need):
                log.warning("action refused by token scope", user=user.name, path=request.url.path)
                return page(request, "error.html", status_code=403, message=(
                    f"El alcance del token no permite esta acción (se requiere '{need}'). / "
                    "The token's scope does not allow this."))
            if not auth.has_role(user, role):
                log.warning("action refused by role", user=user.name, role=user.role, path=request.url.path)
                return refuse(request, 403, "forbidden")
            for field, limit in actions.LIMITS.items():
                value = data.get(field) if data is not None else None
                if isinstance(value, str) and len(value) > limit:
                    return page(request, "error.html", status_code=400,
                                message=f"El texto de '{field}' admite hasta {limit} caracteres. / "
                                        f"'{field}' takes at most {limit} characters.")
            return handler(request, user, data)

        async def endpoint(request: Request) -> Response:
            # who asks is known before any body is read: a stranger's upload is never parsed or spooled
            user = await run_in_threadpool(current_user, request)
            data = await request.form(max_files=1, max_fields=50) if form and user is not None else None
            try:
                return await run_in_threadpool(sync, request, data)
            finally:
                if data is not None:
                    await data.close()

        endpoint.__name__ = handler.__name__
        return endpoint
    return wrap


def _text(data: FormData, key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _local(target: str | None) -> str:
    """Only paths on this site are followed after login or a language switch."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/queue"


# login ---------------------------------------------------------------------------------------------------

def login_form(request: Request) -> Response:
    return page(request, "login.html", next=_local(request.query_params.get("next")))


async def login_submit(request: Request) -> Response:
    data = await request.form(max_files=0, max_fields=10)
    return await run_in_threadpool(_login, request, data)


def _login(request: Request, data: FormData) -> Response:
    context = ctx(request)
    lang = language(request)
    name = (_text(data, "username") or "").strip()
    password = _text(data, "password") or ""
    target = _local(_text(data, "next"))
    if not csrf_ok(request, _text(data, "csrf_token")):
        return refuse(request, 403, "csrf")
    client = client_address(request)
    wait = context.limiter.retry_after(name, client)
    if wait > 0:
        log.warning("login rate-limited", user=name, client=client)
        response = page(request, "login.html", status_code=429, next=target, username=name,
                        error=label(lang, "login_limited", seconds=max(1, round(wait))))
        response.headers["Retry-After"] = str(max(1, round(wait)))
        return response
    user = auth.authenticate(context.gateway().store, name, password)
    if user is None:
        context.limiter.failed(name, client)
        log.warning("login failed", user=name, client=client)
        return page(request, "login.html", status_code=401, next=target, username=name,
                    error=label(lang, "login_failed"))
    context.limiter.succeeded(name, client)
    log_in(request, user)
    log.info("login", user=user.name, role=user.role)
    return RedirectResponse(target, status_code=303)


@guarded(form=True)
def logout(request: Request, user: User, data: FormData | None) -> Response:
    log_out(request)
    return RedirectResponse("/login", status_code=303)


def switch_language(request: Request) -> Response:
    lang = request.path_params["lang"]
    response = RedirectResponse(_local(request.query_params.get("next")), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie("lang", lang, max_age=365 * 86400, httponly=True, samesite="lax")
    return response


def home(request: Request) -> Response:
    return RedirectResponse("/queue", status_code=303)


# queue and document ----------------------------------------------------------------------------------------

@guarded()
def queue_page(request: Request, user: User, data: FormData | None) -> Response:
    context = ctx(request)
    if request.query_params.get("q"):
        context.index_search_keys()
    result = views.queue(context.gateway(), request.query_params, context.web.page_size, context.aggregates,
                         context.clock)

    def link(**changes: Any) -> str:
        params = {**result["filter"], "page": result["page"]} | changes
        kept = {k: v for k, v in params.items() if v not in (None, "") and not (k == "page" and v == 1)}
        return "/queue?" + urlencode(kept)

    def sort_link(key: str) -> str:
        current = result["sort"]
        if current.lstrip("-") == key:
            wanted = key if current.startswith("-") else f"-{key}"
        else:
            wanted = f"-{key}" if key in ("received", "findings") else key  # newest, most errors first
        return link(sort=None if wanted == DEFAULT_SORT else wanted, page=1)

    def export_link(extension: str) -> str:
        return link(page=1).replace("/queue", f"/queue/export.{extension}", 1)

    lang = language(request)
    words = {key: label(lang, key) for key in ("bulk_selected", "bulk_title", "bulk_summary", "bulk_refused",
                                              "bulk_reload", "bulk_close", "bulk_working", "bulk_failed")}
    result["items"] = groups.collapse(context.gateway().store, result["items"])
    return page(request, "queue.html", q=result, link=link, bulk_words=words, sort_link=sort_link,
                export_link=export_link,
                state_names={s: state_label(lang, s) for s in STATES})


def _export_name(request: Request, extension: str) -> str:
    return f"cola-{ctx(request).clock.today().isoformat()}.{extension}"


@guarded()
def export_csv(request: Request, user: User, data: FormData | None) -> Response:
    context = ctx(request)
    body = export.to_csv(views.queue_rows(context.gateway(), request.query_params, context.clock),
                         language(request), context.clock)
    return _download(body, export.CSV_TYPE, _export_name(request, "csv"))


@guarded()
def export_xlsx(request: Request, user: User, data: FormData | None) -> Response:
    context = ctx(request)
    body = export.to_xlsx(views.queue_rows(context.gateway(), request.query_params, context.clock),
                          language(request), context.clock)
    return _download(body, export.XLSX_TYPE, _export_name(request, "xlsx"))


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@guarded()
def document_page(request: Request, user: User, data: FormData | None) -> Response:
    gw = ctx(request).gateway()
    detail = views.document(gw, request.path_params["id"])
    if detail is None:
        return refuse(request, 404, "not_found")
    blob = views.original(gw, detail["sha256"])
    source = None
    if blob is not None:
        from gateway.findings import Finding

        source = render_source(blob, [Finding.from_dict(f) for f in detail["findings"]])
    record = json.dumps(detail["record"], ensure_ascii=False, indent=2) if detail["record"] else None
    store = gw.store
    colleagues = [u.name for u in store.list_users() if not u.disabled and auth.has_role(u, "operator")]
    if source is not None:  # findings located by record (a pedimento's 505) get the line the viewer found
        for finding, line in zip(detail["findings"], source.finding_lines, strict=False):
            finding["line"] = finding["line"] or line
    group_size = len(groups.members(store, detail["id"])) if store.correlation_member(detail["id"]) else 0
    named = {link["business_key"]: link["id"] for link in detail["links"] if link.get("business_key")}
    return page(request, "document.html", d=detail, source=source, record=record, colleagues=colleagues,
                group_size=group_size, linked=lambda text: linkify(msg_for(request, text), named))


def msg_for(request: Request, text: str) -> str:
    lang = language(request)
    return for_operator(text or "", lang, lambda s: state_label(lang, s))


def linkify(text: str, named: dict[str, str]) -> Markup:
    """The message escaped, with each linked document's key (a COVE, a UUID, a pedimento) as a link to it."""
    out = escape(text)
    for key, document_id in sorted(named.items(), key=lambda kv: -len(kv[0])):
        shown = escape(key)
        if len(key) >= 6 and shown in out:
            out = Markup(out.replace(shown, Markup('<a class="doc-ref" href="/documents/{}">{}</a>').format(
                quote(document_id), shown)))
    return Markup(out)


@guarded()
def group_page(request: Request, user: User, data: FormData | None) -> Response:
    gw = ctx(request).gateway()
    store = gw.store
    doc = store.get(request.path_params["id"])
    if doc is None:
        return refuse(request, 404, "not_found")
    docs = groups.members(store, doc.id)
    rows = [{"doc": d, "waiting": groups.waiting_for(store, d, docs, gw.settings.correlation_timeout)}
            for d in docs]
    return page(request, "group.html", subject=doc, rows=rows, disagreements=groups.disagreements(store, docs),
                rejected=[d.id for d in docs if d.state == "rejected"])


@guarded("operator", form=True)
def group_retry(request: Request, user: User, data: FormData | None) -> Response:
    gw = ctx(request).gateway()
    document_id = request.path_params["id"]
    ids = [d.id for d in groups.members(gw.store, document_id) if d.state == "rejected"]
    outcome = actions.retry(gw, ids, f"web:{user.name}", (_text(data, "reason") or "").strip()[:NOTE_MAX] or None)  # type: ignore[arg-type]
    lang = language(request)
    names = {d.id: d.filename for d in gw.store.documents_by_ids(ids)}
    text = "; ".join(f"{names.get(i, i)}: {state_label(lang, s) if not s.startswith('refused') else s}"
                     for i, s in outcome.items())
    request.session["flash"] = {"ok": True, "text": f"{label(lang, 'retry')}: {for_operator(text, lang)}"}
    return RedirectResponse(f"/groups/{quote(document_id)}", status_code=303)


@guarded()
def download_original(request: Request, user: User, data: FormData | None) -> Response:
    gw = ctx(request).gateway()
    doc = gw.store.get(request.path_params["id"])
    blob = views.original(gw, doc.sha256) if doc else None
    if doc is None or blob is None:
        return refuse(request, 404, "not_found")
    return original_response(doc.filename, blob)


def original_response(filename: str, blob: bytes) -> Response:
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(blob, media_type="application/octet-stream", headers={"Content-Disposition": disposition})


def _after_action(request: Request, document_id: str, message: str, ok: bool) -> Response:
    lang = language(request)
    request.session["flash"] = {"ok": ok, "text": for_operator(message, lang, lambda s: state_label(lang, s))}
    return RedirectResponse(f"/documents/{quote(document_id)}", status_code=303)


@guarded("operator", form=True)
def retry_action(request: Request, user: User, data: FormData | None) -> Response:
    document_id = request.path_params["id"]
    outcome = actions.retry(ctx(request).gateway(), [document_id], f"web:{user.name}",
                            (_text(data, "reason") or "").strip() or None)  # type: ignore[arg-type]
    state = outcome[document_id]
    refused = state.startswith("refused: ")
    return _after_action(request, document_id, state.removeprefix("refused: ") if refused else
                         f"{label(language(request), 'retry')}: {state_label(language(request), state)}", not refused)


@guarded("operator", form=True)
def replace_action(request: Request, user: User, data: FormData | None) -> Response:
    document_id = request.path_params["id"]
    upload = data.get("file") if data else None
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _after_action(request, document_id, "Seleccione el archivo corregido.", False)
    try:
        new_id = actions.replace(ctx(request).gateway(), document_id, upload.filename, upload.file,
                                 f"web:{user.name}", (_text(data, "reason") or "").strip() or None,  # type: ignore[arg-type]
                                 confirm_other=_text(data, "confirm_other_document") == "1")  # type: ignore[arg-type]
    except operations.ActionRefused as exc:
        return _after_action(request, document_id, str(exc), False)
    new = ctx(request).gateway().store.get(new_id)
    lang = language(request)
    return _after_action(request, new_id, f"{label(lang, 'replaces')} {document_id}: "
                         f"{state_label(lang, new.state if new else '?')}", True)


@guarded("operator", form=True)
def discard_action(request: Request, user: User, data: FormData | None) -> Response:
    document_id = request.path_params["id"]
    try:
        actions.discard(ctx(request).gateway(), document_id, f"web:{user.name}",
                        _text(data, "reason") or "")  # type: ignore[arg-type]
    except operations.ActionRefused as exc:
        return _after_action(request, document_id, str(exc), False)
    return _after_action(request, document_id, state_label(language(request), "discarded"), True)


NOTE_MAX = 2000


@guarded("operator", form=True)
def note_action(request: Request, user: User, data: FormData | None) -> Response:
    document_id = request.path_params["id"]
    store = ctx(request).gateway().store
    text = " ".join((_text(data, "note") or "").split())[:NOTE_MAX]  # type: ignore[arg-type]
    if store.get(document_id) is None:
        return refuse(request, 404, "not_found")
    if not text:
        return _after_action(request, document_id, label(language(request), "note_empty"), False)
    store.audit(document_id, f"web:{user.name}", "note", reason=text)
    return _after_action(request, document_id, label(language(request), "note_added"), True)


@guarded("operator", form=True)
def assign_action(request: Request, user: User, data: FormData | None) -> Response:
    document_id = request.path_params["id"]
    store = ctx(request).gateway().store
    lang = language(request)
    if store.get(document_id) is None:
        return refuse(request, 404, "not_found")
    name = (_text(data, "user") or "").strip()  # type: ignore[arg-type]
    if name:
        colleague = store.get_user(name)
        if colleague is None or colleague.disabled:
            return _after_action(request, document_id, label(lang, "unknown_user", name=name), False)
    store.assign(document_id, name or None, f"web:{user.name}")
    return _after_action(request, document_id, label(lang, "assigned", name=name) if name else
                         label(lang, "unassigned"), True)


@guarded("operator", form=True)
def undo_discard_action(request: Request, user: User, data: FormData | None) -> Response:
    document_id = request.path_params["id"]
    try:
        operations.undo_discard(ctx(request).gateway(), document_id, f"web:{user.name}",
                                (_text(data, "reason") or "")[:NOTE_MAX])  # type: ignore[arg-type]
    except operations.ActionRefused as exc:
        return _after_action(request, document_id, str(exc), False)
    return _after_action(request, document_id, label(language(request), "discard_undone"), True)


# overview and users ----------------------------------------------------------------------------------------

@guarded()
def overview_page(request: Request, user: User, data: FormData | None) -> Response:
    days = views._int(request.query_params.get("days"), 7, 1, 90)
    return page(request, "overview.html", o=views.overview(ctx(request).gateway(), days, ctx(request).clock))


@guarded("admin")
def users_page(request: Request, user: User, data: FormData | None) -> Response:
    store = ctx(request).gateway().store
    users = [(u, store.token_count(u.name)) for u in store.list_users()]
    return page(request, "users.html", users=users, roles=auth.ROLES)


@guarded("admin", form=True)
def users_add(request: Request, user: User, data: FormData | None) -> Response:
    store = ctx(request).gateway().store
    try:
        auth.add_user(store, (_text(data, "name") or "").strip(), _text(data, "role") or "",  # type: ignore[arg-type]
                      _text(data, "password") or "")  # type: ignore[arg-type]
        request.session["flash"] = {"ok": True, "text": label(language(request), "add_user") + " ✓"}
    except auth.UserError as exc:
        request.session["flash"] = {"ok": False, "text": str(exc)}
    return RedirectResponse("/users", status_code=303)


routes = [
    Route("/", home),
    Route("/login", login_form, methods=["GET"]),
    Route("/login", login_submit, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/lang/{lang}", switch_language),
    Route("/queue", queue_page),
    Route("/documents/{id}", document_page),
    Route("/documents/{id}/original", download_original),
    Route("/documents/{id}/retry", retry_action, methods=["POST"]),
    Route("/documents/{id}/replace", replace_action, methods=["POST"]),
    Route("/documents/{id}/discard", discard_action, methods=["POST"]),
    Route("/queue/export.csv", export_csv),
    Route("/queue/export.xlsx", export_xlsx),
    Route("/documents/{id}/note", note_action, methods=["POST"]),
    Route("/documents/{id}/assign", assign_action, methods=["POST"]),
    Route("/documents/{id}/undo-discard", undo_discard_action, methods=["POST"]),
    Route("/groups/{id}", group_page),
    Route("/groups/{id}/retry", group_retry, methods=["POST"]),
    Route("/overview", overview_page),
    Route("/users", users_page, methods=["GET"]),
    Route("/users", users_add, methods=["POST"]),
]
