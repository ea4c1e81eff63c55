"""The session cookie is ``Secure`` by default, over real HTTP to a real ``serve`` started with no ``[web]`` keys.

The shared web server of the other API tests says ``cookie_secure = false`` (plain HTTP on loopback); this one
shows what an operator who writes nothing gets: a cookie that a browser or an HTTP client keeps for HTTPS only,
so a login made over plain HTTP is never carried back in clear text.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

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


def test_without_cookie_secure_the_session_cookie_is_secure_and_not_sent_back_over_plain_http(workspace):
    assert "[web]" not in workspace.config.read_text(encoding="utf-8")  # nothing said: the defaults
    env = {"IMMEX_GATEWAY_PASSWORD": PASSWORD}
    added = workspace.cli("users", "add", "lupita", "--role", "viewer", env=env)
    assert added.returncode == 0, added.stderr
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "-c", str(workspace.config), "--port",
                                str(port)], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(url, process)
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
    finally:
        process.terminate()
        process.wait(timeout=15)
