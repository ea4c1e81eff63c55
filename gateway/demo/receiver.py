"""``immex-gateway receiver``: a small reference implementation of the inventory API (docs/api/openapi.yaml).

It stores every document it accepts in SQLite, once per ``Idempotency-Key``: 201 the first
time, 409 afterwards. It is what the tests, the demo and the benchmark deliver to, and a
starting point for the inventory system's developers. For tests it can misbehave on purpose
(``--fail-rate``/``--fail-status``/``--retry-after``, ``--delay``, ``--drop-rate``, also
changed at run time with ``PUT /_admin/faults``):

- fail: answer ``fail_status`` (500, 503, 429 with ``Retry-After``…) without storing;
- delay: sleep before answering (a client with a shorter timeout gives up; the document is
  stored all the same, the way a slow real server commits and answers late);
- drop: store the document, then close the connection without answering (the answer is lost).

``GET /_admin/stats`` reports what was stored and how often a key came again (``replays``);
``duplicates`` counts business documents (CFDI UUID) stored under more than one key — a real
duplicate effect — and must stay 0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import sqlite3
import ssl
import threading
import time
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MAX_BODY = 25 * 10**6
FAULT_KEYS = {"fail_rate": float, "fail_status": int, "retry_after": float, "delay": float, "delay_rate": float,
              "drop_rate": float}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    idempotency_key TEXT PRIMARY KEY,
    kind            TEXT,
    business_key    TEXT,
    body            TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    replays         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS documents_business_key ON documents (business_key);
CREATE TABLE IF NOT EXISTS requests (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              TEXT NOT NULL,
    idempotency_key TEXT,
    status          INTEGER NOT NULL,
    outcome         TEXT NOT NULL
);
"""


class ReceiverDb:
    """The receiver's SQLite file; one connection guarded by a lock (the server is threaded)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def store(self, key: str, kind: str | None, business_key: str | None, body: str) -> bool:
        """True if stored now, False if the key was already there (its replay is counted)."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO documents (idempotency_key, kind, business_key, body, received_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (idempotency_key) DO UPDATE SET replays = replays + 1 RETURNING replays",
                (key, kind, business_key, body, _now()))
            return cursor.fetchone()[0] == 0

    def log(self, key: str | None, status: int, outcome: str) -> None:
        with self._lock:
            self._db.execute("INSERT INTO requests (at, idempotency_key, status, outcome) VALUES (?, ?, ?, ?)",
                             (_now(), key, status, outcome))

    def get(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM documents WHERE idempotency_key = ?", (key,)).fetchone()
        return row[0] if row else None

    def stats(self) -> dict[str, Any]:
        with self._lock:
            stored, replays = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(replays), 0) FROM documents").fetchone()
            duplicates = self._db.execute(
                "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM documents "
                "WHERE business_key IS NOT NULL GROUP BY kind, business_key HAVING n > 1)").fetchone()[0]
            outcomes = dict(self._db.execute("SELECT outcome, COUNT(*) FROM requests GROUP BY outcome").fetchall())
        return {"stored": stored, "replays": replays, "duplicates": duplicates, "requests": outcomes}

    def close(self) -> None:
        self._db.close()


class Faults:
    """What the receiver does wrong on purpose, changeable while it runs."""

    def __init__(self, seed: int | None = None, **values: Any) -> None:
        self.fail_rate, self.fail_status, self.retry_after = 0.0, 500, None
        self.delay, self.delay_rate, self.drop_rate = 0.0, 1.0, 0.0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.update(values)

    def update(self, values: dict[str, Any]) -> None:
        with self._lock:
            for key, value in values.items():
                if key not in FAULT_KEYS:
                    raise ValueError(f"unknown fault '{key}' (known: {', '.join(sorted(FAULT_KEYS))})")
                setattr(self, key, None if value is None else FAULT_KEYS[key](value))

    def roll(self, rate: float) -> bool:
        with self._lock:
            return rate > 0 and self._rng.random() < rate

    def to_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in FAULT_KEYS}


