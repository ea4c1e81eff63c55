"""A real ``immex-gateway serve`` over a workspace full of real rejected documents, and Debian's Chromium.

The documents are produced by ``immex-gateway run --once`` on broken invoices and malformed files;
users are created with ``immex-gateway users add``. One server serves a whole test session: each
test works on its own documents (by file name), so tests do not depend on one another's order.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, run_cli, write_config

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-first-run"]
PASSWORDS = {"ana": "operadora-de-aduanas", "victor": "solo-consulta-123", "adela": "administra-todo-1",
             "rita": "bloqueada-tras-intentos", "sesiones": "revocable-en-el-acto"}
# rita: only the login rate-limit test uses her; sesiones: only the session and token revocation tests
ROLES = {"ana": "operator", "victor": "viewer", "adela": "admin", "rita": "viewer", "sesiones": "operator"}
CCE = "{http://www.sat.gob.mx/ComercioExterior20}"
PEDIMENTO = "26 47 3459 6000123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    root: Path
    config: Path
    url: str
    process: subprocess.Popen
    tokens: dict[str, str]
    passwords = PASSWORDS
    pedimento = PEDIMENTO

    def cli(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return run_cli(*args, "-c", str(self.config), env=env)

    def documents(self) -> dict[str, dict]:
        """file name → document (the newest with that name), read from the server's store."""
        store = _store(self.config)
        try:
            return {d.filename: d.summary() for d in reversed(store.list_documents())}
        finally:
            store.close()

    def doc(self, filename: str) -> dict:
        return self.documents()[filename]

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                token: str | None = None) -> tuple[int, bytes, dict[str, str]]:
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), dict(exc.headers)

    def api(self, method: str, path: str, payload: dict | None = None, token: str | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict]:
        body = json.dumps(payload).encode() if payload is not None else None
        status, data, _ = self.request(method, "/api" + path, body,
                                       {"Content-Type": "application/json", **(headers or {})}, token)
        return status, json.loads(data or b"{}")


def _cce_usd(value: str):
    def mutate(root) -> None:
        root.find(f".//{CCE}ComercioExterior").set("TotalUSD", value)
    return mutate


def write_inbox(inbox: Path, make_invoice) -> None:
    """Real rejected documents, each named after the test that works on it."""
    from gateway.demo.generate import pedimento as pedimentos

    inbox.mkdir(parents=True, exist_ok=True)
    mfile_name, mfile_data = pedimentos.mfile([pedimentos.sample_pedimento(1, 3, program=None)],  # 26 24 3456 6000001
                                              name="m3456077.245")  # a name no other server's inbox uses
    files = {
        "total-alterado.xml": make_invoice(2).replace(b' Total="', b' Total="9', 1),  # CFDI-TOTALS + CFDI-SEAL
        "roto.xml": make_invoice(3)[:1500],  # XML-MALFORMED
        "cancelada.xml": make_invoice(4, mutate=_cce_usd("1.00")),  # CFDI-CCE-USD, correctly sealed
        "lote-1.xml": make_invoice(5, mutate=_cce_usd("2.00")),
        "lote-2.xml": make_invoice(6, mutate=_cce_usd("3.00")),
        "api-retry.xml": make_invoice(7, mutate=_cce_usd("4.00")),
        "api-discard.xml": make_invoice(8, mutate=_cce_usd("5.00")),
        "api-replace.xml": make_invoice(9)[:900],
        "api-xxe.xml": make_invoice(10)[:800],
        "api-grande.xml": make_invoice(11)[:700],
        "api-copia.xml": make_invoice(14, mutate=_cce_usd("7.00")),  # replaced by a copy of ok.xml: refused
        "api-otro.xml": make_invoice(15, mutate=_cce_usd("8.00")),  # replaced by another invoice: confirmed
        "api-metrics-discard.xml": make_invoice(17, mutate=_cce_usd("9.00")),  # a metrics token cannot discard
        "m3430001.txt": f"500|1|3459|47|{PEDIMENTO}|\n501|3459|6000123|A1|\n".encode(),  # PED-SEQUENCE
        "vacio.xml": b"",  # FILE-EMPTY
        "ok.xml": make_invoice(1),  # forwarded: not in the queue
        "deshacer.xml": make_invoice(14, mutate=_cce_usd("6.00")),  # discarded, then the discard undone
        "tarde.xml": make_invoice(13)[:600],  # XML-MALFORMED; made to arrive at 21:30 local time (the local-day test)
        # pedimentos without their IMMEX program (PED-IMMEX): an M file and a Data Stage ZIP, searched by number
        mfile_name: mfile_data,
        "1839483.zip": pedimentos.datastage_zip([pedimentos.sample_pedimento(2, 2, patente="3457", program=None)]),
    }
    for name, data in files.items():
        (inbox / name).write_bytes(data)


def _store(config: Path):  # noqa: ANN202 - the store the configuration names (SQLite, or PostgreSQL)
    from gateway.app import load_settings
    from gateway.store import open_store

    return open_store(load_settings(config).store_url)


def _users(config: Path) -> dict[str, str]:
    """The users of the tests (``users add`` itself is tested through the CLI in test_web_api.py)."""
    from gateway.web import auth

    store = _store(config)
    try:
        for name, role in ROLES.items():
            auth.add_user(store, name, role, PASSWORDS[name])
        return {"ana": auth.new_token(store, "ana", "tests", scope="act"),
                "victor": auth.new_token(store, "victor", "tests", scope="read")}
    finally:
        store.close()


def wait_ready(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read() if process.stderr else ""
            raise RuntimeError(f"serve exited with {process.returncode}: {error}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # 503 is an answer too
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("serve did not answer /healthz in time")


def start_server(root: Path, make_invoice, identities, extra_config: str = "", config: Path | None = None) -> Server:
    """``config``: a workspace's own configuration (else the generic one of ``tests.conftest.write_config``)."""
    from gateway.demo.generate.cfdi import write_certificate

    _, pac = identities
    write_certificate(pac, root / "certs")
    config = config or write_config(root)
    # plain HTTP on loopback, said explicitly (the default is a Secure cookie); the tests' own client is the
    # trusted proxy so that X-Forwarded-For can name the clients of the login-throttling test, whose first wait
    # is made long (10 min) so that its 429s do not depend on how fast this machine is
    extra_config = ('\n[web]\ncookie_secure = false\ntrusted_proxies = ["127.0.0.1"]\nlogin_delay = "10m"\n'
                    + extra_config)
    if extra_config:
        config.write_text(config.read_text(encoding="utf-8") + extra_config, encoding="utf-8")
    write_inbox(root / "inbox", make_invoice)
    ran = run_cli("run", "--once", "-c", str(config))
    assert ran.returncode == 0, ran.stderr
    tokens = _users(config)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "-c", str(config), "--port", str(port)],
                               cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
    except BaseException:
        process.kill()
        raise
    return Server(root, config, url, process, tokens)


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def web_server(tmp_path_factory, make_invoice, identities):
    server = start_server(tmp_path_factory.mktemp("web"), make_invoice, identities)
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def browser_login(browser, server: Server, name: str):
    """A fresh browser context (its own cookies) logged in as ``name``; returns the page."""
    context = browser.new_context(base_url=server.url, locale="es-MX", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto("/queue")
    page.fill("#username", name)
    page.fill("#password", PASSWORDS[name])
    page.click("#login-submit")
    page.wait_for_url("**/queue")
    return page


@pytest.fixture
def log_in(browser, web_server):
    """``log_in(name)`` → a page of a fresh browser context logged in as that user."""
    return lambda name: browser_login(browser, web_server, name)
