"""The JSON API, /healthz, /metrics, login limits and the ``users`` command, over real HTTP to a real ``serve``."""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

from tests.conftest import run_cli

pytest_plugins = ("tests.web_fixtures",)  # one server for the web tests of the session

XXE = b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<r>&x;</r>\n'


def multipart(fields: dict[str, str], filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
                 f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload(server, document_id: str, filename: str, data: bytes, token: str) -> tuple[int, dict]:
    body, content_type = multipart({"reason": "corregido"}, filename, data)
    status, raw, _ = server.request("POST", f"/api/documents/{document_id}/replace", body,
                                    {"Content-Type": content_type}, token)
    return status, json.loads(raw or b"{}")


def test_api_token_identifies_the_user_and_openapi_describes_every_route(web_server):
    assert web_server.api("GET", "/me", token=web_server.tokens["ana"]) == (200, {"name": "ana", "role": "operator"})
    assert web_server.api("GET", "/me")[0] == 401
    assert web_server.api("GET", "/me", token="igw_falso")[0] == 401
    status, spec = web_server.api("GET", "/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    from gateway.web.api import routes

    documented = {path for path in spec["paths"]}
    assert {r.path for r in routes if r.path != "/openapi.json"} == documented


def test_queue_filters_paging_and_counts(web_server):
    token = web_server.tokens["victor"]
    status, everything = web_server.api("GET", "/documents?per_page=500", token=token)
    assert status == 200
    names = [row["filename"] for row in everything["items"]]
    assert "ok.xml" not in names and {"m3430001.txt", "vacio.xml", "api-retry.xml"} <= set(names)
    assert everything["total"] == len(names)
    received = [row["received_at"] for row in everything["items"]]
    assert received == sorted(received, reverse=True)  # newest first

    first = web_server.api("GET", "/documents?per_page=3", token=token)[1]
    second = web_server.api("GET", "/documents?per_page=3&page=2", token=token)[1]
    assert first["pages"] == -(-everything["total"] // 3)
    assert [r["id"] for r in first["items"] + second["items"]] == [r["id"] for r in everything["items"][:6]]

    counts = {c["code"]: c["documents"] for c in everything["code_counts"]}
    assert counts["FILE-EMPTY"] == 1 and counts["PED-SEQUENCE"] == 1 and counts["XML-MALFORMED"] >= 3
    by_code = web_server.api("GET", "/documents?code=XML-MALFORMED", token=token)[1]
    assert by_code["total"] == counts["XML-MALFORMED"]
    assert all(r["first_error"].startswith("El XML no está bien formado") for r in by_code["items"])
    assert web_server.api("GET", "/documents?kind=cfdi&source=broker-drop", token=token)[1]["total"] >= 5
    assert web_server.api("GET", "/documents?source=otro", token=token)[1]["total"] == 0

    today = datetime.now(UTC).date()
    tomorrow, yesterday = today + timedelta(days=1), today - timedelta(days=1)
    assert web_server.api("GET", f"/documents?from={tomorrow}", token=token)[1]["total"] == 0
    assert web_server.api("GET", f"/documents?to={yesterday}", token=token)[1]["total"] == 0
    assert web_server.api("GET", f"/documents?from={today}&to={today}", token=token)[1]["total"] == everything["total"]

    by_pedimento = web_server.api("GET", "/documents?q=" + web_server.pedimento.replace(" ", ""), token=token)[1]
    assert [r["filename"] for r in by_pedimento["items"]] == ["m3430001.txt"]
    by_rfc = web_server.api("GET", "/documents?q=eku9003173c9", token=token)[1]  # the issuer RFC, lower case
    assert "api-retry.xml" in {r["filename"] for r in by_rfc["items"]} and "vacio.xml" not in str(by_rfc)
    by_name = web_server.api("GET", "/documents?q=api-", token=token)[1]
    assert {r["filename"] for r in by_name["items"]} >= {"api-retry.xml", "api-discard.xml"}


def test_actions_by_token_need_no_csrf_and_viewers_are_refused(web_server):
    ana, victor = web_server.tokens["ana"], web_server.tokens["victor"]
    retry_id = web_server.doc("api-retry.xml")["id"]
    assert web_server.api("POST", f"/documents/{retry_id}/retry", {"reason": "tras corregir"}, victor)[0] == 403
    status, body = web_server.api("POST", f"/documents/{retry_id}/retry", {"reason": "tras corregir"}, ana)
    assert (status, body["state"]) == (200, "rejected")  # the same bytes give the same verdict
    audit = web_server.api("GET", f"/documents/{retry_id}", token=victor)[1]["audit"]
    assert (audit[-2]["action"], audit[-2]["actor"], audit[-2]["reason"]) == ("retry", "api:ana", "tras corregir")

    discard_id = web_server.doc("api-discard.xml")["id"]
    status, body = web_server.api("POST", f"/documents/{discard_id}/discard", {"reason": "  "}, ana)
    assert status == 409 and "motivo" in body["error"]
    assert web_server.api("POST", f"/documents/{discard_id}/discard", {"reason": "duplicado del agente"}, ana) == \
        (200, {"id": discard_id, "state": "discarded"})
    status, body = web_server.api("POST", f"/documents/{discard_id}/discard", {"reason": "otra vez"}, ana)
    assert status == 409 and "discarded" in body["error"]
    assert web_server.api("POST", "/documents/NOPE/retry", {}, ana)[0] == 409
    assert web_server.api("POST", "/retry", {"ids": "no-es-lista"}, ana)[0] == 400
    status, body = web_server.request("POST", f"/api/documents/{discard_id}/discard", b"{no json",
                                      {"Content-Type": "application/json"}, ana)[:2]
    assert status == 400

    status, bulk = web_server.api("POST", "/retry", {"ids": [retry_id, discard_id]}, ana)
    assert status == 200
    results = {r["id"]: r for r in bulk["results"]}
    assert results[retry_id]["state"] == "rejected" and "discarded" in results[discard_id]["error"]


def test_replacement_uploads_go_through_intake_limits_and_xml_safety(web_server, make_invoice):
    ana = web_server.tokens["ana"]
    xxe_target = web_server.doc("api-xxe.xml")["id"]
    status, body = upload(web_server, xxe_target, "../../etc/factura.xml", XXE, ana)
    assert status == 201 and body["state"] == "rejected"
    detail = web_server.api("GET", f"/documents/{body['id']}", token=ana)[1]
    assert detail["filename"] == "factura.xml"  # no path from the upload is kept
    assert [f["code"] for f in detail["findings"]] == ["XML-FORBIDDEN"]
    assert {"role": "replaces", "id": xxe_target} .items() <= detail["links"][0].items()

    big_target = web_server.doc("api-grande.xml")["id"]
    status, body = upload(web_server, big_target, "grande.xml", b"<a>" + b" " * 1_200_000 + b"</a>", ana)
    assert status == 409 and "límite" in body["error"]  # max_file_size is 1MB in the test workspace
    # a body announced larger than the limit is refused before it is read (the client sends only a little,
    # so that the early answer does not meet a broken pipe)
    status, _, _ = web_server.request("POST", f"/api/documents/{big_target}/replace", b"x" * 1000,
                                      {"Content-Type": "application/octet-stream", "Content-Length": "2500000"}, ana)
    assert status == 413
    assert web_server.doc("api-grande.xml")["state"] == "rejected"

    target = web_server.doc("api-replace.xml")["id"]
    status, body = upload(web_server, target, "api-replace-ok.xml", make_invoice(9), ana)
    assert status == 201 and body["replaces_id"] == target and body["state"] == "forwarded"
    old = web_server.api("GET", f"/documents/{target}", token=ana)[1]
    assert old["state"] == "replaced" and old["links"][0]["role"] == "replaced-by"
    assert old["links"][0]["id"] == body["id"]
    new = web_server.api("GET", f"/documents/{body['id']}", token=ana)[1]
    assert new["record"]["uuid"] and new["deliveries"][0]["state"] == "delivered"


def test_overview_counts_by_state_kind_source_and_health(web_server):
    status, overview = web_server.api("GET", "/overview?days=3", token=web_server.tokens["victor"])
    assert status == 200 and overview["days"] == 3
    assert overview["totals"]["rejected"] >= 10 and overview["totals"]["forwarded"] >= 1
    sources = {row["key"]: row for row in overview["by_source"]}
    assert sources["broker-drop"]["total"] == sum(overview["totals"].values())
    assert {c["name"] for c in overview["health"]["components"]} >= {"broker-drop", "inventory"}


def test_download_the_original_bytes(web_server):
    doc = web_server.doc("m3430001.txt")
    status, data, headers = web_server.request("GET", f"/api/documents/{doc['id']}/original",
                                               token=web_server.tokens["victor"])
    assert status == 200 and data == (web_server.root / "inbox" / "processed" / "m3430001.txt").read_bytes()
    assert 'filename="m3430001.txt"' in headers["content-disposition"]


def test_healthz_is_public_and_answers_503_when_degraded(web_server):
    from gateway.store import SqliteStore

    status, body, _ = web_server.request("GET", "/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    store = SqliteStore(web_server.root / "var" / "gateway.db")
    try:
        store.record_health("source", "broker-sftp", False, 3, "connection refused")
        status, body, _ = web_server.request("GET", "/healthz")
        assert status == 503 and json.loads(body)["status"] == "degraded"
        store.record_health("source", "broker-sftp", True, 0)
        assert web_server.request("GET", "/healthz")[0] == 200
    finally:
        store.close()


def test_metrics_need_a_login_or_token(web_server):
    assert web_server.request("GET", "/metrics")[0] == 401
    status, body, headers = web_server.request("GET", "/metrics", token=web_server.tokens["victor"])
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert re.search(rb'immex_documents\{kind="cfdi",state="rejected"\} \d+', body)


class Browserless:
    """A cookie-keeping HTTP client that logs in through the login form, as a browser would."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect())

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.url + path, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def login(self, name: str, password: str) -> tuple[int, str]:
        token = re.search(r'name="csrf_token" value="([^"]+)"', self.get("/login")[1]).group(1)
        data = urllib.parse.urlencode({"username": name, "password": password, "csrf_token": token}).encode()
        try:
            with self.opener.open(self.url + "/login", data=data, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None


def test_login_is_rate_limited_per_user(web_server):
    client = Browserless(web_server.url)
    for _ in range(5):
        assert client.login("rita", "equivocada-0000")[0] == 401
    status, page = client.login("rita", web_server.passwords["rita"])  # even the right password waits now
    assert status == 429 and "Demasiados intentos" in page
    other = Browserless(web_server.url).login("ana", web_server.passwords["ana"])
    assert other[0] == 303  # other users are not locked out


def test_login_form_needs_its_csrf_token(web_server):
    data = urllib.parse.urlencode({"username": "ana", "password": web_server.passwords["ana"]}).encode()
    status = web_server.request("POST", "/login", data, {"Content-Type": "application/x-www-form-urlencoded"})[0]
    assert status == 403


def test_users_command_takes_passwords_from_env_or_file_never_argv(workspace, tmp_path):
    env = {"IMMEX_GATEWAY_PASSWORD": "una-clave-larga-1"}
    assert workspace.cli("users", "add", "luz", "--role", "operator", env=env).returncode == 0
    again = workspace.cli("users", "add", "luz", "--role", "viewer", env=env)
    assert again.returncode == 1 and "ya existe" in again.stderr
    short = workspace.cli("users", "add", "eva", "--role", "viewer", env={"IMMEX_GATEWAY_PASSWORD": "corta"})
    assert short.returncode == 1 and "al menos" in short.stderr
    secret = tmp_path / "clave.txt"
    secret.write_text("clave-en-archivo-99\n")
    assert workspace.cli("users", "add", "eva", "--role", "viewer", "--password-file", str(secret)).returncode == 0
    argv = workspace.cli("users", "add", "mal", "--role", "viewer", "--password", "en-la-linea-de-orden")
    assert argv.returncode == 2
    no_tty = workspace.cli("users", "add", "sin", "--role", "viewer", env={"IMMEX_GATEWAY_PASSWORD": ""})
    assert no_tty.returncode == 1 and "--password-file" in no_tty.stderr
    assert workspace.cli("users", "role", "eva", "disabled").returncode == 0
    listing = workspace.cli("users", "list").stdout
    assert re.search(r"eva\s+viewer .*deshabilitado", listing) and re.search(r"luz\s+operator", listing)
    token = workspace.cli("users", "token", "luz").stdout.strip()
    assert token.startswith("igw_") and token not in (workspace.root / "var" / "gateway.db").read_bytes().decode(
        "latin-1")
    from gateway.store import SqliteStore
    from gateway.web import auth

    store = SqliteStore(workspace.root / "var" / "gateway.db")
    try:
        assert auth.authenticate(store, "luz", "una-clave-larga-1").role == "operator"
        assert auth.authenticate(store, "eva", "clave-en-archivo-99") is None  # disabled
        assert auth.user_for_token(store, token).name == "luz"
        assert store.get_user("luz").password_hash.startswith("scrypt$")
    finally:
        store.close()
    assert run_cli("users", "add", "x", "--role", "root", "-c", str(workspace.config)).returncode == 2
    changed = workspace.cli("users", "password", "luz", env={"IMMEX_GATEWAY_PASSWORD": "otra-clave-larga-2"})
    assert changed.returncode == 0, changed.stderr
    store = SqliteStore(workspace.root / "var" / "gateway.db")
    try:
        assert auth.authenticate(store, "luz", "una-clave-larga-1") is None
        assert auth.authenticate(store, "luz", "otra-clave-larga-2").name == "luz"
    finally:
        store.close()


def test_a_password_change_ends_open_sessions(web_server):
    client = Browserless(web_server.url)
    assert client.login("victor", web_server.passwords["victor"])[0] == 303
    assert client.get("/queue")[0] == 200
    changed = web_server.cli("users", "password", "victor", env={"IMMEX_GATEWAY_PASSWORD": "nueva-clave-larga"})
    assert changed.returncode == 0, changed.stderr
    status, _ = client.get("/queue")
    assert status == 303  # back to the login page
    restored = web_server.cli("users", "password", "victor",
                              env={"IMMEX_GATEWAY_PASSWORD": web_server.passwords["victor"]})
    assert restored.returncode == 0