class Handler(BaseHTTPRequestHandler):
    server: ReceiverServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall per answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.verbose:
            super().log_message(format, *args)

    # routes ----------------------------------------------------------------------------------------------

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        if self.path.rstrip("/") == "/documents/batch":
            return self._batch()
        if self.path.rstrip("/") != "/documents":
            return self._json(404, {"error": "not found"})
        if not self._authorised():
            return self._json(401, {"error": "missing or wrong bearer token"})
        key = self.headers.get("Idempotency-Key")
        body = self._body()
        if body is None:
            return None
        faults = self.server.faults
        if faults.roll(faults.fail_rate):
            headers = {"Retry-After": f"{faults.retry_after:g}"} if faults.retry_after is not None else {}
            self.server.db.log(key, faults.fail_status, "fault")
            return self._json(faults.fail_status, {"error": "injected failure"}, headers)
        document, problem = _check(body, key)
        if problem:
            self.server.db.log(key, 422 if document is not None else 400, "refused")
            return self._json(422 if document is not None else 400, {"error": problem})
        slow = faults.delay > 0 and faults.roll(faults.delay_rate)
        created = self.server.db.store(key, document.get("kind"), _business_key(document),
                                       body.decode("utf-8"))
        status = 201 if created else 409
        self.server.db.log(key, status, "created" if created else "replay")
        if slow:
            self.server.db.log(key, status, "delayed")
            time.sleep(faults.delay)
        if faults.roll(faults.drop_rate):
            self.server.db.log(key, 0, "dropped")
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        return self._json(status, {"id": key, "status": "created" if created else "already-received"},
                          {"Location": f"/documents/{key}"})

    def _batch(self) -> None:
        """``{"documents": [...]}`` → 207 ``{"results": [{"id", "status", "error"?}]}``, each as a single POST."""
        if not self._authorised():
            return self._json(401, {"error": "missing or wrong bearer token"})
        body = self._body()
        if body is None:
            return None
        try:
            documents = json.loads(body)["documents"]
            assert isinstance(documents, list)
        except (ValueError, KeyError, TypeError, AssertionError):
            self.server.db.log(None, 400, "refused")
            return self._json(400, {"error": "body must be {\"documents\": [...]}"})
        faults, results = self.server.faults, []
        self.server.db.log(None, 207, "batch")
        for document in documents:
            key = document.get("id") if isinstance(document, dict) else None
            if faults.roll(faults.fail_rate):
                self.server.db.log(key, faults.fail_status, "fault")
                result = {"id": key, "status": faults.fail_status, "error": "injected failure"}
                if faults.retry_after is not None:
                    result["retry_after"] = f"{faults.retry_after:g}"
                results.append(result)
                continue
            text = json.dumps(document, ensure_ascii=False)
            checked, problem = _check(text.encode("utf-8"), key)
            if problem:
                self.server.db.log(key, 422, "refused")
                results.append({"id": key, "status": 422, "error": problem})
                continue
            created = self.server.db.store(key, checked.get("kind"), _business_key(checked), text)
            self.server.db.log(key, 201 if created else 409, "created" if created else "replay")
            results.append({"id": key, "status": 201 if created else 409})
        if faults.delay > 0 and faults.roll(faults.delay_rate):
            self.server.db.log(None, 207, "delayed")
            time.sleep(faults.delay)
        if faults.roll(faults.drop_rate):
            self.server.db.log(None, 0, "dropped")
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        return self._json(207, {"results": results})

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/_admin/stats":
            return self._json(200, self.server.db.stats() | {"faults": self.server.faults.to_dict()})
        if self.path == "/healthz":
            return self._json(200, {"status": "ok"})
        if self.path.startswith("/documents/"):
            if not self._authorised():
                return self._json(401, {"error": "missing or wrong bearer token"})
            body = self.server.db.get(self.path[len("/documents/"):])
            if body is None:
                return self._json(404, {"error": "not found"})
            return self._send(200, body.encode("utf-8"))
        return self._json(404, {"error": "not found"})

    def do_PUT(self) -> None:  # noqa: N802
        if self.path != "/_admin/faults":
            return self._json(404, {"error": "not found"})
        body = self._body()
        if body is None:
            return None
        try:
            self.server.faults.update(json.loads(body or b"{}"))
        except (ValueError, TypeError) as exc:
            return self._json(400, {"error": str(exc)})
        return self._json(200, self.server.faults.to_dict())

    # helpers ---------------------------------------------------------------------------------------------

    def _authorised(self) -> bool:
        token = self.server.token
        return token is None or self.headers.get("Authorization") == f"Bearer {token}"

    def _body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._json(413 if length > 0 else 400, {"error": "bad Content-Length"})
            return None
        return self.rfile.read(length)

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers)

    def _send(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status, HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "")
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], db: ReceiverDb, faults: Faults, token: str | None = None,
                 verbose: bool = False, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(address, Handler)
        self.db, self.faults, self.token, self.verbose = db, faults, token, verbose
        if tls is not None:  # the handshake happens in the request's thread, not in the accept loop
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.verbose:
            super().handle_error(request, client_address)


