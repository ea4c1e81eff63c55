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
    assert headers["cache-control"] == "no-store"  # neither the browser nor a proxy keeps a customs file
    assert web_server.request("GET", "/api/documents", token=web_server.tokens["victor"])[2]["cache-control"] \
        == "no-store"
    assert "cache-control" not in {k.lower() for k in web_server.request("GET", "/static/app.css")[2]} or \
        web_server.request("GET", "/static/app.css")[2].get("cache-control") != "no-store"


def test_healthz_is_public_and_answers_503_when_degraded_with_details_only_after_login(web_server):
    from gateway.store import SqliteStore

    status, body, headers = web_server.request("GET", "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    assert headers["cache-control"] == "no-store"
    store = SqliteStore(web_server.root / "var" / "gateway.db")
    try:
        store.record_health("source", "broker-sftp", False, 3, "connection refused by sftp://10.1.2.3:22")
        status, body, _ = web_server.request("GET", "/healthz")  # a stranger: the verdict, nothing inside
        assert (status, json.loads(body)) == (503, {"status": "unhealthy"})
        assert b"10.1.2.3" not in body and b"refused" not in body
        status, body, _ = web_server.request("GET", "/healthz", token=web_server.tokens["victor"])
        details = json.loads(body)
        assert status == 503 and details["status"] == "degraded"
        assert "connection refused" in json.dumps(details)  # a logged-in user sees the component and its error
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
    """A cookie-keeping HTTP client that logs in through the login form, as a browser would; ``forwarded_for``
    is the client address a (trusted) proxy would add."""

    def __init__(self, url: str, forwarded_for: str | None = None) -> None:
        self.url = url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())
        if forwarded_for:
            self.opener.addheaders = [("X-Forwarded-For", forwarded_for)]

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.url + path, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        data = urllib.parse.urlencode(fields).encode()
        try:
            with self.opener.open(self.url + path, data=data, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def csrf(self, path: str = "/login") -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', self.get(path)[1]).group(1)

    def login(self, name: str, password: str) -> tuple[int, str]:
        return self.post("/login", {"username": name, "password": password, "csrf_token": self.csrf()})

    def cookie(self) -> str:
        return next(f"{c.name}={c.value}" for c in self.jar if c.name == "immex_session")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None


def test_login_is_throttled_per_user_and_client_not_for_the_real_user(web_server):
    """A guesser from one address slows only their own attempts at that user; the real user, from their own
    address (named by the trusted proxy's X-Forwarded-For), logs in at once."""
    guesser = Browserless(web_server.url, forwarded_for="203.0.113.7")
    for _ in range(5):
        assert guesser.login("rita", "equivocada-0000")[0] == 401
    status, page = guesser.login("rita", web_server.passwords["rita"])  # even the right password waits now
    assert status == 429 and "Demasiados intentos" in page
    real = Browserless(web_server.url, forwarded_for="198.51.100.20")
    assert real.login("rita", web_server.passwords["rita"])[0] == 303  # not locked out by someone else
    # a spoofed header sent through the proxy does not escape: the proxy appends the real client last
    spoofed = Browserless(web_server.url, forwarded_for="198.51.100.20, 203.0.113.7")
    assert spoofed.login("rita", web_server.passwords["rita"])[0] == 429
    other = Browserless(web_server.url, forwarded_for="203.0.113.7").login("ana", web_server.passwords["ana"])
    assert other[0] == 303  # other users are not slowed from that address either


def test_x_forwarded_for_is_believed_only_from_trusted_proxies():
    """Against the real request handling: a peer not in ``[web] trusted_proxies`` cannot name its address."""
    from starlette.requests import Request

    from gateway.web.context import client_address

    class App:
        class state:  # noqa: N801 - the shape of Starlette's app.state
            class ctx:  # noqa: N801
                proxies = [__import__("ipaddress").ip_network("10.0.0.5")]

    def request(peer: str, forwarded: str) -> Request:
        return Request({"type": "http", "app": App, "client": (peer, 5000), "method": "GET", "path": "/",
                        "headers": [(b"x-forwarded-for", forwarded.encode())]})

    assert client_address(request("192.0.2.9", "1.2.3.4")) == "192.0.2.9"  # anyone's claim: ignored
    assert client_address(request("10.0.0.5", "1.2.3.4")) == "1.2.3.4"
    assert client_address(request("10.0.0.5", "6.6.6.6, 1.2.3.4")) == "1.2.3.4"  # only the proxy's own hop
    assert client_address(request("10.0.0.5", "")) == "10.0.0.5"


def test_login_form_needs_its_csrf_token(web_server):
    data = urllib.parse.urlencode({"username": "ana", "password": web_server.passwords["ana"]}).encode()
    status = web_server.request("POST", "/login", data, {"Content-Type": "application/x-www-form-urlencoded"})[0]
    assert status == 403


def test_users_command_takes_passwords_from_env_or_file_never_argv(workspace, tmp_path):
    env = {"IMMEX_GATEWAY_PASSWORD": "una-clave-larga-1"}
    assert workspace.cli("users", "add", "luz", "--role", "operator", env=env).returncode == 0
    again = workspace.cli("users", "add", "luz", "--role", "viewer", env=env)
    assert again.returncode == 1 and "ya existe" in again.stderr
    short = workspace.cli("users", "add", "eva", "--role", "viewer", env={"IMMEX_GATEWAY_PASSWORD": "once-letras"})
    assert short.returncode == 1 and "al menos 12" in short.stderr  # 11 characters
    common = workspace.cli("users", "add", "eva", "--role", "viewer", env={"IMMEX_GATEWAY_PASSWORD": "Password1234"})
    assert common.returncode == 1 and "comunes" in common.stderr  # in the shipped list, whatever the case
    own_name = workspace.cli("users", "add", "evangelina", "--role", "viewer",
                             env={"IMMEX_GATEWAY_PASSWORD": "Evangelina-2026"})
    assert own_name.returncode == 1 and "comunes" in own_name.stderr
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
        assert auth.user_for_token(store, token)[0].name == "luz"
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


def _replay(web_server, cookie: str, path: str = "/queue") -> int:
    """The old cookie sent again by hand, as an attacker who copied it would (redirects not followed)."""
    opener = urllib.request.build_opener(_NoRedirect())
    try:
        with opener.open(urllib.request.Request(web_server.url + path, headers={"Cookie": cookie}), timeout=60) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_logout_password_change_and_disabling_end_a_session_at_once(web_server):
    client = Browserless(web_server.url)
    assert client.login("sesiones", web_server.passwords["sesiones"])[0] == 303
    cookie = client.cookie()
    assert _replay(web_server, cookie) == 200 and _replay(web_server, cookie, "/api/me") == 200
    assert client.post("/logout", {"csrf_token": client.csrf("/queue")})[0] == 303
    assert _replay(web_server, cookie) == 303  # the copied cookie is refused: back to the login page
    assert _replay(web_server, cookie, "/api/me") == 401

    client = Browserless(web_server.url)
    assert client.login("sesiones", web_server.passwords["sesiones"])[0] == 303
    cookie = client.cookie()
    changed = web_server.cli("users", "password", "sesiones", env={"IMMEX_GATEWAY_PASSWORD": "otra-clave-de-sesion"})
    assert changed.returncode == 0, changed.stderr
    assert _replay(web_server, cookie, "/api/me") == 401
    restored = web_server.cli("users", "password", "sesiones",
                              env={"IMMEX_GATEWAY_PASSWORD": web_server.passwords["sesiones"]})
    assert restored.returncode == 0

    client = Browserless(web_server.url)
    assert client.login("sesiones", web_server.passwords["sesiones"])[0] == 303
    cookie = client.cookie()
    assert web_server.cli("users", "role", "sesiones", "disabled").returncode == 0
    assert _replay(web_server, cookie, "/api/me") == 401
    assert web_server.cli("users", "role", "sesiones", "enabled").returncode == 0
    assert _replay(web_server, cookie, "/api/me") == 401  # re-enabling does not revive the old session
    assert Browserless(web_server.url).login("sesiones", web_server.passwords["sesiones"])[0] == 303


def test_tokens_have_a_scope_an_expiry_and_die_with_the_password_or_the_user(web_server):
    def token(*args: str) -> str:
        made = web_server.cli("users", "token", "sesiones", *args)
        assert made.returncode == 0, made.stderr
        return made.stdout.strip()

    metrics, reader, actor = token("--scope", "metrics", "--label", "prometheus"), token(), token("--scope", "act")
    target = web_server.doc("api-metrics-discard.xml")["id"]
    status, body = web_server.api("POST", f"/documents/{target}/discard", {"reason": "desde prometheus"}, metrics)
    assert status == 403 and "alcance" in body["error"]  # the Prometheus token cannot discard
    assert web_server.api("GET", "/documents", token=metrics)[0] == 403  # nor read the queue
    assert web_server.request("GET", "/metrics", token=metrics)[0] == 200
    assert web_server.api("POST", f"/documents/{target}/discard", {"reason": "solo lectura"}, reader)[0] == 403
    assert web_server.api("GET", f"/documents/{target}", token=reader)[0] == 200
    assert web_server.doc("api-metrics-discard.xml")["state"] == "rejected"

    expired = token("--expires", "0s")
    assert web_server.api("GET", "/me", token=expired)[0] == 401

    listing = web_server.cli("users", "tokens", "sesiones").stdout
    assert re.search(r"\bsesiones\s+metrics\s+prometheus .*activo", listing)
    assert "caducado" in listing
    revoke_id = next(line.split()[0] for line in listing.splitlines() if " prometheus " in line)
    assert web_server.cli("users", "tokens", "--revoke", revoke_id).returncode == 0
    assert web_server.request("GET", "/metrics", token=metrics)[0] == 401
    assert "revocado" in web_server.cli("users", "tokens", "sesiones").stdout

    assert web_server.api("GET", "/me", token=actor)[0] == 200
    assert web_server.cli("users", "role", "sesiones", "disabled").returncode == 0
    assert web_server.api("GET", "/me", token=actor)[0] == 401
    assert web_server.cli("users", "role", "sesiones", "enabled").returncode == 0
    assert web_server.api("GET", "/me", token=actor)[0] == 401  # re-enabling the user does not revive tokens
    fresh = token("--scope", "act")
    assert web_server.api("GET", "/me", token=fresh)[0] == 200
    changed = web_server.cli("users", "password", "sesiones", env={"IMMEX_GATEWAY_PASSWORD": "clave-nueva-de-tokens"})
    assert changed.returncode == 0
    assert web_server.api("GET", "/me", token=fresh)[0] == 401 and web_server.api("GET", "/me", token=reader)[0] == 401
    web_server.cli("users", "password", "sesiones", env={"IMMEX_GATEWAY_PASSWORD": web_server.passwords["sesiones"]})


def test_replace_by_a_copy_of_a_forwarded_document_is_a_duplicate_never_delivered_again(web_server):
    ana = web_server.tokens["ana"]
    target = web_server.doc("api-copia.xml")["id"]
    forwarded = (web_server.root / "inbox" / "processed" / "ok.xml").read_bytes()
    delivered_before = sorted(p.name for p in (web_server.root / "outbox").rglob("*") if p.is_file())
    status, body = upload(web_server, target, "copia-de-ok.xml", forwarded, ana)
    assert status == 409 and body["error"].startswith("Duplicado") and web_server.doc("ok.xml")["id"] in body["error"]
    assert web_server.doc("api-copia.xml")["state"] == "rejected"
    assert sorted(p.name for p in (web_server.root / "outbox").rglob("*") if p.is_file()) == delivered_before
    assert "copia-de-ok.xml" not in web_server.documents()


def test_replace_by_another_document_needs_a_confirmation_that_the_audit_records(web_server, make_invoice):
    ana = web_server.tokens["ana"]
    target = web_server.doc("api-otro.xml")["id"]
    other = make_invoice(16)  # a valid invoice with its own UUID
    status, body = upload(web_server, target, "otra-factura.xml", other, ana)
    assert status == 409 and "otro documento" in body["error"] and "confirm" in body["error"]
    assert web_server.doc("api-otro.xml")["state"] == "rejected"

    form, content_type = multipart({"reason": "el agente mandó la factura equivocada",
                                    "confirm_other_document": "1"}, "otra-factura.xml", other)
    status, raw, _ = web_server.request("POST", f"/api/documents/{target}/replace", form,
                                        {"Content-Type": content_type}, ana)
    body = json.loads(raw)
    assert status == 201 and body["state"] == "forwarded"
    audit = web_server.api("GET", f"/documents/{target}", token=ana)[1]["audit"]
    replaced = next(a for a in audit if a["action"] == "replace")
    assert replaced["actor"] == "api:ana" and replaced["detail"]["other_document"] is True
    assert replaced["detail"]["before"] != replaced["detail"]["after"]
    assert replaced["detail"]["after"][0].startswith("UUID ")


def test_uploads_are_refused_before_parsing_without_a_login_and_reasons_are_limited(web_server):
    target = web_server.doc("api-retry.xml")["id"]
    body, content_type = multipart({"reason": "x"}, "anonimo.xml", b"<a/>" * 100_000)
    staging = web_server.root / "var" / "staging"
    before = sorted(staging.rglob("*")) if staging.exists() else []
    status, raw, _ = web_server.request("POST", f"/api/documents/{target}/replace", body,
                                        {"Content-Type": content_type})
    assert status == 401 and "token" in json.loads(raw)["error"]
    assert (sorted(staging.rglob("*")) if staging.exists() else []) == before
    status, answer = web_server.api("POST", f"/documents/{target}/retry", {"reason": "r" * 501},
                                    web_server.tokens["ana"])
    assert status == 400 and "500" in answer["error"]
    audit = web_server.api("GET", f"/documents/{target}", token=web_server.tokens["ana"])[1]["audit"]
    assert all(len(a["reason"] or "") <= 500 for a in audit)


def test_the_store_and_the_archive_are_the_owners_alone(web_server):
    var = web_server.root / "var"
    if (var / "gateway.db").exists():  # the SQLite store (a PostgreSQL run keeps its rows in the server)
        assert (var / "gateway.db").stat().st_mode & 0o777 == 0o600
    archive = next(p for p in var.iterdir() if p.is_dir() and any(c.is_dir() and len(c.name) == 2 for c in p.iterdir()))
    assert archive.stat().st_mode & 0o777 == 0o700
    assert all(p.stat().st_mode & 0o777 == (0o700 if p.is_dir() else 0o600) for p in archive.rglob("*"))


def test_the_session_cookie_is_secure_unless_plain_http_on_loopback_is_said(web_server):
    client = Browserless(web_server.url)
    assert client.login("victor", web_server.passwords["victor"])[0] == 303
    assert not next(c for c in client.jar if c.name == "immex_session").secure  # cookie_secure = false, loopback
    refused = run_cli("serve", "-c", str(web_server.config), "--host", "0.0.0.0", "--port", "1")
    assert refused.returncode != 0 and "web.cookie_secure" in refused.stderr
    from gateway.web.settings import WebSettings

    assert WebSettings().cookie_secure is True
