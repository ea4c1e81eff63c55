"""What an operator who writes no ``[web]`` keys gets, over real HTTP to a real ``serve``: a ``Secure`` session
cookie, and bodies capped before anything parses them (1 MiB, except the upload of a corrected file).

The shared web server of the other API tests says ``cookie_secure = false`` (plain HTTP on loopback); this one
shows the default: a cookie that a browser or an HTTP client keeps for HTTPS only, so a login made over plain
HTTP is never carried back in clear text.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import REPO
from tests.web_fixtures import free_port, wait_ready

PASSWORD = "cookie-solo-por-https-7"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        return None


def _open(opener: urllib.request.OpenerDirector,
          request: urllib.request.Request) -> tuple[int, dict[str, str], list[str], str]:
    """Status, headers (lower-case names), the Set-Cookie lines and the body, whatever the status."""
    try:
        response = opener.open(request, timeout=60)
    except urllib.error.HTTPError as exc:
        response = exc
    with response:
        headers = {k.lower(): v for k, v in response.headers.items()}
        return response.status, headers, response.headers.get_all("set-cookie") or [], response.read().decode()


@dataclass
class DefaultServer:
    url: str
    token: str  # lupita's, a viewer, scope read
    metrics_token: str  # osvaldo's, an operator, scope metrics (what Prometheus is given)
    act_token: str  # osvaldo's, scope act
    rejected_id: str  # a document in the queue
    workspace: object


@pytest.fixture(scope="module")
def default_server(tmp_path_factory, identities) -> Iterator[DefaultServer]:
    from gateway.demo.generate.cfdi import write_certificate
    from tests.conftest import Workspace, write_config

    root = tmp_path_factory.mktemp("defaults")
    write_certificate(identities[1], root / "certs")
    (root / "inbox").mkdir()
    workspace = Workspace(root, write_config(root))
    assert "[web]" not in workspace.config.read_text(encoding="utf-8")  # nothing said: the defaults
    added = workspace.cli("users", "add", "lupita", "--role", "viewer", env={"IMMEX_GATEWAY_PASSWORD": PASSWORD})
    assert added.returncode == 0, added.stderr
    token = workspace.cli("users", "token", "lupita", "--scope", "read").stdout.strip()
    added = workspace.cli("users", "add", "osvaldo", "--role", "operator", env={"IMMEX_GATEWAY_PASSWORD": PASSWORD})
    assert added.returncode == 0, added.stderr
    metrics_token = workspace.cli("users", "token", "osvaldo", "--scope", "metrics", "--label", "prometheus").stdout
    act_token = workspace.cli("users", "token", "osvaldo", "--scope", "act").stdout.strip()
    (root / "inbox" / "rota.xml").write_bytes(b"<cfdi")  # XML-MALFORMED: rejected, in the queue
    assert workspace.cli("run", "--once").returncode in (0, 1)
    [rejected] = [d["id"] for d in workspace.documents() if d["state"] == "rejected"]
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "-c", str(workspace.config), "--port",
                                str(port)], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
        yield DefaultServer(f"http://127.0.0.1:{port}", token, metrics_token.strip(), act_token, rejected,
                            workspace)
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_without_cookie_secure_the_session_cookie_is_secure_and_not_sent_back_over_plain_http(default_server):
    url = default_server.url
    # the attempt: log in over plain HTTP, as a client that keeps cookies the standard way
    jar = http.cookiejar.CookieJar()
    client = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    status, _, cookies, page = _open(client, urllib.request.Request(url + "/login"))
    assert status == 200
    [first] = [c for c in cookies if c.startswith("immex_session=")]
    assert "secure" in first.lower()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"username": "lupita", "password": PASSWORD, "csrf_token": csrf}).encode()
    status, _, _, _ = _open(client, urllib.request.Request(url + "/login", data=form))
    # the result: the client kept the Secure cookie for HTTPS only, so over plain HTTP it sent none back and
    # the login form was refused for want of its CSRF token; the session never travelled in clear text
    assert status == 403
    assert [c.secure for c in jar if c.name == "immex_session"] == [True]

    # the same login with the cookie sent by hand (as a TLS proxy in front would carry it): accepted, and
    # the session cookie it sets is again Secure and HttpOnly
    by_hand = urllib.request.build_opener(_NoRedirect())
    request = urllib.request.Request(url + "/login", data=form, headers={"Cookie": first.split(";")[0]})
    status, headers, cookies, _ = _open(by_hand, request)
    assert status == 303 and headers["location"] == "/queue"  # logged in
    [session] = [c.lower() for c in cookies if c.startswith("immex_session=")]
    assert "secure" in session and "httponly" in session and "samesite=lax" in session


def test_bodies_other_than_an_upload_are_capped_at_one_mib_before_parsing(default_server):
    """A stranger announcing a 2 MB login form, or a token holder a 2 MB reason, is answered 413 at once:
    the body is not read, let alone parsed (the client sends only a little, so that the early answer does not
    meet a broken pipe). The upload of a corrected file keeps ``max_file_size`` (tests/test_web_api.py)."""
    opener = urllib.request.build_opener(_NoRedirect())
    for path, headers in (("/login", {"Content-Type": "application/x-www-form-urlencoded"}),
                          ("/api/documents/x/discard", {"Content-Type": "application/json",
                                                        "Authorization": f"Bearer {default_server.token}"})):
        request = urllib.request.Request(default_server.url + path, data=b"x" * 1000,
                                         headers={**headers, "Content-Length": "2000000"})
        status, _, _, body = _open(opener, request)
        assert status == 413 and "tamaño máximo" in body, path
    # a body of ordinary size to the same API path goes on to the checks (a viewer may not discard)
    request = urllib.request.Request(default_server.url + "/api/documents/x/discard", data=b'{"reason": "x"}',
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {default_server.token}"})
    assert _open(opener, request)[0] == 403  # read by the server, refused by the token's scope


def test_a_metrics_token_cannot_act_or_read_through_the_pages_either(default_server):
    """The page routes take a bearer token as the API does (and, having no ambient credential, no CSRF token):
    the token's scope binds there too. A Prometheus token of an operator tries the discard form and the queue
    page: refused, and the document stays in the queue."""
    opener = urllib.request.build_opener(_NoRedirect())
    bearer = {"Authorization": f"Bearer {default_server.metrics_token}"}
    form = urllib.parse.urlencode({"reason": "desde prometheus"}).encode()
    request = urllib.request.Request(f"{default_server.url}/documents/{default_server.rejected_id}/discard",
                                     data=form, headers=bearer)
    status, _, _, page = _open(opener, request)
    assert status == 403 and "alcance" in page
    document = f"/documents/{default_server.rejected_id}"
    for path in ("/queue", document, f"{document}/original"):
        assert _open(opener, urllib.request.Request(default_server.url + path, headers=bearer))[0] == 403, path
    assert _open(opener, urllib.request.Request(default_server.url + "/metrics", headers=bearer))[0] == 200
    [state] = [d["state"] for d in default_server.workspace.documents() if d["id"] == default_server.rejected_id]
    assert state == "rejected"
    # a read token reads the pages but cannot act through them
    reader = {"Authorization": f"Bearer {default_server.token}"}
    assert _open(opener, urllib.request.Request(default_server.url + "/queue", headers=reader))[0] == 200


def test_the_data_directory_made_by_the_first_command_is_the_owners_alone(default_server):
    """``users add`` was the first command on this workspace: it made ``var/`` (store, archive, the staging of
    uploads) 0700 and the SQLite file 0600, whatever the umask lets others read elsewhere."""
    var = default_server.workspace.root / "var"  # type: ignore[attr-defined]
    assert var.stat().st_mode & 0o777 == 0o700
    if (var / "gateway.db").exists():  # the SQLite store (IMMEX_TEST_STORE=postgresql keeps rows in the server)
        assert (var / "gateway.db").stat().st_mode & 0o777 == 0o600
    assert (var / "archive").stat().st_mode & 0o777 == 0o700


def test_a_note_or_a_reason_longer_than_its_limit_is_refused_not_cut(default_server):
    """Notes (2,000 characters) and reasons (500) are refused whole, with the limit named, before anything is
    written: the audit trail holds no note of the attempt."""
    opener = urllib.request.build_opener(_NoRedirect())
    bearer = {"Authorization": f"Bearer {default_server.act_token}"}
    document = f"{default_server.url}/documents/{default_server.rejected_id}"
    for path, field, limit in (("/note", "note", 2000), ("/discard", "reason", 500)):
        form = urllib.parse.urlencode({field: "n" * (limit + 1)}).encode()
        status, _, _, page = _open(opener, urllib.request.Request(document + path, data=form, headers=bearer))
        assert status == 400 and f"admite hasta {limit} caracteres" in page, path
    request = urllib.request.Request(f"{default_server.url}/api/documents/{default_server.rejected_id}",
                                     headers=bearer)
    detail = json.loads(_open(opener, request)[3])
    assert detail["state"] == "rejected" and not [a for a in detail["audit"] if a["action"] == "note"]
    form = urllib.parse.urlencode({"note": "n" * 2000}).encode()  # at the limit: taken
    assert _open(opener, urllib.request.Request(document + "/note", data=form, headers=bearer))[0] == 303
    detail = json.loads(_open(opener, request)[3])
    assert [len(a["reason"]) for a in detail["audit"] if a["action"] == "note"] == [2000]
