"""Logs for machines and people: JSON lines with the fields log shippers index, console lines, no secret ever."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import write_config

TOKEN = "tok-9f8e7d6c5b4a-no-debe-verse"
DB_PASSWORD = "clave-bd-4u8i-no-debe-verse"


class _EchoingServer(BaseHTTPRequestHandler):
    """A badly behaved inventory API: answers 500 and quotes the caller's credentials in the body."""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = f"error: token {self.headers.get('Authorization', '').removeprefix('Bearer ')} rejected".encode()
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def echoing_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingServer)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/documents"
    server.shutdown()
    server.server_close()


def _workspace(workspace, url: str, fmt: str) -> None:
    extra = f"""
[[sink]]
name = "inventario-api"
type = "http"
url = "{url}"
token_env = "TEST_ANNEX24_TOKEN"
max_attempts = 1

[[sink]]
name = "almacen-bd"
type = "sql"
url_env = "TEST_WAREHOUSE_URL"
max_attempts = 1
"""
    config = write_config(workspace.root, extra_sink=extra)
    text = config.read_text().replace('level = "warning"', 'level = "info"').replace('"json"', f'"{fmt}"')
    config.write_text(text)


def _env() -> dict[str, str]:
    return {"TEST_ANNEX24_TOKEN": TOKEN,
            "TEST_WAREHOUSE_URL": f"postgresql://postgres:{DB_PASSWORD}@127.0.0.1:5432/no_existe_i18"}


def test_json_lines_carry_the_fields_and_no_secret(workspace, make_invoice, echoing_server):
    _workspace(workspace, echoing_server, "json")
    (workspace.inbox / "factura-ñandú.xml").write_bytes(make_invoice(3))
    result = workspace.cli("run", "--once", env=_env())
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]  # every line is one JSON object
    assert lines
    for line in lines:
        assert {"timestamp", "level", "event", "node"} <= set(line), line
    received = next(line for line in lines if line["event"] == "document received")
    assert received["source"] == "broker-drop" and received["document_id"]
    assert received["file"] == "factura-ñandú.xml"
    assert '"factura-ñandú.xml"' in result.stderr  # UTF-8 as written, not \\u escapes
    dead = {line["sink"]: line for line in lines if line["event"] == "delivery dead-lettered"}
    assert set(dead) == {"inventario-api", "almacen-bd"}
    assert all(line["document_id"] == received["document_id"] for line in dead.values())
    assert "***" in dead["inventario-api"]["error"]  # the echoed token, masked
    assert TOKEN not in result.stderr and DB_PASSWORD not in result.stderr
    show = workspace.cli("queue", "show", received["document_id"], "--json", env=_env())
    assert TOKEN not in show.stdout + show.stderr


def test_console_lines_for_people(workspace, make_invoice, echoing_server):
    _workspace(workspace, echoing_server, "console")
    (workspace.inbox / "factura.xml").write_bytes(make_invoice(4))
    result = workspace.cli("run", "--once", env=_env())
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    received = next(line for line in lines if "document received" in line)
    assert not received.startswith("{") and "source=broker-drop" in received and "document_id=" in received
    assert "[info" in received
    assert any("delivery dead-lettered" in line and "sink=inventario-api" in line for line in lines)
    assert TOKEN not in result.stderr and DB_PASSWORD not in result.stderr


_SHAPES = """
import logging
from gateway import logs

logs.configure("debug", "json", node="nodo-1")
logs.hide("s3cr3t-from-a-file")
log = logs.get("test")
log.error("connect failed", url="postgresql://gw:pa55word@db.example/immex",
          error="Authorization: Bearer abc.def.ghi-jkl refused; key s3cr3t-from-a-file", password="hunter22",
          options={"token": "x1y2z3", "token_env": "ANNEX24_TOKEN", "host": "sftp.example"})
try:
    raise ConnectionError("could not reach sftp://immex:otra-clave@sftp.example/salida")
except ConnectionError:
    log.exception("poll failed", sink="inventario")
logging.getLogger("somelibrary.transport").warning("Authentication (password) failed: s3cr3t-from-a-file")
logging.getLogger("httpx").info("HTTP Request: POST …")  # libraries' info lines stay out
"""


def test_every_secret_shape_is_masked():
    import subprocess
    import sys

    from tests.conftest import REPO

    result = subprocess.run([sys.executable, "-c", _SHAPES], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stderr
    for secret in ("pa55word", "abc.def.ghi-jkl", "s3cr3t-from-a-file", "hunter22", "x1y2z3", "otra-clave"):
        assert secret not in out
    first, second, library = (json.loads(line) for line in out.splitlines())
    assert library["logger"] == "somelibrary.transport" and library["event"].endswith("failed: ***")
    assert library["level"] == "warning" and library["node"] == "nodo-1"
    assert first["url"] == "postgresql://gw:***@db.example/immex"
    assert first["options"]["host"] == "sftp.example" and first["node"] == "nodo-1"
    assert "sftp://immex:***@sftp.example" in second["exception"] and second["sink"] == "inventario"
