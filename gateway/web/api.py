"""The JSON API under ``/api/``: everything the page does, for machines (``Authorization: Bearer`` token)
and for the page itself (session cookie plus an ``X-CSRF-Token`` header on every write).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway import operations
from gateway.store.web_queries import User
from gateway.web import actions, auth, views
from gateway.web.context import csrf_ok, ctx, current_user, log
from gateway.web.openapi import spec
from gateway.web.pages import original_response

Handler = Callable[[Request, User, Any], Response]
MAX_BULK = 1000


def problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def endpoint(role: str = "viewer", write: bool = False,
             body: str | None = None) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Who asks is settled (login or token, its scope, the role, the CSRF token) before the body is read:
    a stranger's upload is refused without being parsed or spooled to disk."""
    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        def allowed(request: Request) -> Response | User:
            user = current_user(request)
            if user is None:
                return problem(401, "Inicie sesión o envíe un token (Authorization: Bearer …). / "
                                    "Log in or send a token.")
            if write and not csrf_ok(request, request.headers.get("x-csrf-token")):
                log.warning("csrf refused", user=user.name, path=request.url.path)
                return problem(403, "Falta el token CSRF (cabecera X-CSRF-Token) o no es válido.")
            need = "act" if write else "read"
            if not auth.scope_allows(request.state.scope, need):
                log.warning("action refused by token scope", user=user.name, scope=request.state.scope,
                            path=request.url.path)
                return problem(403, f"El alcance del token ('{request.state.scope}') no permite esta acción "
                                    f"(se requiere '{need}'). / The token's scope does not allow this.")
            if not auth.has_role(user, role):
                log.warning("action refused by role", user=user.name, role=user.role, path=request.url.path)
                return problem(403, f"El rol '{user.role}' no permite esta acción (se requiere '{role}').")
            return user

        async def run(request: Request) -> Response:
            checked = await run_in_threadpool(allowed, request)
            if isinstance(checked, Response):
                return checked
            payload: Any = None
            if body == "json":
                try:
                    payload = json.loads(await request.body() or b"{}")
                except ValueError:
                    return problem(400, "El cuerpo no es JSON válido.")
                if not isinstance(payload, dict):
                    return problem(400, "El cuerpo debe ser un objeto JSON.")
            elif body == "form":
                payload = await request.form(max_files=1, max_fields=20)
            try:
                return await run_in_threadpool(handler, request, checked, payload)
            except actions.TextTooLong as exc:
                return problem(400, str(exc))
            finally:
                if isinstance(payload, FormData):
                    await payload.close()

        run.__name__ = handler.__name__
        return run
    return wrap


def _reason(payload: dict[str, Any] | FormData) -> str | None:
    value = payload.get("reason")
    return actions.limited(value.strip(), "reason") or None if isinstance(value, str) else None


@endpoint()
def me(request: Request, user: User, payload: Any) -> Response:
    return JSONResponse({"name": user.name, "role": user.role})


@endpoint()
def list_documents(request: Request, user: User, payload: Any) -> Response:
    context = ctx(request)
    if request.query_params.get("q"):
        context.index_search_keys()
    return JSONResponse(views.queue(context.gateway(), request.query_params, context.web.page_size, context.aggregates))


@endpoint()
def get_document(request: Request, user: User, payload: Any) -> Response:
    detail = views.document(ctx(request).gateway(), request.path_params["id"])
    return JSONResponse(detail) if detail else problem(404, "No existe el documento.")


@endpoint()
def get_original(request: Request, user: User, payload: Any) -> Response:
    gw = ctx(request).gateway()
    doc = gw.store.get(request.path_params["id"])
    blob = views.original(gw, doc.sha256) if doc else None
    if doc is None or blob is None:
        return problem(404, "No existe el documento o su original.")
    return original_response(doc.filename, blob)


@endpoint("operator", write=True, body="json")
def retry_one(request: Request, user: User, payload: dict[str, Any]) -> Response:
    document_id = request.path_params["id"]
    outcome = actions.retry(ctx(request).gateway(), [document_id], _actor(request, user), _reason(payload))
    state = outcome[document_id]
    if state.startswith("refused: "):
        return problem(409, state.removeprefix("refused: "))
    return JSONResponse({"id": document_id, "state": state})


@endpoint("operator", write=True, body="json")
def retry_bulk(request: Request, user: User, payload: dict[str, Any]) -> Response:
    ids = payload.get("ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids) or len(ids) > MAX_BULK:
        return problem(400, f"'ids' debe ser una lista de 1 a {MAX_BULK} identificadores.")
    outcome = actions.retry(ctx(request).gateway(), ids, _actor(request, user), _reason(payload))
    results = [{"id": i, "state": s} if not s.startswith("refused: ") else
               {"id": i, "error": s.removeprefix("refused: ")} for i, s in outcome.items()]
    return JSONResponse({"results": results})


@endpoint("operator", write=True, body="form")
def replace(request: Request, user: User, payload: FormData) -> Response:
    document_id = request.path_params["id"]
    upload = payload.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return problem(400, "Falta el archivo corregido (campo 'file').")
    try:
        new_id = actions.replace(ctx(request).gateway(), document_id, upload.filename, upload.file,
                                 _actor(request, user), _reason(payload),
                                 confirm_other=payload.get("confirm_other_document") in ("1", "true", "sí", "si"))
    except operations.ActionRefused as exc:
        return problem(409, str(exc))
    new = ctx(request).gateway().store.get(new_id)
    return JSONResponse({"id": new_id, "replaces_id": document_id, "state": new.state if new else None},
                        status_code=201)


@endpoint("operator", write=True, body="json")
def discard(request: Request, user: User, payload: dict[str, Any]) -> Response:
    document_id = request.path_params["id"]
    try:
        actions.discard(ctx(request).gateway(), document_id, _actor(request, user), _reason(payload) or "")
    except operations.ActionRefused as exc:
        return problem(409, str(exc))
    return JSONResponse({"id": document_id, "state": "discarded"})


@endpoint()
def overview(request: Request, user: User, payload: Any) -> Response:
    days = views._int(request.query_params.get("days"), 7, 1, 90)
    return JSONResponse(views.overview(ctx(request).gateway(), days))


def openapi(request: Request) -> Response:
    return JSONResponse(spec())


def _actor(request: Request, user: User) -> str:
    return f"{'api' if getattr(request.state, 'via_token', False) else 'web'}:{user.name}"


routes = [
    Route("/me", me),
    Route("/documents", list_documents),
    Route("/documents/{id}", get_document),
    Route("/documents/{id}/original", get_original),
    Route("/documents/{id}/retry", retry_one, methods=["POST"]),
    Route("/documents/{id}/replace", replace, methods=["POST"]),
    Route("/documents/{id}/discard", discard, methods=["POST"]),
    Route("/retry", retry_bulk, methods=["POST"]),
    Route("/overview", overview),
    Route("/openapi.json", openapi),
]
