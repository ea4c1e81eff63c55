"""The OpenAPI 3.1 description of ``/api/`` (served at ``/api/openapi.json``)."""

from __future__ import annotations

from typing import Any

_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_ERROR = {"description": "refused", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_REFUSALS = {"401": _ERROR, "403": _ERROR}
_REASON = {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 500}}}


def _json(schema: dict[str, Any], description: str = "ok") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def spec() -> dict[str, Any]:
    query = [{"name": n, "in": "query", "required": False, "schema": {"type": t}, "description": d} for n, t, d in (
        ("state", "string", "document state (default rejected)"),
        ("kind", "string", "document kind (cfdi, pedimento, cove, …)"),
        ("source", "string", "source name"),
        ("code", "string", "finding code, e.g. CFDI-SEAL"),
        ("from", "string", "received on or after this date (YYYY-MM-DD, UTC)"),
        ("to", "string", "received on or before this date (YYYY-MM-DD, UTC)"),
        ("q", "string", "file name, UUID, pedimento number, RFC or document id"),
        ("page", "integer", "page number, from 1"),
        ("per_page", "integer", "rows per page (at most 500)"),
    )]
    write: dict[str, Any] = {"security": [{"bearer": []}, {"cookie": [], "csrf": []}]}
    return {
        "openapi": "3.1.0",
        "info": {"title": "immex-gateway", "version": "1",
                 "description": "The rejected-document queue and its actions. Machines authenticate with "
                                "`Authorization: Bearer <token>` (`immex-gateway users token NAME`); the web page "
                                "uses its session cookie and sends `X-CSRF-Token` on every write."},
        "servers": [{"url": "/api"}],
        "security": [{"bearer": []}, {"cookie": []}],
        "paths": {
            "/me": {"get": {"summary": "who is asking", "responses": {"200": _json(_ref("User")), **_REFUSALS}}},
            "/documents": {"get": {"summary": "the queue, newest first, filtered and paged", "parameters": query,
                                   "responses": {"200": _json(_ref("Queue")), **_REFUSALS}}},
            "/documents/{id}": {"get": {
                "summary": "one document: findings by severity, canonical record, links, deliveries, audit trail",
                "parameters": [_ID], "responses": {"200": _json(_ref("Document")), "404": _ERROR, **_REFUSALS}}},
            "/documents/{id}/original": {"get": {
                "summary": "the original bytes as received", "parameters": [_ID],
                "responses": {"200": {"description": "the file",
                                      "content": {"application/octet-stream": {}}}, "404": _ERROR}}},
            "/documents/{id}/retry": {"post": {
                "summary": "process again (or re-deliver a dead letter); role operator", **write,
                "parameters": [_ID], "requestBody": {"content": {"application/json": {"schema": _REASON}}},
                "responses": {"200": _json(_ref("StateChange")), "409": _ERROR, **_REFUSALS}}},
            "/documents/{id}/replace": {"post": {
                "summary": "take a corrected file in place of a rejected one; role operator", **write,
                "parameters": [_ID], "requestBody": {"required": True, "content": {"multipart/form-data": {
                    "schema": {"type": "object", "required": ["file"], "properties": {
                        "file": {"type": "string", "format": "binary"}, "reason": {"type": "string", "maxLength": 500},
                        "confirm_other_document": {"type": "string", "enum": ["1"], "description":
                                                   "the file is another document (other UUID or pedimento)"}}}}}},
                "responses": {"201": _json(_ref("StateChange"), "the new document"), "409": _ERROR,
                              "413": {"description": "larger than the request limit"}, **_REFUSALS}}},
            "/documents/{id}/discard": {"post": {
                "summary": "discard with a mandatory reason; role operator", **write, "parameters": [_ID],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {**_REASON, "required": ["reason"]}}}},
                "responses": {"200": _json(_ref("StateChange")), "409": _ERROR, **_REFUSALS}}},
            "/retry": {"post": {
                "summary": "bulk retry of a selection (e.g. after a schema or configuration fix); role operator",
                **write, "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["ids"], "properties": {
                        "ids": {"type": "array", "items": {"type": "string"}, "maxItems": 1000},
                        "reason": {"type": "string"}}}}}},
                "responses": {"200": _json({"type": "object", "properties": {"results": {"type": "array", "items": {
                    "type": "object", "properties": {"id": {"type": "string"}, "state": {"type": "string"},
                                                     "error": {"type": "string"}}}}}}), "400": _ERROR,
                              **_REFUSALS}}},
            "/overview": {"get": {"summary": "documents by day, kind and source and state; health of sources "
                                             "and sinks; IMMEX return deadlines within 90 days (immex)",
                                  "parameters": [{"name": "days", "in": "query",
                                                                          "schema": {"type": "integer"}}],
                                  "responses": {"200": _json({"type": "object"}), **_REFUSALS}}},
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "an API token; scope read (GETs), metrics (/metrics only) or act"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "immex_session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
            },
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "string"}}},
                "User": {"type": "object", "properties": {"name": {"type": "string"},
                                                          "role": {"enum": ["viewer", "operator", "admin"]}}},
                "StateChange": {"type": "object", "properties": {"id": {"type": "string"},
                                                                 "state": {"type": "string"},
                                                                 "replaces_id": {"type": "string"}}},
                "Summary": {"type": "object", "properties": {k: {"type": ["string", "integer", "null"]} for k in (
                    "id", "kind", "state", "source", "filename", "sha256", "size", "received_at", "updated_at",
                    "duplicate_of", "replaces_id", "business_key", "error_count", "first_error",
                    "finding_count")}},
                "Finding": {"type": "object", "properties": {
                    "code": {"type": "string"}, "severity": {"enum": ["error", "warning", "info"]},
                    "message": {"type": "string"}, "location": {"type": "object"}, "sat_code": {"type": "string"},
                    "line": {"type": ["integer", "null"]}}},
                "Queue": {"type": "object", "properties": {
                    "total": {"type": "integer"}, "page": {"type": "integer"}, "pages": {"type": "integer"},
                    "per_page": {"type": "integer"}, "filter": {"type": "object"},
                    "items": {"type": "array", "items": _ref("Summary")},
                    "code_counts": {"type": "array", "items": {"type": "object", "properties": {
                        "code": {"type": "string"}, "documents": {"type": "integer"}}}},
                    "facets": {"type": "object"}}},
                "Document": {"allOf": [_ref("Summary"), {"type": "object", "properties": {
                    "findings": {"type": "array", "items": _ref("Finding")},
                    "record": {"type": ["object", "null"]},
                    "links": {"type": "array", "items": {"type": "object", "properties": {
                        "role": {"type": "string", "description": "part-of, part, attachment, replaces, "
                                 "replaced-by, duplicate-of, duplicate, cancels, cancelled-by, resend-of, or a "
                                 "correlation role"},
                        "id": {"type": "string"}, "kind": {"type": ["string", "null"]},
                        "state": {"type": "string"}, "filename": {"type": "string"}}}},
                    "deliveries": {"type": "array", "items": {"type": "object"}},
                    "audit": {"type": "array", "items": {"type": "object", "properties": {
                        "at": {"type": "string"}, "actor": {"type": "string"}, "action": {"type": "string"},
                        "from_state": {"type": ["string", "null"]}, "to_state": {"type": ["string", "null"]},
                        "reason": {"type": ["string", "null"]}}}}}}]},
            },
        },
    }