def tls_context(cert: Path, key: Path, client_ca: Path | None = None) -> ssl.SSLContext:
    """Server TLS; with ``client_ca`` every client must present a certificate it signed (mTLS)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(str(client_ca))
    return context


def _check(body: bytes, key: str | None) -> tuple[dict[str, Any] | None, str | None]:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, "body is not JSON"
    if not isinstance(document, dict):
        return None, "body must be a JSON object"
    if not key:
        return document, "Idempotency-Key header is required"
    if document.get("id") != key:
        return document, "Idempotency-Key must equal the document id"
    missing = [name for name in ("id", "kind", "model_version", "source", "record") if name not in document]
    if missing:
        return document, f"missing fields: {', '.join(missing)}"
    return document, None


def _business_key(document: dict[str, Any]) -> str | None:
    record = document.get("record") or {}
    return record.get("uuid") or record.get("business_key") if isinstance(record, dict) else None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900, help="0 picks a free port (printed on start)")
    parser.add_argument("--db", type=Path, default=Path("receiver.db"), help="SQLite file for received documents")
    parser.add_argument("--token-env", default=None, help="require Authorization: Bearer <value of this variable>")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of POSTs answered with --fail-status")
    parser.add_argument("--fail-status", type=int, default=500)
    parser.add_argument("--retry-after", type=float, default=None, help="Retry-After seconds sent with failures")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before answering")
    parser.add_argument("--delay-rate", type=float, default=1.0, help="share of POSTs delayed")
    parser.add_argument("--drop-rate", type=float, default=0.0, help="share stored but never answered")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--tls-cert", type=Path, default=None, help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", type=Path, default=None, help="private key of --tls-cert (PEM)")
    parser.add_argument("--tls-client-ca", type=Path, default=None, help="require client certificates from this CA")
    parser.add_argument("--verbose", action="store_true", help="log every request")


def serve(args: argparse.Namespace) -> int:
    token = None
    if args.token_env:
        token = os.environ.get(args.token_env)
        if not token:
            print(f"receiver: environment variable {args.token_env} is not set", flush=True)
            return 2
    faults = Faults(args.seed, fail_rate=args.fail_rate, fail_status=args.fail_status,
                    retry_after=args.retry_after, delay=args.delay, delay_rate=args.delay_rate,
                    drop_rate=args.drop_rate)
    db = ReceiverDb(args.db)
    tls = tls_context(args.tls_cert, args.tls_key, args.tls_client_ca) if args.tls_cert else None
    server = ReceiverServer((args.host, args.port), db, faults, token, args.verbose, tls)
    host, port = server.server_address[:2]
    scheme = "https" if tls else "http"
    print(json.dumps({"listening": f"{scheme}://{host}:{port}/documents", "db": str(args.db)}), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        db.close()
    return 0
